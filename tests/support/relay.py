"""A UDP relay on loopback that loses what a test says, per client flow (tests).

Each client source port is a flow, numbered in the order the relay first hears it; a
flow's datagrams both ways are dropped while ``drop(flow, seconds_since_its_first)`` says
so. That loses a given QUIC attempt's packets and no other's, which netlab's random loss
cannot aim at.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, cast

Address = tuple[Any, ...]
DropRule = Callable[[int, float], bool]


class _Upstream(asyncio.DatagramProtocol):
    def __init__(self, relay: LossyRelay, flow: int, client: Address) -> None:
        self.relay, self.flow, self.client = relay, flow, client

    def datagram_received(self, data: bytes, addr: Address) -> None:
        self.relay.forward(self.flow, data, lambda: self.relay.front.sendto(data, self.client))


class LossyRelay(asyncio.DatagramProtocol):
    def __init__(self, target: Address, drop: DropRule) -> None:
        self.target, self.drop = target, drop
        self.front: asyncio.DatagramTransport
        self.flows: dict[Address, tuple[int, asyncio.DatagramTransport | None]] = {}
        self.first_heard: list[float] = []
        self.passed: list[int] = []  # datagrams let through, per flow
        self.dropped: list[int] = []
        self._opening: set[asyncio.Future[None]] = set()

    @classmethod
    async def start(cls, target: Address, drop: DropRule) -> tuple[LossyRelay, int]:
        """The relay and the loopback port it listens on."""
        loop = asyncio.get_running_loop()
        _, relay = await loop.create_datagram_endpoint(lambda: cls(target, drop), local_addr=("127.0.0.1", 0))
        return relay, relay.front.get_extra_info("sockname")[1]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.front = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if addr not in self.flows:
            flow = len(self.first_heard)
            self.first_heard.append(asyncio.get_running_loop().time())
            self.passed.append(0)
            self.dropped.append(0)
            self.flows[addr] = (flow, None)
            self._opening.add(asyncio.ensure_future(self._open_upstream(addr, flow)))
        flow, upstream = self.flows[addr]
        if upstream is not None:
            self.forward(flow, data, lambda: upstream.sendto(data))
        else:  # the upstream socket is being opened: this first packet waits for it
            asyncio.get_running_loop().call_soon(self.datagram_received, data, addr)

    async def _open_upstream(self, client: Address, flow: int) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: _Upstream(self, flow, client),
                                                           remote_addr=self.target)
        self.flows[client] = (flow, transport)

    def forward(self, flow: int, data: bytes, send: Callable[[], None]) -> None:
        age = asyncio.get_running_loop().time() - self.first_heard[flow]
        if self.drop(flow, age):
            self.dropped[flow] += 1
        else:
            self.passed[flow] += 1
            send()

    def close(self) -> None:
        for _, upstream in self.flows.values():
            if upstream is not None:
                upstream.close()
        self.front.close()
