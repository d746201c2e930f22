"""Random erasure-coded blocks and the rebuild check every engine's tests share."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from lumen_core.errors import FecError
from lumen_core.fec import recover


@st.composite
def block(draw: st.DrawFn, max_total: int = 255, even: bool = False) -> tuple[int, int, np.ndarray]:
    k = draw(st.integers(1, 120))
    m = draw(st.integers(1, min(60, max_total - k)))
    length = draw(st.integers(1, 64)) * (2 if even else 1)
    seed = draw(st.integers(0, 2**32 - 1))
    return k, m, np.random.default_rng(seed).integers(0, 256, (k, length), dtype=np.uint8)


def rebuilds(engine, k: int, m: int, data: np.ndarray, lost: list[int]) -> None:  # type: ignore[no-untyped-def]
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


def k_minus_1_do_not(engine, k: int, m: int, shards: np.ndarray) -> None:  # type: ignore[no-untyped-def]
    """With only k - 1 shards, both forms of recovery refuse."""
    with pytest.raises(FecError):
        recover(engine, k, m, {i: shards[i].tobytes() for i in range(k - 1)})
    with pytest.raises(FecError):
        engine.rebuild(k, m, shards.copy(), bytes(i < k - 1 for i in range(k + m)), {})
