"""Sealing and opening video-plane datagrams: lumen/1's AES-128-GCM (LUMEN-M3-WIRE.md §6).

An encrypted datagram on the wire::

    +----------------------+--------------------------------------+-----------+
    | seq (u64 big-endian) | AES-128-GCM ciphertext of the packet | tag (16)  |
    +----------------------+--------------------------------------+-----------+

- key: Welcome.key (16 bytes, fresh per session).
- nonce: the sender's *direction salt* (4 bytes) then seq as u64 big-endian. The
  direction salt is the Welcome's base salt with its top bit replaced by the direction:
  ``salt[0] = (salt[0] & 0x7F) | (direction << 7)``, host = 0, client = 1. Each side
  seals with its own direction and opens with the other's, so the host's video and the
  client's bind datagrams (an extension) never share a nonce under one key.
- AAD: the same 8-byte big-endian seq. The packet (header included) is the plaintext.
- seq: a per-session counter from 0, one per datagram sent; never repeats under a key.

Replays are a receiver rule, not part of the seal: ``ReplayWindow`` (RFC 4303's
sliding window) remembers which seqs were used; the reassembler consults it.

Two implementations of the same AEAD, byte for byte: lumen's small C module
(``_gcm.c``: one keyed OpenSSL context reused for every datagram), used when it was
built, and cryptography's AESGCM otherwise, whose fixed cost per call (a new cipher
context each time) is about twice the work of sealing a 1264-byte datagram.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Final

import numpy as np
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ..errors import ProtocolError
from .header import HEADER_SIZE, build_packets

try:
    from ._gcm import AesGcm as _NativeAesGcm
    from ._gcm import run_length as _native_run_length

    _NATIVE = True
except ImportError:  # installed without a C compiler: cryptography does the same work
    _NATIVE = False

# What the AEAD reads from (collections.abc.Buffer is 3.12+).
Buffer = bytes | bytearray | memoryview

# The C module's check of a run of packets (reassembler.py), or None without it.
native_run_length: Callable[[Buffer, int, int], int] | None = _native_run_length if _NATIVE else None

KEY_SIZE: Final = 16
SALT_SIZE: Final = 4
SEQ_SIZE: Final = 8
TAG_SIZE: Final = 16
OVERHEAD: Final = SEQ_SIZE + TAG_SIZE  # 24 bytes around each sealed packet
HOST: Final = 0
CLIENT: Final = 1
# Seqs this far behind the newest accepted one are refused without a look. 8192
# datagrams is ~100 ms of a 1080p60 keyframe burst at full rate: reordering deeper than
# that is loss anyway.
REPLAY_WINDOW: Final = 8192

_SEQ = struct.Struct("!Q")
_NONCE = struct.Struct("!4sQ")

# Status bytes of Opener.open_run (the C module uses the same values).
FORGED: Final = 0
OPENED: Final = 1
OTHER: Final = 2

NATIVE_NAME: Final = "openssl, context reused (lumen_core.video._gcm)"
FALLBACK_NAME: Final = "cryptography AESGCM"


def direction_salt(base_salt: bytes, direction: int) -> bytes:
    """The 4-byte nonce prefix of ``direction`` (HOST or CLIENT) for a Welcome's salt."""
    if len(base_salt) != SALT_SIZE or direction not in (HOST, CLIENT):
        raise ValueError("a 4-byte base salt and a direction of 0 or 1")
    return bytes([(base_salt[0] & 0x7F) | (direction << 7)]) + base_salt[1:]


def nonce_for(salt: bytes, seq: int) -> bytes:
    return _NONCE.pack(salt, seq)


def native_available() -> bool:
    return _NATIVE


def _use_native(native: bool | None) -> bool:
    if native is None:
        return _NATIVE
    if native and not _NATIVE:
        raise RuntimeError("lumen_core.video._gcm is not built (needs a C compiler and OpenSSL headers)")
    return native


class _Aead:
    """AES-128-GCM keyed for one side: seals with ``own`` salt, opens with ``peer``'s."""

    def __init__(self, key: bytes, base_salt: bytes, own: int, native: bool | None) -> None:
        if len(key) != KEY_SIZE:
            raise ValueError("video key must be 16 bytes")
        self.seal_salt = direction_salt(base_salt, own)
        self.open_salt = direction_salt(base_salt, 1 - own)
        self._native = _NativeAesGcm(key, self.seal_salt, self.open_salt) if _use_native(native) else None
        self._aead = AESGCM(key)

    @property
    def name(self) -> str:
        return NATIVE_NAME if self._native is not None else FALLBACK_NAME


