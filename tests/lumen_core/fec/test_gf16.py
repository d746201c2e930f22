"""Leopard GF(2^16) (M3's scheme 2): any k shards rebuild, k - 1 do not; without the
binding, complete blocks are still taken and anything needing recovery says why."""

from __future__ import annotations

import numpy as np
import pytest
from fec_blocks import block, k_minus_1_do_not, rebuilds
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.errors import FecError
from lumen_core.fec import GF16, engine_for, recover
from lumen_core.fec.gf16 import UnavailableGf16Engine, load_leopard

needs_leopard = pytest.mark.skipif(load_leopard() is None, reason="reed-solomon-leopard is not installed")


@needs_leopard
@settings(max_examples=60, deadline=None)
@given(blk=block(max_total=400, even=True), data=st.data())
def test_gf16_any_k_shards_rebuild_and_k_minus_1_do_not(blk, data) -> None:  # type: ignore[no-untyped-def]
    k, m, shards = blk
    engine = engine_for(GF16)
    lost = data.draw(st.lists(st.integers(0, k + m - 1), unique=True, max_size=m))
    rebuilds(engine, k, m, shards, lost)
    k_minus_1_do_not(engine, k, m, shards)


def test_without_the_leopard_binding_only_complete_blocks_are_taken() -> None:
    engine = UnavailableGf16Engine()
    data = {i: bytes([i]) * 4 for i in range(3)}
    assert recover(engine, 3, 1, data) == ([], pytest.approx(np.zeros((0, 0))))
    with pytest.raises(FecError, match="reed-solomon-leopard"):
        recover(engine, 3, 1, {0: data[0], 1: data[1], 3: b"\x00" * 4})
    with pytest.raises(FecError, match="reed-solomon-leopard"):
        engine.encode_into(np.zeros((4, 4), dtype=np.uint8), 3)
    rows = np.zeros((3, 4), dtype=np.uint8)
    assert engine.rebuild(3, 1, rows, b"\x01\x01\x01\x00", {}) == 0
    with pytest.raises(FecError, match="reed-solomon-leopard"):
        engine.rebuild(3, 1, rows, b"\x01\x00\x01\x01", {3: bytes(4)})
