"""lumen M3's peers and vectors (``../shared/lumen-m3/`` beside the checkout, or where
``LUMEN_M3_DIR`` points), for the interoperability and known-answer tests.

Tests that need them skip, with the reason, where the folder is absent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent


def m3_dir() -> Path:
    return Path(os.environ.get("LUMEN_M3_DIR") or ROOT.parent / "shared" / "lumen-m3")


def require(relative: str) -> Path:
    """A file of the M3 folder, or skip the test saying where it was looked for."""
    path = m3_dir() / relative
    if not path.exists():
        pytest.skip(f"lumen M3's peers are not here ({path} is missing; set LUMEN_M3_DIR)")
    return path


@functools.cache
def _vectors(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def vectors() -> dict[str, Any]:
    return _vectors(str(require("vectors.json")))


def sha256(data: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def pattern(idx: int, length: int) -> bytes:
    """M3's synthetic test frame: bytes 0..3 the index (u32 LE), byte i >= 4 (idx + i) mod 256."""
    head = idx.to_bytes(4, "little")
    body = bytes((idx + i) % 256 for i in range(4, max(4, length)))
    return (head + body)[:length]


def lcg_bytes(count: int, seed: int = 0x123456789ABCDEF0) -> bytes:
    """The vectors' LCG: s <- s * 6364136223846793005 + 1442695040888963407 (mod 2^64),
    each byte the top 8 bits of s after a step."""
    out = bytearray(count)
    s = seed
    for n in range(count):
        s = (s * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out[n] = s >> 56
    return bytes(out)
