"""Reed-Solomon over GF(2^8) in numpy: the reference implementation of lumen/1's scheme 0.

The code (part of the wire contract: LUMEN-M3-WIRE.md §7.1, docs/protocol.md):

- Field: GF(2^8) with the polynomial x^8 + x^4 + x^3 + x^2 + 1 (0x11D), generator 2.
- Systematic: data shards go out unchanged, recovery shards follow. Recovery shard j
  (0..m-1) is the sum over data shards i (0..k-1) of ``inv((m + i) XOR j) * data_i``,
  byte by byte. That is a Cauchy matrix with x_j = j and y_i = m + i (two disjoint
  sets), so every square submatrix is invertible and any k shards rebuild a block.
  It is the matrix of lumen M3's vendored fec-rs (Moonlight's nanors), **not** ISA-L's
  ``gf_gen_cauchy1_matrix`` (``inv(row XOR col)`` with rows from k).
- k + m <= 255 (lumen's limit), k >= 1.

This module is the fallback engine when ISA-L is missing and the cross-check for it in
tests. It is correct first and fast second (about 0.3 Gbit/s).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from ..errors import FecError

POLYNOMIAL: Final = 0x11D
MAX_SHARDS: Final = 255


def _build_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    exp = np.zeros(512, dtype=np.uint8)
    log = np.zeros(256, dtype=np.int32)
    x = 1
    for i in range(255):
        exp[i] = x
        log[x] = i
        x <<= 1
        if x & 0x100:
            x ^= POLYNOMIAL
    exp[255:510] = exp[0:255]
    # MUL[a, b] = a * b in the field; 64 KiB, the whole multiplication table.
    a = np.arange(256)
    mul = exp[(log[a][:, None] + log[a][None, :]) % 255].astype(np.uint8)
    mul[0, :] = 0
    mul[:, 0] = 0
    return exp, log, mul


EXP, LOG, MUL = _build_tables()
# INV[a] = a^-1 (INV[0] is unused and left 0).
INV: Final = np.array([0] + [int(EXP[(255 - LOG[a]) % 255]) for a in range(1, 256)], dtype=np.uint8)


def gf_inv(a: int) -> int:
    if a == 0:
        raise ZeroDivisionError("0 has no inverse in GF(2^8)")
    return int(INV[a])


def check_shape(k: int, m: int) -> None:
    if not (1 <= k and 0 <= m and k + m <= MAX_SHARDS):
        raise FecError(f"GF(2^8) needs 1 <= k and 0 <= m and k + m <= {MAX_SHARDS}, got k={k} m={m}")


def parity_rows(k: int, m: int) -> np.ndarray:
    """The m x k recovery rows: ``inv((m + i) XOR j)`` in row j, column i."""
    check_shape(k, m)
    j = np.arange(m)[:, None]
    i = np.arange(k)[None, :]
    rows: np.ndarray = INV[(m + i) ^ j]
    return rows


def generator_matrix(k: int, m: int) -> np.ndarray:
    """The (k + m) x k generator: the identity, then the recovery rows."""
    mat = np.zeros((k + m, k), dtype=np.uint8)
    mat[:k] = np.eye(k, dtype=np.uint8)
    mat[k:] = parity_rows(k, m)
    return mat


def matmul(coefs: np.ndarray, shards: np.ndarray) -> np.ndarray:
    """coefs (r x k) times shards (k x n) over the field: an r x n uint8 array."""
    out = np.zeros((coefs.shape[0], shards.shape[1]), dtype=np.uint8)
    for j in range(coefs.shape[1]):
        # MUL[coefs[:, j]] is one 256-entry table per output row; index it by shard j.
        out ^= MUL[coefs[:, j]][:, shards[j]]
    return out


def invert(mat: np.ndarray) -> np.ndarray:
    """Inverse of a square matrix over the field (Gauss-Jordan); FecError if singular."""
    n = mat.shape[0]
    work = np.concatenate([mat.astype(np.uint8), np.eye(n, dtype=np.uint8)], axis=1)
    for col in range(n):
        pivots = np.nonzero(work[col:, col])[0]
        if pivots.size == 0:
            raise FecError("matrix is singular")
        p = col + int(pivots[0])
        if p != col:
            work[[col, p]] = work[[p, col]]
        work[col] = MUL[gf_inv(int(work[col, col]))][work[col]]
        factors = work[:, col].copy()
        factors[col] = 0
        rows = np.nonzero(factors)[0]
        if rows.size:
            work[rows] ^= MUL[factors[rows]][:, work[col]].reshape(rows.size, -1)
    return work[:, n:]
