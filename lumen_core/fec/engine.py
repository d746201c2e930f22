"""The erasure-coding engine interface and its factory.

Both engines compute the same code (see gf256.py): parity from the same data is
byte-identical, so host and client may use different engines.

``encode(data, m)``: ``data`` is a C-contiguous uint8 array of k rows (equal-size data
shards); returns an m-row array of parity shards.

``reconstruct(k, m, shards)``: ``shards`` maps shard index (0..k+m-1) to that shard's
bytes (any buffer: memoryview slices avoid copies), at least k of them, all the same
length; returns the k data shards as a k-row array. Raises FecError when fewer than k
shards are given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from ..errors import FecError
from . import gf256

Buffer = bytes | bytearray | memoryview


class FecEngine(Protocol):
    name: str

    def encode(self, data: np.ndarray, m: int) -> np.ndarray: ...

    def reconstruct(self, k: int, m: int, shards: Mapping[int, Buffer]) -> np.ndarray: ...


def pick_survivors(k: int, m: int, shards: Mapping[int, Buffer]) -> list[int]:
    """The k shard indices to rebuild from: data shards first (they need no arithmetic)."""
    gf256.check_shape(k, m)
    present = sorted(i for i in shards if 0 <= i < k + m)
    if len(present) < k:
        raise FecError(f"{len(present)} shards cannot rebuild a block of {k}")
    return present[:k]


MatrixOp = Callable[..., np.ndarray]


def decode_matrix(
    matrix: np.ndarray,
    k: int,
    rows: list[int],
    invert: MatrixOp = gf256.invert,
    matmul: MatrixOp = gf256.matmul,
) -> tuple[list[int], np.ndarray]:
    """The missing data shards and the rows that rebuild them from the survivors ``rows``.

    With data shards picked first, the survivors are k - e data shards and e parity
    shards. Only an e x e Cauchy submatrix needs inverting (e = data shards lost), not
    k x k: parity row p_r minus the known data terms equals C[r, D] times the missing
    data D, so D = C[P, D]^-1 (p_P + C[P, known] d_known). Returns (missing, e x k matrix
    over ``rows`` in order).
    """
    present = set(rows)
    missing = [i for i in range(k) if i not in present]
    known = [i for i in rows if i < k]
    parity = [i for i in rows if i >= k]
    inverse = invert(matrix[np.ix_(parity, missing)])
    decode = np.empty((len(missing), k), dtype=np.uint8)
    if known:
        decode[:, : len(known)] = matmul(inverse, matrix[np.ix_(parity, known)])
    decode[:, len(known) :] = inverse
    return missing, decode


class NumpyEngine:
    """Pure numpy; always available."""

    name = "numpy"

    def __init__(self) -> None:
        self._matrices: dict[tuple[int, int], np.ndarray] = {}

    def _matrix(self, k: int, m: int) -> np.ndarray:
        key = (k, m)
        mat = self._matrices.get(key)
        if mat is None:
            mat = self._matrices[key] = gf256.cauchy_matrix(k, m)
        return mat

    def encode(self, data: np.ndarray, m: int) -> np.ndarray:
        k = data.shape[0]
        if m == 0:
            return np.zeros((0, data.shape[1]), dtype=np.uint8)
        return gf256.matmul(self._matrix(k, m)[k:], data)

    def reconstruct(self, k: int, m: int, shards: Mapping[int, Buffer]) -> np.ndarray:
        rows = pick_survivors(k, m, shards)
        survivors = np.stack([np.frombuffer(shards[i], dtype=np.uint8) for i in rows])
        if rows[-1] < k:
            return survivors
        missing, decode = decode_matrix(self._matrix(k, m), k, rows)
        data = np.empty_like(survivors)
        known = [i for i in rows if i < k]
        data[known] = survivors[: len(known)]
        data[missing] = gf256.matmul(decode, survivors)
        return data


def default_engine() -> FecEngine:
    """ISA-L when the system library loads, numpy otherwise."""
    from .isal import IsalEngine, load_isal

    lib = load_isal()
    return IsalEngine(lib) if lib is not None else NumpyEngine()
