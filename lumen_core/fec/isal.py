"""Intel ISA-L erasure coding through ctypes (Debian ``libisal2``): GF(2^8), scheme 0.

ISA-L's ``ec_encode_data`` runs any coding matrix with SIMD tables at tens of Gbit/s
on one core, two orders of magnitude above numpy. ``ec_init_tables`` takes the matrix
from us, so ISA-L runs M3's Cauchy rows (gf8.py) although its own
``gf_gen_cauchy1_matrix`` builds another matrix (never used here).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

import numpy as np

from ..errors import FecError
from .engine import Gf8Engine

_u8p = ctypes.POINTER(ctypes.c_ubyte)


@functools.cache  # one load per process: a session makes an engine per packetizer and reassembler
def load_isal() -> ctypes.CDLL | None:
    for name in (ctypes.util.find_library("isal"), "libisal.so.2"):
        if not name:
            continue
        try:
            lib = ctypes.CDLL(name)
        except OSError:
            continue
        lib.gf_invert_matrix.argtypes = [_u8p, _u8p, ctypes.c_int]
        lib.gf_invert_matrix.restype = ctypes.c_int
        lib.ec_init_tables.argtypes = [ctypes.c_int, ctypes.c_int, _u8p, _u8p]
        lib.ec_encode_data.argtypes = [
            ctypes.c_int, ctypes.c_int, ctypes.c_int, _u8p,
            ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p),
        ]
        return lib
    return None


def _u8(arr: np.ndarray) -> ctypes._Pointer[ctypes.c_ubyte]:
    return arr.ctypes.data_as(_u8p)


def _row_pointers(arr: np.ndarray) -> ctypes.Array[ctypes.c_void_p]:
    """The address of each row of ``arr``, as ISA-L's ``unsigned char **``.

    Computed by numpy and wrapped without a copy: building the ctypes array from a
    Python sequence cost 30 us for a block's 90 rows, a third of the whole encode.
    """
    rows, stride = arr.shape[0], arr.strides[0]
    addresses = arr.__array_interface__["data"][0] + stride * np.arange(rows, dtype=np.uintp)
    table: ctypes.Array[ctypes.c_void_p] = (ctypes.c_void_p * rows).from_buffer(addresses)  # keeps `addresses` alive
    return table


class IsalEngine(Gf8Engine):
    name = "gf8 isa-l"

    def __init__(self, lib: ctypes.CDLL) -> None:
        super().__init__()
        self._lib = lib
        # Per (k, m): the encode tables and a ready ctypes pointer to them.
        self._encode_tables: dict[tuple[int, int], tuple[np.ndarray, ctypes._Pointer[ctypes.c_ubyte]]] = {}

    def _invert(self, mat: np.ndarray) -> np.ndarray:
        n = mat.shape[0]
        src = np.array(mat, dtype=np.uint8, order="C")  # ISA-L overwrites its input
        out = np.empty((n, n), dtype=np.uint8)
        if self._lib.gf_invert_matrix(_u8(src), _u8(out), n) != 0:
            raise FecError("matrix is singular")
        return out

    def _tables(self, coefs: np.ndarray) -> np.ndarray:
        rows, k = coefs.shape
        coefs = np.ascontiguousarray(coefs, dtype=np.uint8)
        tables = np.empty(32 * k * rows, dtype=np.uint8)
        self._lib.ec_init_tables(k, rows, _u8(coefs), _u8(tables))
        return tables

    def _run(self, tables: ctypes._Pointer[ctypes.c_ubyte], sources: np.ndarray, out: np.ndarray) -> None:
        """``out`` = the coding rows behind ``tables`` times ``sources``: ISA-L's encode
        is a matrix product. Both arrays C-contiguous by rows."""
        k, length = sources.shape
        self._lib.ec_encode_data(length, k, out.shape[0], tables, _row_pointers(sources), _row_pointers(out))

    def _multiply(self, coefs: np.ndarray, rows: np.ndarray) -> np.ndarray:
        out = np.empty((coefs.shape[0], rows.shape[1]), dtype=np.uint8)
        tables = self._tables(coefs)
        self._run(_u8(tables), np.ascontiguousarray(rows), out)
        return out

    def _rebuild_rows(self, decode: np.ndarray, rows: np.ndarray, data: np.ndarray, extra: list[bytes],
                      missing: np.ndarray) -> None:
        # ISA-L takes a pointer per row: the survivors are read where they are (the frame's
        # rows, the recovery shards' bytes) and the rebuilt rows written into the frame.
        base, stride = rows.__array_interface__["data"][0], rows.strides[0]
        sources = (ctypes.c_void_p * (data.size + len(extra)))()
        sources[: data.size] = (base + stride * data).tolist()
        keep = [ctypes.c_char_p(b) for b in extra]  # alive until the call returns
        sources[data.size :] = [ctypes.cast(b, ctypes.c_void_p).value for b in keep]
        targets = (ctypes.c_void_p * missing.size)(*(base + stride * missing).tolist())
        tables = self._tables(decode)
        self._lib.ec_encode_data(rows.shape[1], decode.shape[1], missing.size, _u8(tables), sources, targets)

    def _encoder(self, k: int, m: int) -> ctypes._Pointer[ctypes.c_ubyte]:
        """The encode tables of a shape, built once and reused for every block of it."""
        cached = self._encode_tables.get((k, m))
        if cached is None:
            if len(self._encode_tables) >= self.MAX_CACHED_SHAPES:
                self._encode_tables.clear()
            tables = self._tables(self._matrix(k, m)[k:])
            cached = self._encode_tables[(k, m)] = (tables, _u8(tables))
        return cached[1]

    def encode(self, data: np.ndarray, m: int) -> np.ndarray:
        k, length = data.shape
        out = np.empty((m, length), dtype=np.uint8)
        if m:
            self._run(self._encoder(k, m), np.ascontiguousarray(data), out)
        return out

    def encode_into(self, shards: np.ndarray, k: int) -> None:
        count = shards.shape[0]
        if count == k:
            return
        if shards.strides[1] != 1:
            super().encode_into(shards, k)
            return
        # Rows may sit inside wider rows (the packetizer's shards follow each header):
        # ISA-L takes a pointer per row, so any row stride works.
        self._run(self._encoder(k, count - k), shards[:k], shards[k:])  # parity in place
