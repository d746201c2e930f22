"""Bind and keepalive datagrams (extended mode): how video reaches a client behind NAT.

The client sends them from its video socket to the host's video port, every
BIND_INTERVAL_S until video arrives and every KEEPALIVE_INTERVAL_S after (which also
keeps a NAT mapping open). They are sealed like video (crypto.py) but in the client's
direction, so they share the session key without ever sharing a nonce::

    +----------------------+------------------------------------+-----------+
    | seq (u64 big-endian) | AES-128-GCM of "LMNB" || u8 version | tag (16)  |
    +----------------------+------------------------------------+-----------+

29 bytes. The host sends video to the QUIC peer's IP and the Start port until a bind
arrives; an authentic bind from another address moves the video there, but only if
its seq is newer than every bind accepted before (a delayed, older bind from an old
address can never pull the video back). Replays are refused. Anything else arriving on
the host's video port is counted and dropped.
"""

from __future__ import annotations

from typing import Final

from .crypto import CLIENT, HOST, AuthError, Buffer, Opener, ReplayWindow, Sealer

BIND_MAGIC: Final = b"LMNB"
BIND_VERSION: Final = 1
BIND_PLAINTEXT: Final = BIND_MAGIC + bytes([BIND_VERSION])
BIND_INTERVAL_S: Final = 0.2
KEEPALIVE_INTERVAL_S: Final = 1.0
# Binds are a few a second: a small window is plenty.
BIND_REPLAY_WINDOW: Final = 256


class BindSealer:
    """The client's side: one sealed bind datagram per call."""

    def __init__(self, key: bytes, salt: bytes, *, native: bool | None = None) -> None:
        self._sealer = Sealer(key, salt, CLIENT, native=native)

    def next(self) -> bytes:
        return self._sealer.seal(BIND_PLAINTEXT)


class BindTracker:
    """The host's side: which address video goes to. Not thread-safe (one listener)."""

    def __init__(self, key: bytes, salt: bytes, initial: tuple[str, int] | None, *, native: bool | None = None) -> None:
        self._opener = Opener(key, salt, HOST, native=native)
        self._window = ReplayWindow(BIND_REPLAY_WINDOW)
        self.peer = initial
        self.binds = 0
        self.moves = 0
        self.garbage = 0

    def receive(self, data: Buffer, addr: tuple[str, int]) -> bool:
        """Take one datagram from the video port; True if the video now goes elsewhere."""
        try:
            seq, plaintext = self._opener.open(data)
        except AuthError:
            self.garbage += 1
            return False
        if plaintext != BIND_PLAINTEXT or not self._window.check(seq):
            self.garbage += 1
            return False
        newest = seq > self._window.top
        self._window.accept(seq)
        self.binds += 1
        if newest and addr != self.peer:
            self.peer = addr
            self.moves += 1
            return True
        return False
