"""The engine contract over GF(2^8) (M3's Cauchy rows): M3's parity count, any k shards
rebuild a block and k - 1 do not, in every engine this machine has."""

from __future__ import annotations

import numpy as np
import pytest
from fec_blocks import block, k_minus_1_do_not, rebuilds
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.errors import FecError
from lumen_core.fec import GF16, NumpyEngine, engine_for, parity_count, recover
from lumen_core.fec.gf16 import load_leopard
from lumen_core.fec.isal import IsalEngine, load_isal

ISAL = load_isal()


GF8_ENGINES = [NumpyEngine()] + ([IsalEngine(ISAL)] if ISAL is not None else [])


def test_parity_count_is_m3s() -> None:
    assert [parity_count(k, 20) for k in (1, 5, 6, 55, 4096)] == [1, 1, 2, 11, 820]
    assert parity_count(250, 15) == 38 and parity_count(7, 0) == 0


@pytest.mark.parametrize("engine", GF8_ENGINES, ids=lambda e: e.name)
@settings(max_examples=60, deadline=None)
@given(blk=block(), data=st.data())
def test_gf8_any_k_shards_rebuild_and_k_minus_1_do_not(engine, blk, data) -> None:  # type: ignore[no-untyped-def]
    k, m, shards = blk
    lost = data.draw(st.lists(st.integers(0, k + m - 1), unique=True, max_size=m))
    rebuilds(engine, k, m, shards, lost)
    k_minus_1_do_not(engine, k, m, shards)


def test_bad_shapes_are_refused() -> None:
    engine = NumpyEngine()
    for k, m in ((0, 1), (200, 56), (255, 1)):
        assert not engine.supports(k, m)
        with pytest.raises(FecError):
            recover(engine, k, m, {})
    if load_leopard() is not None:
        with pytest.raises(FecError, match="GF\\(2\\^16\\) cannot encode"):
            engine_for(GF16).encode_into(np.zeros((3, 3), dtype=np.uint8), 2)  # odd shard length
    with pytest.raises(FecError):
        engine_for(7)
