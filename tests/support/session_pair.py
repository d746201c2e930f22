"""A client and a host session joined by an in-memory link and a fake clock, sans-IO.

In the style of aioquic's tests/test_connection.py: time is a number the test moves,
timers are read with get_timer() and fired with handle_timer(), and everything goes
through the sessions' public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lumen_core.session import ClientOptions, ClientSession, HostOffer, HostSession
from lumen_core.session.events import HelloReceived

KEY = bytes(range(1, 17))
CLIENT = ClientOptions(width=1280, height=720, refresh_hz=60, video_port=40000, client_name="test client")
OFFER = HostOffer(video_port=9778, host_name="test host")


@dataclass
class Pair:
    """A client and a host joined by an in-memory link; ``now`` is the shared fake clock."""

    client: ClientSession
    host: HostSession
    now: float = 0.0
    client_events: list[Any] = field(default_factory=list)
    host_events: list[Any] = field(default_factory=list)
    drop_datagrams: bool = False
    client_cut: bool = False  # nothing from the client reaches the host

    def pump(self) -> None:
        """Carry bytes both ways until both sides are quiet; collect their events."""
        for _ in range(20):
            moved = False
            data = self.client.control_data_to_send()
            if data and not self.client_cut:
                self.host.receive_control(data, self.now)
                moved = True
            for dgram in self.client.datagrams_to_send():
                if not self.drop_datagrams and not self.client_cut:
                    self.host.receive_datagram(dgram, self.now)
            data = self.host.control_data_to_send()
            if data:
                self.client.receive_control(data, self.now)
                moved = True
            for dgram in self.host.datagrams_to_send():
                if not self.drop_datagrams:
                    self.client.receive_datagram(dgram, self.now)
            self.client_events += list(iter(self.client.next_event, None))
            self.host_events += list(iter(self.host.next_event, None))
            if not moved:
                return

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer that falls due on the way, in order."""
        end = self.now + seconds
        while True:
            timers = [t for t in (self.client.get_timer(), self.host.get_timer()) if t is not None and t <= end]
            if not timers:
                break
            self.now = max(self.now, min(timers))
            self.client.handle_timer(self.now)
            self.host.handle_timer(self.now)
            self.pump()
        self.now = end

    def connect(self) -> HelloReceived:
        self.client.connect(self.now)
        self.pump()
        [hello] = [e for e in self.host_events if isinstance(e, HelloReceived)]
        return hello

    def stream(self) -> None:
        self.connect()
        self.host.accept(self.now, width=1280, height=720, refresh_hz=60)
        self.pump()
        assert self.client.streaming and self.host.streaming


def pair(client: ClientOptions = CLIENT, offer: HostOffer = OFFER) -> Pair:
    return Pair(ClientSession(client), HostSession(offer, key=KEY, now=0.0))


def of(kind: type, events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]
