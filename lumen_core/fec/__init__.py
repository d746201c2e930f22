"""Systematic Reed-Solomon erasure coding for the video plane (see gf256.py for the code)."""

from .engine import FecEngine, NumpyEngine, default_engine

__all__ = ["FecEngine", "NumpyEngine", "default_engine"]
