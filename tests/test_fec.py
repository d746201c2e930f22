"""Erasure coding: M3's GF(2^8) Cauchy rows in every engine, Leopard GF(2^16); any k shards
rebuild a block, k - 1 do not; engines agree with each other byte for byte."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.errors import FecError
from lumen_core.fec import GF8, GF16, NumpyEngine, engine_for, gf8, parity_count, recover
from lumen_core.fec.gf16 import UnavailableGf16Engine, load_leopard
from lumen_core.fec.isal import IsalEngine, load_isal

ISAL = load_isal()
needs_isal = pytest.mark.skipif(ISAL is None, reason="Intel ISA-L (Debian libisal2) is not installed")
needs_leopard = pytest.mark.skipif(load_leopard() is None, reason="reed-solomon-leopard is not installed")
GF8_ENGINES = [NumpyEngine()] + ([IsalEngine(ISAL)] if ISAL is not None else [])


@st.composite
def block(draw: st.DrawFn, max_total: int = 255, even: bool = False) -> tuple[int, int, np.ndarray]:
    k = draw(st.integers(1, 120))
    m = draw(st.integers(1, min(60, max_total - k)))
    length = draw(st.integers(1, 64)) * (2 if even else 1)
    seed = draw(st.integers(0, 2**32 - 1))
    return k, m, np.random.default_rng(seed).integers(0, 256, (k, length), dtype=np.uint8)


def test_field_arithmetic() -> None:
    for a in range(1, 256):
        assert gf8.MUL[a, gf8.gf_inv(a)] == 1
    assert gf8.MUL[0x80, 2] == 0x1D  # x^8 = x^4 + x^3 + x^2 + 1 under 0x11D
    with pytest.raises(ZeroDivisionError):
        gf8.gf_inv(0)


def test_matrix_is_m3s_cauchy_rows_not_isals() -> None:
    mat = gf8.generator_matrix(4, 3)
    assert (mat[:4] == np.eye(4, dtype=np.uint8)).all()
    for j in range(3):
        for i in range(4):
            assert mat[4 + j, i] == gf8.gf_inv((3 + i) ^ j)
    assert gf8.parity_rows(4, 2)[0].tolist() != [71, 167, 122, 186]  # ISA-L's gf_gen_cauchy1 row


def test_parity_count_is_m3s() -> None:
    assert [parity_count(k, 20) for k in (1, 5, 6, 55, 4096)] == [1, 1, 2, 11, 820]
    assert parity_count(250, 15) == 38 and parity_count(7, 0) == 0


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


def _rebuilds(engine, k: int, m: int, data: np.ndarray, lost: list[int]) -> None:  # type: ignore[no-untyped-def]
    shards = np.zeros((k + m, data.shape[1]), dtype=np.uint8)
    shards[:k] = data
    engine.encode_into(shards, k)
    present = {i: shards[i].tobytes() for i in range(k + m) if i not in lost}
    missing, rebuilt = recover(engine, k, m, present)
    assert missing == sorted(i for i in lost if i < k)
    if missing:
        assert (rebuilt == data[missing]).all()
    # The receiver's form: the frame's rows, garbage where shards are missing, rebuilt in place.
    rows = data.copy()
    rows[missing] = 0xA5
    have = bytes(i not in lost for i in range(k + m))
    recovery = {i: b for i, b in present.items() if i >= k}
    assert engine.rebuild(k, m, rows, have, recovery) == len(missing)
    assert (rows == data).all()


@pytest.mark.parametrize("engine", GF8_ENGINES, ids=lambda e: e.name)
@settings(max_examples=60, deadline=None)
@given(blk=block(), data=st.data())
def test_gf8_any_k_shards_rebuild_and_k_minus_1_do_not(engine, blk, data) -> None:  # type: ignore[no-untyped-def]
    k, m, shards = blk
    lost = data.draw(st.lists(st.integers(0, k + m - 1), unique=True, max_size=m))
    _rebuilds(engine, k, m, shards, lost)
    with pytest.raises(FecError):
        recover(engine, k, m, {i: shards[i].tobytes() for i in range(k - 1)})
    with pytest.raises(FecError):
        engine.rebuild(k, m, shards.copy(), bytes(i < k - 1 for i in range(k + m)), {})


@needs_leopard
@settings(max_examples=60, deadline=None)
@given(blk=block(max_total=400, even=True), data=st.data())
def test_gf16_any_k_shards_rebuild_and_k_minus_1_do_not(blk, data) -> None:  # type: ignore[no-untyped-def]
    k, m, shards = blk
    engine = engine_for(GF16)
    lost = data.draw(st.lists(st.integers(0, k + m - 1), unique=True, max_size=m))
    _rebuilds(engine, k, m, shards, lost)
    with pytest.raises(FecError):
        recover(engine, k, m, {i: shards[i].tobytes() for i in range(k - 1)})
    with pytest.raises(FecError):
        engine.rebuild(k, m, shards.copy(), bytes(i < k - 1 for i in range(k + m)), {})


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


def test_engine_for_picks_the_fast_engines() -> None:
    assert engine_for(GF8).name == ("gf8 isa-l" if ISAL is not None else "gf8 numpy")
    assert engine_for(GF16).name.startswith("gf16 leopard" if load_leopard() is not None else "gf16 unavailable")


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
