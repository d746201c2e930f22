"""Which engine codes a scheme on this machine: the fastest one that loads."""

from __future__ import annotations

from ..errors import FecError
from .engine import GF8, GF16, FecEngine, NumpyEngine
from .gf16 import leopard_engine
from .isal import IsalEngine, load_isal


def engine_for(scheme: int) -> FecEngine:
    """The fastest engine this machine has for ``scheme`` (GF8 or GF16).

    GF8: ISA-L when the system library loads, numpy otherwise. GF16: Leopard through
    the reed-solomon-leopard binding; without it, an engine that encodes nothing and
    decodes nothing (a receiver still takes every block whose data shards all arrive)
    and says why in its name and errors.
    """
    if scheme == GF16:
        return leopard_engine()
    if scheme != GF8:
        raise FecError(f"unknown FEC scheme {scheme}")
    lib = load_isal()
    return IsalEngine(lib) if lib is not None else NumpyEngine()
