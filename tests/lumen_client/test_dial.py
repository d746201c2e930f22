"""Dialling a real lumen-host through a relay that loses chosen attempts' packets: the
attempt that connects first wins wherever it started, the others are closed, and a host
that answers "no" ends the dial at once."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from functools import partial
from typing import Any

import pytest
from aioquic.asyncio import QuicConnectionProtocol, connect
from hosts import HostProcess, start_host
from relay import DropRule, LossyRelay

from lumen_client.dial import Dialled, DialTimeout, dial
from lumen_core.net.quic import client_configuration

pytestmark = pytest.mark.timeout(120)

FAST = (0.0, 0.3, 0.6, 0.9)  # attempts every 0.3 s: a test need not wait out real spacing


class Recorded(QuicConnectionProtocol):
    made: list[Recorded]

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport = transport
        self.made.append(self)


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Any:
    host = start_host(tmp_path_factory.mktemp("dial"), "--max-sessions", "0")
    yield host
    host.stop()


def attempts(port: int, made: list[Recorded], **config: Any) -> Callable[[], AbstractAsyncContextManager[Any]]:
    configuration = client_configuration()
    for name, value in config.items():
        setattr(configuration, name, value)
    protocol = type("Made", (Recorded,), {"made": made})
    return partial(connect, "127.0.0.1", port, configuration=configuration, create_protocol=protocol)


async def through_relay(host: HostProcess, drop: DropRule, window_s: float,
                        **config: Any) -> tuple[Dialled[Any] | BaseException, LossyRelay, list[Recorded], float]:
    relay, port = await LossyRelay.start(("127.0.0.1", host.port), drop)
    made: list[Recorded] = []
    started = time.monotonic()
    try:
        outcome: Dialled[Any] | BaseException = await dial(attempts(port, made, **config), window_s, FAST)
    except (DialTimeout, ConnectionError) as exc:
        outcome = exc
    took = time.monotonic() - started
    if isinstance(outcome, Dialled):
        await outcome.close()
    relay.close()
    return outcome, relay, made, took


def test_a_clean_path_takes_one_attempt(host: HostProcess) -> None:
    dialled, relay, made, _ = asyncio.run(through_relay(host, lambda flow, age: False, 5.0))
    assert isinstance(dialled, Dialled) and dialled.attempts == 1 and len(made) == 1
    assert relay.dropped == [0]


def test_attempts_whose_packets_are_lost_lose_to_a_later_one(host: HostProcess) -> None:
    # The first two attempts hear nothing back, ever: the third connects.
    dialled, relay, made, _ = asyncio.run(through_relay(host, lambda flow, age: flow < 2, 5.0))
    assert isinstance(dialled, Dialled), dialled
    assert dialled.attempts == 3 and dialled.protocol is made[2]
    assert relay.passed[0] == relay.passed[1] == 0 and relay.passed[2] > 0
    assert all(protocol.transport.is_closing() for protocol in made), "every attempt's socket closed"


def test_a_slow_first_attempt_is_never_replaced(host: HostProcess) -> None:
    # The first attempt's packets are lost for its first 0.5 s (its 0.6 s probe gets
    # through); every later attempt's are lost for good. A redial that gave up on the
    # first would never connect.
    dialled, relay, made, _ = asyncio.run(through_relay(host, lambda flow, age: flow > 0 or age < 0.5, 5.0))
    assert isinstance(dialled, Dialled), dialled
    assert dialled.protocol is made[0] and dialled.attempts >= 2, (dialled.attempts, relay.passed)
    assert relay.dropped[0] > 0 and relay.passed[1] == 0


def test_nothing_through_times_out_after_every_attempt(host: HostProcess) -> None:
    outcome, _relay, made, took = asyncio.run(through_relay(host, lambda flow, age: True, 1.5))
    assert isinstance(outcome, DialTimeout) and outcome.attempts == 4 == len(made), outcome
    assert 1.5 <= took < 4.0, took  # the window, and losers' closing; not their whole lives
    assert all(protocol.transport.is_closing() for protocol in made)


def test_a_host_that_refuses_ends_the_dial_at_once(host: HostProcess) -> None:
    # A QUIC version the host does not speak: it answers with Version Negotiation, and
    # aioquic gives up on the connection with no common version. Nothing is retried.
    outcome, _relay, made, took = asyncio.run(
        through_relay(host, lambda flow, age: False, 5.0, supported_versions=[0x1A2A3A4A]))
    assert isinstance(outcome, ConnectionError), outcome
    assert len(made) == 1 and took < 1.0, (len(made), took)
