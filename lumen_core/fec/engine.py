"""The erasure-coding engine interface, lumen/1's two schemes, and the numpy engine.

Scheme 0 is Reed-Solomon over GF(2^8) with M3's Cauchy rows (gf8.py; engines: ISA-L,
numpy); scheme 1 is Leopard over GF(2^16) (gf16.py; reed-solomon-simd through the
``reed-solomon-leopard`` binding). Engines of one scheme produce identical recovery
shards, so host and client may use different ones.

``encode_into(shards, k)``: ``shards`` is a C-contiguous uint8 array of k data rows and
then m rows for the recovery shards, all the same (for GF16: even) length; the
recovery rows are overwritten with the encoding of the data rows.

``rebuild(k, m, rows, have, recovery)``: the receiver's decode, in place. ``rows`` is a
k-row uint8 array (the block's data shards where they sit in the frame); ``have``
flags, per wire index 0..k+m-1 (0..k-1 data, k..k+m-1 recovery), which shards arrived
(non-zero); ``recovery`` maps the recovery indices that arrived to their bytes. The
missing data rows are written into ``rows``; returns how many. Raises FecError for
fewer than k shards or a shape the scheme cannot code.

``recover(engine, k, m, present)`` is the same decode for a caller holding shards by
index rather than a frame.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, Protocol

import numpy as np

from ..errors import FecError
from . import gf8

Buffer = bytes | bytearray | memoryview

GF8: Final = 0
GF16: Final = 1
SCHEME_NAMES: Final = {GF8: "gf8", GF16: "gf16"}
# The most shards (data + recovery) one block may have under each scheme.
MAX_SHARDS: Final = {GF8: gf8.MAX_SHARDS, GF16: 65535}


class FecEngine(Protocol):
    name: str
    scheme: int

    def supports(self, k: int, m: int) -> bool: ...

    def encode_into(self, shards: np.ndarray, k: int) -> None: ...

    def rebuild(self, k: int, m: int, rows: np.ndarray, have: Buffer, recovery: Mapping[int, bytes]) -> int: ...


def parity_count(k: int, percent: int) -> int:
    """m for a block of k data shards: ``ceil(k * percent / 100)`` (0 when percent is 0)."""
    return (k * percent + 99) // 100


def recover(engine: FecEngine, k: int, m: int, present: Mapping[int, Buffer]) -> tuple[list[int], np.ndarray]:
    """The data indices missing from ``present`` (wire index -> shard bytes, all one
    length) and their rebuilt rows, in that order: ``rebuild`` on rows of its own."""
    length = len(next(iter(present.values()), b""))
    rows = np.zeros((max(k, 0), length), dtype=np.uint8)
    have = bytearray(max(k + m, 0))
    for i, shard in present.items():
        if 0 <= i < k:
            rows[i] = np.frombuffer(shard, dtype=np.uint8)
        if 0 <= i < k + m:
            have[i] = 1
    engine.rebuild(k, m, rows, have, {i: bytes(b) for i, b in present.items() if k <= i < k + m})
    missing = [i for i in range(k) if not have[i]]
    return missing, rows[missing] if missing else np.zeros((0, 0), dtype=np.uint8)


MatrixOp = Callable[[np.ndarray], np.ndarray]
MatrixProduct = Callable[[np.ndarray, np.ndarray], np.ndarray]


def decode_matrix(
    matrix: np.ndarray, k: int, rows: list[int], invert: MatrixOp, matmul: MatrixProduct
) -> np.ndarray:
    """The rows that rebuild the missing data shards from the survivors ``rows``.

    With data shards picked first, the survivors are k - e data shards and e recovery
    shards. Only an e x e submatrix of the Cauchy rows needs inverting (e = data shards
    lost), not k x k: recovery row r minus the known data terms equals C[r, D] times
    the missing data D, so D = C[R, D]^-1 (r_R + C[R, known] d_known). Returns an
    e x k matrix over ``rows`` in order, one row per missing data shard, lowest first.
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
    return decode


class Gf8Engine:
    """What the GF(2^8) engines share; a subclass supplies the field arithmetic:
    ``_invert`` inverts a square matrix, ``_multiply(coefs, rows)`` multiplies a
    coefficient matrix by rows of bytes."""

    name = "gf8"
    scheme = GF8

    # Matrices for many (k, m) shapes are kept; a session uses a handful. The bound
    # keeps a peer that cycles through shapes from growing memory without end.
    MAX_CACHED_SHAPES: Final = 256

    def __init__(self) -> None:
        self._matrices: dict[tuple[int, int], np.ndarray] = {}

    def _invert(self, mat: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _multiply(self, coefs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def supports(self, k: int, m: int) -> bool:
        return k >= 1 and m >= 0 and k + m <= gf8.MAX_SHARDS

    def _matrix(self, k: int, m: int) -> np.ndarray:
        key = (k, m)
        mat = self._matrices.get(key)
        if mat is None:
            if len(self._matrices) >= self.MAX_CACHED_SHAPES:
                self._matrices.clear()
            mat = self._matrices[key] = gf8.generator_matrix(k, m)
        return mat

    def encode(self, data: np.ndarray, m: int) -> np.ndarray:
        """The m recovery shards of the k rows of ``data``."""
        k = data.shape[0]
        if m == 0:
            gf8.check_shape(k, m)
            return np.zeros((0, data.shape[1]), dtype=np.uint8)
        return self._multiply(self._matrix(k, m)[k:], np.ascontiguousarray(data))

    def encode_into(self, shards: np.ndarray, k: int) -> None:
        if shards.shape[0] > k:
            shards[k:] = self.encode(shards[:k], shards.shape[0] - k)

    def rebuild(self, k: int, m: int, rows: np.ndarray, have: Buffer, recovery: Mapping[int, bytes]) -> int:
        gf8.check_shape(k, m)
        flags = np.frombuffer(have, dtype=np.uint8, count=k + m)
        data = np.flatnonzero(flags[:k])
        missing = np.flatnonzero(flags[:k] == 0)
        if missing.size == 0:
            return 0
        extra = sorted(i for i in recovery if k <= i < k + m and flags[i])[: missing.size]
        if len(extra) < missing.size:
            raise FecError(f"{data.size + len(extra)} shards cannot rebuild a block of {k}")
        order = [*data.tolist(), *extra]  # data shards first: they need no arithmetic
        decode = decode_matrix(self._matrix(k, m), k, order, self._invert, self._multiply)
        self._rebuild_rows(decode, rows, data, [recovery[i] for i in extra], missing)
        return int(missing.size)

    def _rebuild_rows(self, decode: np.ndarray, rows: np.ndarray, data: np.ndarray, extra: list[bytes],
                      missing: np.ndarray) -> None:
        """rows[missing] = decode x (rows[data] then the extra shards), in that order."""
        survivors = np.concatenate([rows[data], np.stack([np.frombuffer(b, dtype=np.uint8) for b in extra])])
        rows[missing] = self._multiply(decode, survivors)


class NumpyEngine(Gf8Engine):
    """GF(2^8) in pure numpy; always available."""

    name = "gf8 numpy"

    def _invert(self, mat: np.ndarray) -> np.ndarray:
        return gf8.invert(mat)

    def _multiply(self, coefs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return gf8.matmul(coefs, rows)
