"""The control stream's framing: ``u16 LE length || payload`` (LUMEN-M3-WIRE.md §3.1).

::

    +---------------------+------------------------------+
    | length (u16 LE)     | payload (length bytes)        |
    +---------------------+------------------------------+

Every payload starts with a 4-byte magic: ``LMN1`` for M3's Hello, Welcome and Start,
``LMNE`` for lumen's extended messages after Start. The u16 length bounds what a peer
can make the reader buffer: one frame of at most 65535 bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Final

_LEN = struct.Struct("<H")
LENGTH_SIZE: Final = _LEN.size
MAX_PAYLOAD: Final = 0xFFFF


def frame(payload: bytes) -> bytes:
    """``payload`` with its length prefix; ValueError if it cannot be framed."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"control message of {len(payload)} bytes exceeds {MAX_PAYLOAD}")
    return _LEN.pack(len(payload)) + payload


class FrameReader:
    """Turns control-stream bytes, fed in any chunking, into payloads.

    Holds at most one incomplete frame (LENGTH_SIZE + MAX_PAYLOAD bytes).
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buf += data
        while len(self._buf) >= LENGTH_SIZE:
            (length,) = _LEN.unpack_from(self._buf)
            end = LENGTH_SIZE + length
            if len(self._buf) < end:
                return
            payload = bytes(self._buf[LENGTH_SIZE:end])
            del self._buf[:end]
            yield payload

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held (non-zero at the end of the stream: truncated)."""
        return len(self._buf)