class Sealer(_Aead):
    """Seals one direction's datagrams. ``native``: None picks the C module when it is
    built; True or False asks for one implementation (tests compare them)."""

    def __init__(self, key: bytes, base_salt: bytes, direction: int, *, native: bool | None = None) -> None:
        super().__init__(key, base_salt, direction, native)
        self._seq = 0

    @property
    def next_seq(self) -> int:
        return self._seq

    def reserve(self, count: int) -> int:
        """The first of ``count`` fresh seqs (nonces); they are never handed out again."""
        first = self._seq
        if first + count > 1 << 64:
            raise OverflowError("video key exhausted; start a new session")
        self._seq += count
        return first

    def seal(self, plaintext: Buffer) -> bytes:
        """One datagram in wire form, with the next seq."""
        seq = self.reserve(1)
        head = _SEQ.pack(seq)
        if self._native is not None:
            buf = bytearray(SEQ_SIZE + len(plaintext) + TAG_SIZE)
            buf[:SEQ_SIZE] = head
            self._native.seal_many(buf, len(buf), SEQ_SIZE, plaintext, seq)
            return bytes(buf)
        return head + self._aead.encrypt(nonce_for(self.seal_salt, seq), bytes(plaintext), head)

    def seal_many(self, buf: bytearray, datagram_size: int, packets: Buffer, first_seq: int) -> None:
        """Seal, in place, the datagrams laid back to back in ``buf``.

        Each datagram is ``datagram_size`` bytes: its 8-byte big-endian seq, already
        written (``first_seq + i`` for the i-th), then room for the sealed packet and tag.
        ``packets`` holds the plaintext packets back to back,
        ``datagram_size - OVERHEAD`` bytes each.
        """
        if self._native is not None:
            self._native.seal_many(buf, datagram_size, SEQ_SIZE, packets, first_seq)
            return
        size = datagram_size - OVERHEAD
        out, src, encrypt_into, salt = memoryview(buf), memoryview(packets), self._aead.encrypt_into, self.seal_salt
        for i, off in enumerate(range(0, len(buf), datagram_size)):
            body = off + SEQ_SIZE
            encrypt_into(nonce_for(salt, first_seq + i), src[i * size : (i + 1) * size], out[off:body],
                         out[body : off + datagram_size])


    def seal_packets(self, buf: bytearray, datagram_size: int, template: bytes, first_stream_seq: int,
                     first_shard: int, first_flags: int, last_flags: int, shards: Buffer | np.ndarray,
                     first_seq: int) -> None:
        """The datagrams of one block's packets (header.build_packets says which) into
        ``buf``, seq prefixes included: with the C module, one call that builds each
        header and seals it with its shard, straight from ``shards``."""
        if self._native is not None:
            self._native.seal_packets(buf, datagram_size, template, first_stream_seq, first_shard, first_flags,
                                      last_flags, shards, first_seq)
            return
        count = len(buf) // datagram_size
        packets = build_packets(template, first_stream_seq, first_shard, first_flags, last_flags, shards, count,
                                datagram_size - OVERHEAD - HEADER_SIZE)
        rows = np.frombuffer(buf, dtype=np.uint8).reshape(count, datagram_size)
        prefixes = np.arange(first_seq, first_seq + count, dtype=">u8").view(np.uint8)
        rows[:, :SEQ_SIZE] = prefixes.reshape(count, SEQ_SIZE)
        self.seal_many(buf, datagram_size, packets.reshape(-1).data, first_seq)


