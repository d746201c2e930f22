"""Sealing and opening video datagrams: AES-128-GCM with the header as associated data.

Nonce = 4 zero bytes + the header's u64 packet seq. The sealer hands out seqs from a
counter that only goes up, so a nonce never repeats within a key (one key per
session). The opener keeps a replay window over seqs: a datagram whose seq was already
accepted, or that is older than the window, is refused even though it authenticates.
"""

from __future__ import annotations

from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ProtocolError
from .header import HEADER_SIZE

# What the AEAD reads from (collections.abc.Buffer is 3.12+).
Buffer = bytes | bytearray | memoryview

KEY_SIZE: Final = 16
_NONCE_PREFIX: Final = b"\x00\x00\x00\x00"
# Seqs this far behind the newest accepted one are refused without a look. 8192
# datagrams is >100 ms of a 1080p60 keyframe burst at full rate: reordering deeper than
# that is loss anyway.
REPLAY_WINDOW: Final = 8192


def nonce_for(seq: int) -> bytes:
    return _NONCE_PREFIX + seq.to_bytes(8, "big")


class ReplayWindow:
    """Sliding-window replay detection (the scheme of RFC 4303's anti-replay window)."""

    def __init__(self, size: int = REPLAY_WINDOW) -> None:
        self._size = size
        self._seen = bytearray(size)
        self._top = -1  # highest seq accepted so far

    def check(self, seq: int) -> bool:
        """True if ``seq`` may be new: not yet accepted and inside the window."""
        if seq > self._top:
            return True
        if seq <= self._top - self._size:
            return False
        return not self._seen[seq % self._size]

    def accept(self, seq: int) -> None:
        """Record ``seq`` (call only after the datagram authenticated)."""
        if seq > self._top:
            advance = seq - self._top
            if advance >= self._size:
                self._seen[:] = bytes(self._size)
            else:
                for s in range(self._top + 1, seq):
                    self._seen[s % self._size] = 0
            self._top = seq
        self._seen[seq % self._size] = 1


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self._aead = AESGCM(key)
        self._seq = 0

    def next_seq(self) -> int:
        seq = self._seq
        if seq >= 1 << 64:
            raise OverflowError("video key exhausted; start a new session")
        self._seq += 1
        return seq

    def seal(self, seq: int, header: bytes, shard: bytes | memoryview) -> bytes:
        return header + self._aead.encrypt(nonce_for(seq), shard, header)

    def seal_into(self, seq: int, header: memoryview, shard: Buffer, out: memoryview) -> None:
        """Seal ``shard`` into ``out`` (exactly len(shard) + 16 bytes): no copies."""
        self._aead.encrypt_into(nonce_for(seq), shard, header, out)


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
        if not self._window.check(seq):
            raise ReplayError(f"video datagram seq {seq} replayed or too old")
        view = memoryview(datagram)
        header, sealed = view[:HEADER_SIZE], view[HEADER_SIZE:]
        try:
            if out is None:
                shard: bytes | None = self._aead.decrypt(nonce_for(seq), sealed, header)
            else:
                self._aead.decrypt_into(nonce_for(seq), sealed, header, out)
                shard = None
        except InvalidTag:
            raise AuthError("video datagram failed authentication") from None
        self._window.accept(seq)
        return shard


class AuthError(ProtocolError):
    """Forged, tampered, or sealed with another key."""


class ReplayError(ProtocolError):
    """Authentic but already seen, or older than the replay window."""
