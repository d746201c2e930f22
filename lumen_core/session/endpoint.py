"""What the host's and the client's session state machines share: their outputs.

A session is driven like aioquic's QuicConnection. The owner feeds it control-stream
bytes, datagrams and timer expiries with the current time, then collects:

- ``control_data_to_send()``: bytes for the control stream (the client opens it);
- ``datagrams_to_send()``: QUIC DATAGRAM payloads;
- ``close_request``: ``(code, reason)`` once the session wants the QUIC connection
  closed with that application error code and reason phrase;
- ``next_event()``: events (events.py), None when there are none;
- ``get_timer()``: the earliest deadline (seconds, the caller's clock) or None, and
  ``handle_timer(now)`` when it passes.

Sessions never read a clock and never raise on what a peer sends: a peer's error ends
the session with a SessionEnded event and a close request.

Liveness (extended mode, both sides): whatever arrives from the peer (control data,
datagrams, and what the owner reports with ``heard``: the video plane) keeps it alive.
After ``liveness_s`` of silence the session emits PeerSilent and keeps waiting, so a
link that comes back within ``grace_s`` carries on with the same connection
(PeerReturned); at ``grace_s`` the peer is gone and the session ends. ``unreachable``
reports what the network says outright (ICMP port unreachable): with the peer silent
too, it is gone, and the session ends at once.
"""

from __future__ import annotations

from collections import deque
from typing import Final, Generic, TypeVar

from ..datagrams import Datagram, parse_datagram
from ..errors import ProtocolError
from .events import PeerReturned, PeerSilent, SessionEnded

E = TypeVar("E")

# Datagrams are drained on every transmit, so this is only reached if the owner stops
# transmitting; audio and input are worth nothing late, so the oldest go first.
MAX_QUEUED_DATAGRAMS: Final = 256
# Events the owner has not read yet; a session produces a handful per input.
MAX_QUEUED_EVENTS: Final = 4096
OUTAGES_KEPT: Final = 1000
# Silence after which a peer is missed, and after which it is given up.
LIVENESS_S: Final = 3.0
GRACE_S: Final = 10.0
# A port-unreachable counts only when the peer has also been silent this long: a live
# peer is heard many times a second, and one stray ICMP message must not end a session.
UNREACHABLE_SILENCE_S: Final = 0.5


