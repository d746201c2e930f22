"""Systematic erasure coding for the video plane: lumen/1's GF(2^8) and GF(2^16) schemes."""

from .engine import GF8, GF16, FecEngine, NumpyEngine, parity_count, recover
from .select import engine_for

__all__ = ["GF8", "GF16", "FecEngine", "NumpyEngine", "engine_for", "parity_count", "recover"]
