"""The client's bind datagrams: how the host learns where to send video.

The client sends one to the host's video port when the session starts (every 200 ms
until video arrives) and then every second as a keepalive; the host sends video to the
source address of the newest authentic one. Sealed with the session's video key, so
nobody else can redirect the stream::

    +------+---------+-------------+-----------------------+
    | 0xB1 | version | rsvd (u16)  | seq (u64)             |  12-byte header = AAD
    +------+---------+-------------+-----------------------+
    | 16-byte AES-128-GCM tag over an empty payload         |
    +-------------------------------------------------------+

The nonce is 0x00000001 + seq: the client's own nonce space, disjoint from the host's
video datagrams (prefix 0) under the same key.
"""

from __future__ import annotations

import struct
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .crypto import ReplayWindow

BIND_TYPE: Final = 0xB1
BIND_VERSION: Final = 1
_HEAD = struct.Struct("!BBHQ")
_NONCE = struct.Struct("!IQ")
_CLIENT_NONCE_PREFIX: Final = 1
BIND_SIZE: Final = _HEAD.size + 16


class BindSealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._seq = 0

    def next(self) -> bytes:
        head = _HEAD.pack(BIND_TYPE, BIND_VERSION, 0, self._seq)
        sealed = self._aead.encrypt(_NONCE.pack(_CLIENT_NONCE_PREFIX, self._seq), b"", head)
        self._seq += 1
        return head + sealed


class BindOpener:
    """Accepts each authentic bind datagram once."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._window = ReplayWindow(256)

    def open(self, data: bytes) -> bool:
        if len(data) != BIND_SIZE or data[0] != BIND_TYPE or data[1] != BIND_VERSION:
            return False
        _, _, _, seq = _HEAD.unpack_from(data)
        if not self._window.check(seq):
            return False
        try:
            self._aead.decrypt(_NONCE.pack(_CLIENT_NONCE_PREFIX, seq), data[_HEAD.size :], data[: _HEAD.size])
        except InvalidTag:
            return False
        self._window.accept(seq)
        return True