class Endpoint(Generic[E]):
    def __init__(self) -> None:
        self._control = bytearray()
        self._datagrams: deque[bytes] = deque()
        self._events: deque[E | SessionEnded | PeerSilent | PeerReturned] = deque()
        self._deadlines: dict[str, float] = {}
        self._close: tuple[int, str] | None = None
        self.ended = False
        self.end_reason = ""
        self.datagrams_dropped = 0  # queue full: the owner was not transmitting
        self.datagrams_malformed = 0
        self.datagrams_unknown = 0
        self.datagrams_unexpected = 0  # a known type this side never receives in this mode
        self.events_dropped = 0
        self._liveness_s = LIVENESS_S
        self._grace_s = GRACE_S
        self._last_heard = 0.0
        self._silent_since: float | None = None
        # Seconds each outage the session lived through lasted (the latest OUTAGES_KEPT).
        self.outages: deque[float] = deque(maxlen=OUTAGES_KEPT)

    @property
    def streaming(self) -> bool:
        """The handshake is done and the stream flows (each side says when)."""
        return False

    @property
    def peer_silent(self) -> bool:
        return self._silent_since is not None

    # -- outputs ---------------------------------------------------------------

    def control_data_to_send(self) -> bytes:
        data = bytes(self._control)
        self._control.clear()
        return data

    def datagrams_to_send(self) -> list[bytes]:
        out = list(self._datagrams)
        self._datagrams.clear()
        return out

    @property
    def close_request(self) -> tuple[int, str] | None:
        return self._close

    def next_event(self) -> E | SessionEnded | PeerSilent | PeerReturned | None:
        return self._events.popleft() if self._events else None

    def get_timer(self) -> float | None:
        return min(self._deadlines.values()) if self._deadlines else None

    def handle_timer(self, now: float) -> None:
        for name in [n for n, t in self._deadlines.items() if t <= now]:
            if name in self._deadlines and self._deadlines[name] <= now:
                del self._deadlines[name]
                self._on_timer(name, now)

    # -- inputs ------------------------------------------------------------------------

    def heard(self, now: float) -> None:
        """The peer was heard (any packet of this session, the video plane's included)."""
        if now > self._last_heard:
            self._last_heard = now
        if self._silent_since is not None and not self.ended:
            outage = now - self._silent_since
            self._silent_since = None
            self.outages.append(round(outage, 3))
            self._deadlines["liveness"] = now + self._liveness_s
            self._event(PeerReturned(outage_s=outage))

    def unreachable(self, now: float, what: str) -> None:
        """The network reports the peer's ``what`` closed (ICMP port unreachable)."""
        if not self.ended and "liveness" in self._deadlines and now - self._last_heard >= UNREACHABLE_SILENCE_S:
            self._peer_gone(f"{what} is closed (ICMP port unreachable)", now)

    def receive_control(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def control_finished(self, now: float) -> None:
        """The peer finished or reset the control stream."""
        raise NotImplementedError

    def receive_datagram(self, data: bytes, now: float) -> None:
        raise NotImplementedError

    def connection_lost(self, reason: str, now: float, code: int | None = None) -> None:
        raise NotImplementedError

    # -- for subclasses ----------------------------------------------------------

    def _on_timer(self, name: str, now: float) -> None:
        raise NotImplementedError

    def _peer_gone(self, reason: str, now: float) -> None:
        """End the session: the peer has not been heard for the grace period, or is gone."""
        raise NotImplementedError

    def _watch_liveness(self, now: float, liveness_s: float, grace_s: float) -> None:
        """Start watching the peer's liveness (both sides, once streaming in extended mode)."""
        self._liveness_s, self._grace_s = liveness_s, max(grace_s, liveness_s)
        self._last_heard = max(self._last_heard, now)
        self._deadlines["liveness"] = self._last_heard + liveness_s

    def _liveness_timer(self, now: float) -> None:
        silent = now - self._last_heard
        if silent >= self._grace_s:
            self._peer_gone(f"nothing heard for {silent:.1f} s", now)
        elif self._silent_since is None and silent >= self._liveness_s:
            self._silent_since = self._last_heard
            self._deadlines["liveness"] = self._last_heard + self._grace_s
            self._event(PeerSilent(silent_s=silent, grace_s=self._grace_s))
        else:
            wait = self._grace_s if self._silent_since is not None else self._liveness_s
            self._deadlines["liveness"] = self._last_heard + wait

    def _event(self, event: E | SessionEnded | PeerSilent | PeerReturned) -> None:
        if len(self._events) >= MAX_QUEUED_EVENTS:
            self.events_dropped += 1
            return
        self._events.append(event)

    def _parse_datagram(self, data: bytes) -> Datagram | None:
        """A received side-plane datagram, or None once it was counted as malformed or of
        an unknown type (both are dropped, never fatal)."""
        try:
            dgram = parse_datagram(data)
        except ProtocolError:
            self.datagrams_malformed += 1
            return None
        if dgram is None:
            self.datagrams_unknown += 1
        return dgram

    def _datagram(self, data: bytes) -> None:
        if len(self._datagrams) >= MAX_QUEUED_DATAGRAMS:
            self._datagrams.popleft()
            self.datagrams_dropped += 1
        self._datagrams.append(data)

    def _end(self, reason: str, *, by_peer: bool, error: bool, code: int | None = None,
             close: tuple[int, str] | None = None, retry_after_s: float | None = None) -> None:
        """End once: the event, the close request (none when the peer already closed),
        every timer cancelled."""
        if self.ended:
            return
        self.ended = True
        self.end_reason = reason
        self._deadlines.clear()
        self._datagrams.clear()
        if close is not None:
            self._close = (close[0], close[1][:200])
        self._event(SessionEnded(reason=reason, by_peer=by_peer, error=error, code=code,
                                 retry_after_s=retry_after_s))
