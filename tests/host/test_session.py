"""One client's connection on the host (HostConnection), served by aioquic on loopback to a
real client, behind a SessionHost of the test's own: the connection asks its host who may
stream, takes and gives back the streaming slot, and hands over its summary at the end."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from aioquic.asyncio import serve
from hosts import free_udp_port, run_client
from lumen_host.audio import ToneSource
from lumen_host.input import LoggingInputSink
from lumen_host.options import HostOptions
from lumen_host.pads import LoggingPadSink
from lumen_host.server import HostServer
from lumen_host.session import HostConnection
from relay import LossyRelay

from lumen_client.session import SessionError, StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_core.identity import load_or_create_identity
from lumen_core.net.quic import server_configuration
from lumen_core.session.events import HelloReceived

pytestmark = pytest.mark.timeout(120)


class Gate:
    """A SessionHost: the server's offer, modes and sinks, with admission and the slot the test's."""

    def __init__(self, server: HostServer, *, problem: str | None = None, slot_free: bool = True,
                 on_acquire: Callable[[], None] = lambda: None) -> None:
        self._server, self._problem, self._slot_free = server, problem, slot_free
        self._on_acquire = on_acquire
        self.hellos: list[HelloReceived] = []
        self.released: list[dict[str, object]] = []
        self.ended = threading.Event()

    def __getattr__(self, name: str) -> Any:  # options, offer, choose_mode, clients, pins, ...
        return getattr(self._server, name)

    def admission_problem(self, hello: HelloReceived) -> str | None:
        self.hellos.append(hello)
        return self._problem

    async def acquire(self, connection: HostConnection) -> bool:
        self._on_acquire()  # just before the Welcome (or the refusal) is sent
        return self._slot_free

    def release(self, connection: HostConnection, result: dict[str, object]) -> None:
        self.released.append(result)
        self.ended.set()


@pytest.fixture
def serve_gate(tmp_path: Path) -> Iterator[Any]:
    """serve_gate(**gate_args) -> (port, gate): HostConnections on a loop of their own."""
    identity, _ = load_or_create_identity(tmp_path / "identity")
    options = HostOptions(port=free_udp_port(), video_port=free_udp_port(), width=320, height=180, fps=30,
                          bitrate_kbps=1000, advertise=False)
    server = HostServer(options, identity, ToneSource(440))
    server.pad_sink, server.input_sink = LoggingPadSink(), LoggingInputSink()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-host")
    thread.start()
    servers: list[Any] = []

    def in_loop(coroutine: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(10)

    def start(**gate_args: Any) -> tuple[int, Gate]:
        gate = Gate(server, **gate_args)
        quic = asyncio.run_coroutine_threadsafe(serve(
            "127.0.0.1", options.port, configuration=server_configuration(identity),
            create_protocol=partial(HostConnection, host=gate)), loop).result(10)
        servers.append(quic)
        return options.port, gate

    start.in_loop = in_loop  # type: ignore[attr-defined]
    yield start
    for quic in servers:
        loop.call_soon_threadsafe(quic.close)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


async def _call(function: Callable[[], None]) -> None:
    function()


def client(port: int, tmp_path: Path, duration: float = 2.0) -> StreamOptions:
    return StreamOptions(host="127.0.0.1", port=port, duration_s=duration, width=320, height=180)


def test_an_admitted_client_streams_and_the_summary_comes_back(serve_gate: Any, tmp_path: Path) -> None:
    port, gate = serve_gate()
    result = run_client(client(port, tmp_path), TrustStore(tmp_path / "p.json"))
    assert not result.error and result.stats["frames_decoded"] > 0
    [hello] = gate.hellos
    assert hello.extension is not None and hello.extension.client_name.startswith("lumen-client")
    assert gate.ended.wait(10)  # the teardown runs on the host's loop after the client has gone
    [summary] = gate.released
    assert summary["frames_sent"] > 0  # type: ignore[operator]


def test_what_the_host_says_about_admission_is_what_the_client_reads(serve_gate: Any, tmp_path: Path) -> None:
    port, gate = serve_gate(problem="this client is not paired with the test host")
    with pytest.raises(SessionError, match="is not paired with"):  # NOT_PAIRED: the client says how to pair
        run_client(client(port, tmp_path), TrustStore(tmp_path / "p.json"))
    assert gate.released == []  # it never held the slot


def test_a_busy_slot_refuses_with_host_busy(serve_gate: Any, tmp_path: Path) -> None:
    port, gate = serve_gate(slot_free=False)
    with pytest.raises(SessionError, match="another client is streaming"):
        run_client(client(port, tmp_path), TrustStore(tmp_path / "p.json"))
    assert gate.hellos and gate.released == []  # the client asked again while the slot stayed taken


def test_a_welcome_lost_to_a_blackout_arrives_soon_after_the_link_returns(serve_gate: Any, tmp_path: Path) -> None:
    # QUIC alone would next probe seconds after a 4 s outage (its probe timeout doubles
    # with each probe lost: on loopback 30, 60, 120, ... 1920 ms); the connection's
    # exchange PINGs (quic.py) bring the Welcome across within a ping or two instead.
    blackout: list[float] = []
    port, _ = serve_gate(on_acquire=lambda: blackout.extend((time.monotonic(), time.monotonic() + 4.0)))
    relay, relay_port = serve_gate.in_loop(LossyRelay.start(
        ("127.0.0.1", port), lambda flow, age: bool(blackout) and blackout[0] <= time.monotonic() < blackout[1]))
    try:
        result = run_client(client(relay_port, tmp_path, duration=0.2), TrustStore(tmp_path / "p.json"))
        finished = time.monotonic()
    finally:
        serve_gate.in_loop(_call(relay.close))
    assert not result.error and result.stats["dials"] == 1 and result.stats["handshake_retries"] == 0, result
    assert sum(relay.dropped) > 0, "the blackout came after the Welcome"
    # From the link's return: the Welcome, Start, 0.2 s of stream and the goodbye.
    assert finished - blackout[1] < 1.5, finished - blackout[1]
