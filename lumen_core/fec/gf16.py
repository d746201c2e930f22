"""Leopard Reed-Solomon over GF(2^16): lumen/1's scheme 1 (LUMEN-M3-WIRE.md §7.2).

The recovery bytes are defined by reed-solomon-simd (lumen M3 pins 3.1.0): its shard
layout (64-byte chunks of 32 low and 32 high bytes of GF(2^16) elements, the tail split
the same way) decides every bit, so lumen uses a binding of the same crate,
``reed-solomon-leopard`` from PyPI, rather than reimplementing it. Its recovery shards
are byte-identical to M3's on every vector.

Wire shard index i < k is original i; index k + j is recovery j. Shards must have an
even length; a block needs ``min(pow2(k), pow2(m)) + max(k, m) <= 65536``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from types import ModuleType
from typing import Final

import numpy as np

from ..errors import FecError
from .engine import GF16, Buffer

MISSING_BINDING: Final = (
    "GF(2^16) FEC needs the reed-solomon-leopard package (wheels exist for CPython "
    "3.10-3.12 on x86-64 Linux)"
)


@functools.cache
def load_leopard() -> ModuleType | None:
    try:
        import reed_solomon_leopard
    except ImportError:
        return None
    module: ModuleType = reed_solomon_leopard
    return module


class LeopardEngine:
    name = "gf16 leopard (reed-solomon-simd)"
    scheme = GF16

    def __init__(self, module: ModuleType) -> None:
        self._rs = module

    def supports(self, k: int, m: int) -> bool:
        return k >= 1 and (m == 0 or bool(self._rs.supports(k, m)))

    def encode_into(self, shards: np.ndarray, k: int) -> None:
        m = shards.shape[0] - k
        if m <= 0:
            return
        try:
            recovery = self._rs.encode([shards[i].tobytes() for i in range(k)], m)
        except ValueError as exc:
            raise FecError(f"GF(2^16) cannot encode k={k} m={m}: {exc}") from None
        for j, row in enumerate(recovery):
            shards[k + j] = np.frombuffer(row, dtype=np.uint8)

    def rebuild(self, k: int, m: int, rows: np.ndarray, have: Buffer, recovery: Mapping[int, bytes]) -> int:
        flags = memoryview(have)[: k + m]
        missing = [i for i in range(k) if not flags[i]]
        if not missing:
            return 0
        originals = {i: rows[i].tobytes() for i in range(k) if flags[i]}
        arrived = {i - k: b for i, b in recovery.items() if k <= i < k + m and flags[i]}
        restored = self._decode(k, m, originals, arrived)
        for i in missing:
            rows[i] = np.frombuffer(restored[i], dtype=np.uint8)
        return len(missing)

    def _decode(self, k: int, m: int, originals: dict[int, bytes], recovery: dict[int, bytes]) -> dict[int, bytes]:
        """The missing originals, by index, from the binding (recovery keyed 0..m-1)."""
        if len(originals) + len(recovery) < k:
            raise FecError(f"{len(originals) + len(recovery)} shards cannot rebuild a block of {k}")
        try:
            rebuilt: dict[int, bytes] = self._rs.decode(k, m, originals, recovery)
            return rebuilt
        except ValueError as exc:
            raise FecError(f"GF(2^16) cannot decode k={k} m={m}: {exc}") from None


class UnavailableGf16Engine:
    """Stands in where the binding is missing: a block whose data shards all arrived
    needs no arithmetic, so reception still works on a clean network."""

    name = "gf16 unavailable (install reed-solomon-leopard)"
    scheme = GF16

    def supports(self, k: int, m: int) -> bool:
        return m == 0

    def encode_into(self, shards: np.ndarray, k: int) -> None:
        if shards.shape[0] > k:
            raise FecError(MISSING_BINDING)

    def rebuild(self, k: int, m: int, rows: np.ndarray, have: Buffer, recovery: Mapping[int, bytes]) -> int:
        if any(not flag for flag in memoryview(have)[:k]):
            raise FecError(MISSING_BINDING)
        return 0


def leopard_engine() -> LeopardEngine | UnavailableGf16Engine:
    module = load_leopard()
    return LeopardEngine(module) if module is not None else UnavailableGf16Engine()
