"""Sealing and opening video datagrams: AES-128-GCM with the header as associated data.

Nonce = 4 zero bytes + the header's u64 packet seq. The sealer hands out seqs from a
counter that only goes up, so a nonce never repeats within a key (one key per
session). The opener keeps a replay window over seqs: a datagram whose seq was already
accepted, or that is older than the window, is refused even though it authenticates.

Two implementations of the same AEAD, byte for byte: lumen's small C module
(``_gcm.c``: one keyed OpenSSL context reused for every datagram), used when it was
built, and cryptography's AESGCM otherwise. Per 1400-byte datagram the first costs
about a third of the second, whose fixed cost per call (a new cipher context each
time) is what bounded the video plane's rate.
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ProtocolError
from .header import HEADER_SIZE, TAG_SIZE

try:
    from ._gcm import AesGcm as _NativeAesGcm
except ImportError:  # installed without a C compiler: cryptography does the same work
    _NativeAesGcm = None

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


# Status bytes of Opener.open_run (the C module uses the same values).
FORGED: Final = 0
OPENED: Final = 1
OTHER: Final = 2

NATIVE_NAME: Final = "openssl, context reused (lumen_core.video._gcm)"
FALLBACK_NAME: Final = "cryptography AESGCM"


def native_available() -> bool:
    return _NativeAesGcm is not None


def _use_native(native: bool | None) -> bool:
    if native is None:
        return _NativeAesGcm is not None
    if native and _NativeAesGcm is None:
        raise RuntimeError("lumen_core.video._gcm is not built (needs a C compiler and OpenSSL headers)")
    return native


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

    @property
    def top(self) -> int:
        """The highest seq accepted so far (-1 before the first)."""
        return self._top

    def accept_run(self, first: int, opened: bytes) -> None:
        """Record ``first + i`` for every i with ``opened[i] == OPENED``; all of them
        must be above ``top`` (what a run of fresh datagrams gives)."""
        last = opened.rfind(OPENED)
        if last < 0:
            return
        if first <= self._top or last >= self._size:
            raise ValueError("accept_run takes a short run of seqs above the window's top")
        self.accept(first + last)  # slides the window over the run
        if opened.count(OPENED) == last + 1:  # all of first..first+last: one slice
            size, lo = self._size, first % self._size
            hi = lo + last
            if hi < size:
                self._seen[lo:hi] = b"\x01" * (hi - lo)
            else:
                self._seen[lo:] = b"\x01" * (size - lo)
                self._seen[: hi - size] = b"\x01" * (hi - size)
        else:
            for i in range(last):
                if opened[i] == OPENED:
                    self._seen[(first + i) % self._size] = 1


class Sealer:
    """Seals a session's video datagrams. ``native``: None picks the C module when it
    is built; True or False asks for one implementation (tests compare them)."""

    def __init__(self, key: bytes, *, native: bool | None = None) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self._native = _NativeAesGcm(key) if _use_native(native) else None
        self._aead = AESGCM(key)
        self._seq = 0

    @property
    def name(self) -> str:
        return NATIVE_NAME if self._native is not None else FALLBACK_NAME

    def reserve(self, count: int) -> int:
        """The first of ``count`` fresh seqs (nonces); they are never handed out again."""
        first = self._seq
        if first + count > 1 << 64:
            raise OverflowError("video key exhausted; start a new session")
        self._seq += count
        return first

    def seal_many(self, buf: bytearray, datagram_size: int, shards: Buffer, first_seq: int) -> None:
        """Seal, in place, the datagrams laid back to back in ``buf``.

        Each datagram is ``datagram_size`` bytes: its header, already written (seq
        ``first_seq + i`` for the i-th), then room for the sealed shard. ``shards`` holds
        the shards back to back, ``datagram_size - HEADER_SIZE - TAG_SIZE`` bytes each.
        """
        if self._native is not None:
            self._native.seal_many(buf, datagram_size, HEADER_SIZE, shards, first_seq)
            return
        shard_len = datagram_size - HEADER_SIZE - TAG_SIZE
        out, src, encrypt_into = memoryview(buf), memoryview(shards), self._aead.encrypt_into
        for i, off in enumerate(range(0, len(buf), datagram_size)):
            body = off + HEADER_SIZE
            encrypt_into(
                _NONCE.pack(first_seq + i), src[i * shard_len : (i + 1) * shard_len], out[off:body],
                out[body : off + datagram_size],
            )


class Opener:
    """Opens a session's video datagrams (``native`` as for Sealer)."""

    def __init__(self, key: bytes, window: int = REPLAY_WINDOW, *, native: bool | None = None) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self._native = _NativeAesGcm(key) if _use_native(native) else None
        self._aead = AESGCM(key)
        self._window = ReplayWindow(window)

    @property
    def name(self) -> str:
        return NATIVE_NAME if self._native is not None else FALLBACK_NAME

    def open(self, seq: int, datagram: Buffer, out: memoryview | None = None) -> bytes | None:
        """The shard of an authentic, new datagram; AuthError or ReplayError otherwise.

        With ``out`` (exactly the shard's length) the shard is written there and None
        is returned: the receiver decrypts data shards straight into the frame.
        """
        window = self._window
        if not window.check(seq):
            raise ReplayError(f"video datagram seq {seq} replayed or too old")
        native = self._native
        if native is not None:
            try:
                if out is None:
                    shard = native.open(seq, datagram, HEADER_SIZE)
                    authentic = shard is not None
                else:
                    shard, authentic = None, native.open_into(seq, datagram, HEADER_SIZE, out)
            except ValueError:  # shorter than a header and a tag
                authentic = False
            if not authentic:
                raise AuthError("video datagram failed authentication")
            window.accept(seq)
            return shard
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

    def fresh(self, seq: int) -> bool:
        """True if ``seq`` and every seq after it are new (above all accepted so far)."""
        return seq > self._window.top

    def open_run(self, segments: Buffer, segment_size: int, expected: Buffer, first_seq: int, out: Buffer) -> bytes:
        """Open consecutive datagrams at once: the receiver's path for a GRO read.

        ``segments``: datagrams of ``segment_size`` bytes back to back, with seqs
        ``first_seq``, ``first_seq + 1``, ... (all fresh); ``expected``: the header
        each must carry; ``out``: where their shards go, back to back. One status byte
        per datagram: OPENED, FORGED, or OTHER: the first datagram without its expected
        header ends the run, and it and all after it are left unopened for the caller
        to look at one by one. Opened seqs are accepted into the replay window.
        """
        if not self.fresh(first_seq):
            raise ValueError("open_run takes fresh seqs only")
        if len(segments) < segment_size or segment_size <= 0:
            return b""
        if self._native is not None:
            status = self._native.open_many(segments, segment_size, expected, first_seq, out)
        else:
            status = self._open_run_fallback(
                memoryview(segments), segment_size, memoryview(expected).cast("B"), first_seq, memoryview(out)
            )
        self._window.accept_run(first_seq, status)
        return status

    def _open_run_fallback(
        self, segments: memoryview, size: int, expected: memoryview, first_seq: int, out: memoryview
    ) -> bytes:
        count = len(segments) // size
        shard = size - HEADER_SIZE - TAG_SIZE
        status = bytearray(count)
        for i in range(count):
            dgram = segments[i * size : (i + 1) * size]
            if dgram[:HEADER_SIZE] != expected[i * HEADER_SIZE : (i + 1) * HEADER_SIZE]:
                status[i:] = bytes([OTHER]) * (count - i)
                break
            try:
                self._aead.decrypt_into(_NONCE.pack(first_seq + i), dgram[HEADER_SIZE:], dgram[:HEADER_SIZE],
                                        out[i * shard : (i + 1) * shard])
                status[i] = OPENED
            except InvalidTag:
                status[i] = FORGED
        return bytes(status)


class AuthError(ProtocolError):
    """Forged, tampered, or sealed with another key."""


class ReplayError(ProtocolError):
    """Authentic but already seen, or older than the replay window."""