class Opener(_Aead):
    """Opens the peer's datagrams (``direction``: this side's own, as for Sealer)."""

    def __init__(self, key: bytes, base_salt: bytes, direction: int, *, native: bool | None = None) -> None:
        super().__init__(key, base_salt, direction, native)

    def open(self, datagram: Buffer, out: memoryview | None = None) -> tuple[int, bytes | None]:
        """(seq, packet) of an authentic datagram; AuthError otherwise (too short too).

        With ``out`` (exactly the packet's length) the packet is written there and None
        is returned in its place. ``out`` holds nothing to rely on after an AuthError.
        """
        if len(datagram) < OVERHEAD:
            raise AuthError(f"video datagram of {len(datagram)} bytes is shorter than its seq and tag")
        (seq,) = _SEQ.unpack_from(datagram)
        native = self._native
        if native is not None:
            if out is None:
                packet = native.open(seq, datagram, SEQ_SIZE)
                if packet is None:
                    raise AuthError("video datagram failed authentication")
                return seq, packet
            if not native.open_into(seq, datagram, SEQ_SIZE, out):
                raise AuthError("video datagram failed authentication")
            return seq, None
        view = memoryview(datagram)
        nonce = nonce_for(self.open_salt, seq)
        try:
            if out is None:
                return seq, self._aead.decrypt(nonce, view[SEQ_SIZE:], view[:SEQ_SIZE])
            self._aead.decrypt_into(nonce, view[SEQ_SIZE:], view[:SEQ_SIZE], out)
        except InvalidTag:
            raise AuthError("video datagram failed authentication") from None
        return seq, None

    def open_run(self, segments: Buffer, segment_size: int, first_seq: int, out: bytearray | memoryview) -> bytes:
        """Open consecutive datagrams at once: the receiver's path for a GRO read.

        ``segments``: datagrams of ``segment_size`` bytes back to back, expected to carry
        seqs ``first_seq``, ``first_seq + 1``, ...; ``out``: where their packets go, back
        to back. One status byte per datagram: OPENED, FORGED, or OTHER: the first
        datagram whose seq is not the next one ends the run, and it and all after it
        are left unopened for the caller to look at one by one.
        """
        view = memoryview(segments)
        count = len(view) // segment_size if segment_size > 0 else 0
        if count == 0:
            return b""
        expected = np.arange(first_seq, first_seq + count, dtype=">u8").tobytes()
        if self._native is not None:
            return self._native.open_many(view[: count * segment_size], segment_size, expected, first_seq, out)
        size = segment_size - OVERHEAD
        dest = memoryview(out)
        status = bytearray(count)
        for i in range(count):
            dgram = view[i * segment_size : (i + 1) * segment_size]
            if dgram[:SEQ_SIZE] != expected[i * SEQ_SIZE : (i + 1) * SEQ_SIZE]:
                status[i:] = bytes([OTHER]) * (count - i)
                break
            try:
                self._aead.decrypt_into(nonce_for(self.open_salt, first_seq + i), dgram[SEQ_SIZE:],
                                        dgram[:SEQ_SIZE], dest[i * size : (i + 1) * size])
                status[i] = OPENED
            except InvalidTag:
                status[i] = FORGED
        return bytes(status)


class ReplayWindow:
    """Sliding-window replay detection (the scheme of RFC 4303's anti-replay window).

    ``check`` says whether a seq may be new: above every seq accepted, or within
    ``size`` of the highest and not accepted yet. ``accept`` records one; call it only
    for authentic datagrams, so forgeries can never move the window.
    """

    def __init__(self, size: int = REPLAY_WINDOW) -> None:
        self._size = size
        self._seen = bytearray(size)
        self._top = -1  # highest seq accepted so far

    @property
    def top(self) -> int:
        """The highest seq accepted so far (-1 before the first)."""
        return self._top

    def check(self, seq: int) -> bool:
        top = self._top
        return seq > top or (seq > top - self._size and not self._seen[seq % self._size])

    def accept(self, seq: int) -> None:
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

    def accept_run(self, first: int, count: int) -> None:
        """Record ``first .. first + count - 1``, all above ``top`` (a fresh run)."""
        if count <= 0:
            return
        if first <= self._top or count > self._size:
            raise ValueError("accept_run takes a short run of seqs above the window's top")
        self.accept(first + count - 1)  # slides the window over the run
        size, lo = self._size, first % self._size
        hi = lo + count - 1
        if hi <= size:
            self._seen[lo:hi] = b"\x01" * (hi - lo)
        else:
            self._seen[lo:] = b"\x01" * (size - lo)
            self._seen[: hi - size] = b"\x01" * (hi - size)


class AuthError(ProtocolError):
    """Forged, tampered, sealed with another key or direction, or too short to be sealed."""
