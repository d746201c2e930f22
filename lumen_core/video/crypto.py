"""Sealing and opening video datagrams: AES-128-GCM with the header as associated data.

Nonce = 4 zero bytes + the header's u64 packet seq. The sealer hands out seqs from a
counter that only goes up, so a nonce never repeats within a key (one key per
session). The opener keeps a replay window over seqs: a datagram whose seq was already
accepted, or that is older than the window, is refused even though it authenticates.
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ProtocolError
from .header import HEADER_SIZE

# What the AEAD reads from (collections.abc.Buffer is 3.12+).
Buffer = bytes | bytearray | memoryview

KEY_SIZE: Final = 16
# Seqs this far behind the newest accepted one are refused without a look. 8192
# datagrams is >100 ms of a 1080p60 keyframe burst at full rate: reordering deeper than
# that is loss anyway.
REPLAY_WINDOW: Final = 8192


_NONCE = struct.Struct("!4xQ")


def nonce_for(seq: int) -> bytes:
    return _NONCE.pack(seq)


class ReplayWindow:
    """Sliding-window replay detection (the scheme of RFC 4303's anti-replay window)."""

    def __init__(self, size: int = REPLAY_WINDOW) -> None:
        self._size = size
        self._seen = bytearray(size)
        self._top = -1  # highest seq accepted so far

    def check(self, seq: int) -> bool:
        """True if ``seq`` may be new: not yet accepted and inside the window."""
        top = self._top
        return seq > top or (seq > top - self._size and not self._seen[seq % self._size])

    def accept(self, seq: int) -> None:
        """Record ``seq`` (call only after the datagram authenticated)."""
        size, top = self._size, self._top
        if seq > top:
            if seq - top >= size:
                self._seen[:] = bytes(size)
            elif seq - top > 1:
                # Forget the slots the window slides over (they held seqs now too old).
                lo, hi = (top + 1) % size, seq % size
                if lo <= hi:
                    self._seen[lo:hi] = bytes(hi - lo)
                else:
                    self._seen[lo:] = bytes(size - lo)
                    self._seen[:hi] = bytes(hi)
            self._top = seq
        self._seen[seq % size] = 1


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self._aead = AESGCM(key)
        self._seq = 0

    def reserve(self, count: int) -> int:
        """The first of ``count`` fresh seqs (nonces); they are never handed out again."""
        first = self._seq
        if first + count > 1 << 64:
            raise OverflowError("video key exhausted; start a new session")
        self._seq += count
        return first

    def seal_into(self, seq: int, header: Buffer, shard: Buffer, out: memoryview) -> None:
        """Seal ``shard`` into ``out`` (exactly len(shard) + 16 bytes): no copies."""
        self._aead.encrypt_into(_NONCE.pack(seq), shard, header, out)



class Opener:
    def __init__(self, key: bytes, window: int = REPLAY_WINDOW) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self._aead = AESGCM(key)
        self._window = ReplayWindow(window)

    def open(self, seq: int, datagram: Buffer, out: memoryview | None = None) -> bytes | None:
        """The shard of an authentic, new datagram; AuthError or ReplayError otherwise.

        With ``out`` (exactly the shard's length) the shard is written there and None
        is returned: the receiver decrypts data shards straight into the frame.
        """
        window = self._window
        if not window.check(seq):
            raise ReplayError(f"video datagram seq {seq} replayed or too old")
        view = memoryview(datagram)
        try:
            if out is None:
                shard: bytes | None = self._aead.decrypt(_NONCE.pack(seq), view[HEADER_SIZE:], view[:HEADER_SIZE])
            else:
                self._aead.decrypt_into(_NONCE.pack(seq), view[HEADER_SIZE:], view[:HEADER_SIZE], out)
                shard = None
        except InvalidTag:
            raise AuthError("video datagram failed authentication") from None
        window.accept(seq)
        return shard


class AuthError(ProtocolError):
    """Forged, tampered, or sealed with another key."""


class ReplayError(ProtocolError):
    """Authentic but already seen, or older than the replay window."""
