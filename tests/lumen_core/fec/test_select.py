"""Which engine a scheme gets: the fast one this machine has."""

from __future__ import annotations

import pytest

from lumen_core.errors import FecError
from lumen_core.fec import GF8, GF16, engine_for
from lumen_core.fec.gf16 import load_leopard
from lumen_core.fec.isal import load_isal

ISAL = load_isal()


def test_engine_for_picks_the_fast_engines() -> None:
    assert engine_for(GF8).name == ("gf8 isa-l" if ISAL is not None else "gf8 numpy")
    assert engine_for(GF16).name.startswith("gf16 leopard" if load_leopard() is not None else "gf16 unavailable")


def test_a_scheme_m3_does_not_define_is_refused() -> None:
    for scheme in (2, 3, 255):
        with pytest.raises(FecError, match="scheme"):
            engine_for(scheme)
