"""Intel ISA-L behind the engine contract: byte for byte what the numpy engine makes, on
rows inside wider rows as the packetizer lays them out."""

from __future__ import annotations

import numpy as np
import pytest
from fec_blocks import block
from hypothesis import given, settings

from lumen_core.fec import NumpyEngine
from lumen_core.fec.isal import IsalEngine, load_isal

ISAL = load_isal()


needs_isal = pytest.mark.skipif(ISAL is None, reason="Intel ISA-L (Debian libisal2) is not installed")


@needs_isal
@settings(max_examples=150, deadline=None)
@given(block())
def test_gf8_engines_produce_identical_parity(blk: tuple[int, int, np.ndarray]) -> None:
    k, m, data = blk
    a, b = (np.zeros((k + m, data.shape[1]), dtype=np.uint8) for _ in range(2))
    a[:k] = b[:k] = data
    NumpyEngine().encode_into(a, k)
    IsalEngine(ISAL).encode_into(b, k)
    assert (a == b).all()


@needs_isal
def test_isal_encodes_rows_inside_wider_rows() -> None:
    # The packetizer's shards follow each packet's header: rows with a stride.
    k, m = 5, 2
    packets = np.zeros((k + m, 40 + 64), dtype=np.uint8)
    packets[:k, 40:] = np.random.default_rng(1).integers(0, 256, (k, 64), dtype=np.uint8)
    IsalEngine(ISAL).encode_into(packets[:, 40:], k)
    expected = NumpyEngine().encode(np.ascontiguousarray(packets[:k, 40:]), m)
    assert (packets[k:, 40:] == expected).all() and not packets[:, :40].any()
