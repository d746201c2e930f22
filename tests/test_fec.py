"""The Reed-Solomon code: any k shards rebuild a block, k - 1 do not; engines agree."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.errors import FecError
from lumen_core.fec import NumpyEngine, default_engine, gf256
from lumen_core.fec.isal import IsalEngine, load_isal

ISAL = load_isal()
needs_isal = pytest.mark.skipif(ISAL is None, reason="Intel ISA-L (Debian libisal2) is not installed")
ENGINES = [NumpyEngine()] + ([IsalEngine(ISAL)] if ISAL is not None else [])


@st.composite
def block(draw: st.DrawFn) -> tuple[int, int, np.ndarray]:
    k = draw(st.integers(1, 120))
    m = draw(st.integers(1, min(60, 255 - k)))
    length = draw(st.integers(1, 64))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).integers(0, 256, (k, length), dtype=np.uint8)
    return k, m, data


def test_field_arithmetic() -> None:
    for a in range(1, 256):
        assert gf256.MUL[a, gf256.gf_inv(a)] == 1
    # x^8 = x^4 + x^3 + x^2 + 1 under 0x11D: 2^8 = 0x1D.
    assert gf256.MUL[0x80, 2] == 0x1D
    with pytest.raises(ZeroDivisionError):
        gf256.gf_inv(0)


def test_matrix_is_systematic_cauchy() -> None:
    mat = gf256.cauchy_matrix(4, 3)
    assert (mat[:4] == np.eye(4, dtype=np.uint8)).all()
    assert mat[4, 0] == gf256.gf_inv(4) and mat[6, 3] == gf256.gf_inv(6 ^ 3)


@needs_isal
@settings(max_examples=60, deadline=None)
@given(st.integers(1, 254).flatmap(lambda k: st.tuples(st.just(k), st.integers(1, 255 - k))))
def test_isal_builds_the_same_matrix(km: tuple[int, int]) -> None:
    k, m = km
    assert (IsalEngine(ISAL)._matrix(k, m) == gf256.cauchy_matrix(k, m)).all()


@needs_isal
@settings(max_examples=150, deadline=None)
@given(block())
def test_engines_produce_identical_parity(blk: tuple[int, int, np.ndarray]) -> None:
    _, m, data = blk
    assert (NumpyEngine().encode(data, m) == IsalEngine(ISAL).encode(data, m)).all()


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@settings(max_examples=100, deadline=None)
@given(blk=block())
def test_encode_into_writes_the_parity_encode_returns(engine, blk) -> None:  # type: ignore[no-untyped-def]
    k, m, data = blk
    shards = np.concatenate([data, np.full((m, data.shape[1]), 0xAA, dtype=np.uint8)])
    engine.encode_into(shards, k)
    assert (shards[:k] == data).all() and (shards[k:] == engine.encode(data, m)).all()
    # A strided view (not what the packetizer passes) still gets the right parity.
    wide = np.zeros((k + m, data.shape[1] * 2), dtype=np.uint8)
    wide[:k, ::2] = data
    engine.encode_into(wide[:, ::2], k)
    assert (wide[k:, ::2] == shards[k:]).all() and not wide[:, 1::2].any()


@pytest.mark.parametrize("engine", ENGINES, ids=lambda e: e.name)
@settings(max_examples=150, deadline=None)
@given(blk=block(), data=st.data())
def test_any_k_shards_rebuild_and_k_minus_1_do_not(engine, blk, data) -> None:  # type: ignore[no-untyped-def]
    k, m, block_data = blk
    shards = np.concatenate([block_data, engine.encode(block_data, m)])
    subset = data.draw(st.permutations(range(k + m)))[:k]
    given_shards = {i: shards[i].tobytes() for i in subset}
    assert (engine.reconstruct(k, m, given_shards) == block_data).all()
    given_shards.pop(subset[-1])
    with pytest.raises(FecError):
        engine.reconstruct(k, m, given_shards)


@needs_isal
def test_engines_rebuild_from_each_others_parity() -> None:
    rng = np.random.default_rng(7)
    data = rng.integers(0, 256, (80, 1370), dtype=np.uint8)
    numpy_engine, isal = NumpyEngine(), IsalEngine(ISAL)
    parity = numpy_engine.encode(data, 16)
    shards = {i: row.tobytes() for i, row in enumerate(np.concatenate([data, parity])) if i % 6 != 1}
    assert len(shards) >= 80
    assert (isal.reconstruct(80, 16, shards) == data).all()
    assert (numpy_engine.reconstruct(80, 16, shards) == data).all()


def test_bad_shapes_are_refused() -> None:
    engine = default_engine()
    with pytest.raises(FecError):
        engine.reconstruct(0, 1, {})
    with pytest.raises(FecError):
        engine.reconstruct(200, 56, {})
    with pytest.raises(FecError):
        gf256.cauchy_matrix(250, 10)


def test_default_engine_is_isal_when_installed() -> None:
    assert default_engine().name == ("isa-l" if ISAL is not None else "numpy")
