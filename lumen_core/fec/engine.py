"""The erasure-coding engine interface and its factory.

Both engines compute the same code (see gf256.py): parity from the same data is
byte-identical, so host and client may use different engines.

``encode(data, m)``: ``data`` is a C-contiguous uint8 array of k rows (equal-size data
shards); returns an m-row array of parity shards. ``encode_into(shards, k)`` writes the
parity of the first k rows of ``shards`` into its remaining rows.

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

    def encode_into(self, shards: np.ndarray, k: int) -> None: ...

    def recover(self, k: int, m: int, shards: Mapping[int, Buffer]) -> tuple[list[int], np.ndarray]: ...

    def recover_rows(self, k: int, m: int, rows: list[int], survivors: np.ndarray) -> tuple[list[int], np.ndarray]: ...

    def reconstruct(self, k: int, m: int, shards: Mapping[int, Buffer]) -> np.ndarray: ...


def pick_survivors(k: int, m: int, shards: Mapping[int, Buffer]) -> list[int]:
    """The k shard indices to rebuild from: data shards first (they need no arithmetic)."""
    gf256.check_shape(k, m)
    present = sorted(i for i in shards if 0 <= i < k + m)
    if len(present) < k:
        raise FecError(f"{len(present)} shards cannot rebuild a block of {k}")
    return present[:k]


MatrixOp = Callable[[np.ndarray], np.ndarray]
MatrixProduct = Callable[[np.ndarray, np.ndarray], np.ndarray]


def decode_matrix(
    matrix: np.ndarray, k: int, rows: list[int], invert: MatrixOp, matmul: MatrixProduct
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
    parity = matrix[[i for i in rows if i >= k]]
    inverse = invert(parity[:, missing])
    decode = np.empty((len(missing), k), dtype=np.uint8)
    if known:
        decode[:, : len(known)] = matmul(inverse, parity[:, known])
    decode[:, len(known) :] = inverse
    return missing, decode


class EngineBase:
    """What both engines share; a subclass supplies the field arithmetic.

    ``_generator(k, m)`` builds the generator matrix, ``_invert`` inverts a square
    matrix, and ``_multiply(coefs, rows)`` multiplies a coefficient matrix by rows of
    bytes; ``_encoder(k, m)`` may return something ``_encode_with`` uses faster.
    """

    name = "base"

    # Tables for many (k, m) shapes are kept; a session uses a handful. The bound keeps
    # a peer that cycles through shapes from growing memory without end.
    MAX_CACHED_SHAPES = 256

    def __init__(self) -> None:
        self._matrices: dict[tuple[int, int], np.ndarray] = {}

    def _generator(self, k: int, m: int) -> np.ndarray:
        raise NotImplementedError

    def _invert(self, mat: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _multiply(self, coefs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _matrix(self, k: int, m: int) -> np.ndarray:
        key = (k, m)
        mat = self._matrices.get(key)
        if mat is None:
            gf256.check_shape(k, m)
            if len(self._matrices) >= self.MAX_CACHED_SHAPES:
                self._matrices.clear()
            mat = self._matrices[key] = self._generator(k, m)
        return mat

    def encode(self, data: np.ndarray, m: int) -> np.ndarray:
        k = data.shape[0]
        if m == 0:
            return np.zeros((0, data.shape[1]), dtype=np.uint8)
        return self._multiply(self._matrix(k, m)[k:], np.ascontiguousarray(data))

    def encode_into(self, shards: np.ndarray, k: int) -> None:
        """Fill rows k.. of ``shards`` (one array: data rows, then parity rows) with the
        parity of rows ..k: what the packetizer does per block, without a copy."""
        if shards.shape[0] > k:
            shards[k:] = self.encode(shards[:k], shards.shape[0] - k)

    def recover(self, k: int, m: int, shards: Mapping[int, Buffer]) -> tuple[list[int], np.ndarray]:
        """The data shards missing from ``shards`` and their rebuilt rows, in that order."""
        rows = pick_survivors(k, m, shards)
        if rows[-1] < k:
            return [], np.zeros((0, 0), dtype=np.uint8)
        survivors = np.stack([np.frombuffer(shards[i], dtype=np.uint8) for i in rows])
        return self.recover_rows(k, m, rows, survivors)

    def recover_rows(self, k: int, m: int, rows: list[int], survivors: np.ndarray) -> tuple[list[int], np.ndarray]:
        """Like recover, for callers that already hold the survivors as one array.

        ``rows``: k shard indices as pick_survivors orders them (ascending, so data
        first); ``survivors``: those shards, row for row.
        """
        missing, decode = decode_matrix(self._matrix(k, m), k, rows, self._invert, self._multiply)
        return missing, self._multiply(decode, survivors)

    def reconstruct(self, k: int, m: int, shards: Mapping[int, Buffer]) -> np.ndarray:
        missing, rebuilt = self.recover(k, m, shards)
        length = len(next(iter(shards.values())))
        data = np.empty((k, length), dtype=np.uint8)
        for i in range(k):
            if i in shards:
                data[i] = np.frombuffer(shards[i], dtype=np.uint8)
        if missing:
            data[missing] = rebuilt
        return data


class NumpyEngine(EngineBase):
    """Pure numpy; always available."""

    name = "numpy"

    def _generator(self, k: int, m: int) -> np.ndarray:
        return gf256.cauchy_matrix(k, m)

    def _invert(self, mat: np.ndarray) -> np.ndarray:
        return gf256.invert(mat)

    def _multiply(self, coefs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return gf256.matmul(coefs, rows)


def default_engine() -> FecEngine:
    """ISA-L when the system library loads, numpy otherwise."""
    from .isal import IsalEngine, load_isal

    lib = load_isal()
    return IsalEngine(lib) if lib is not None else NumpyEngine()
