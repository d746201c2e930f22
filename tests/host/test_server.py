"""The host's server: one session's silence, garbage or death never stops it serving the next."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hosts import ClientRun, run_client, start_host
from streams import options, wait_streaming

from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(180)


def test_silent_client_does_not_block_the_next(tmp_path: Path) -> None:
    from aioquic.asyncio import connect

    from lumen_core.net.quic import client_configuration

    host = start_host(tmp_path)
    closed_after: list[float] = []
    connected = threading.Event()

    async def silent() -> None:
        async with connect("127.0.0.1", host.port, configuration=client_configuration()) as proto:
            started = time.monotonic()
            connected.set()
            closed = asyncio.ensure_future(proto.wait_closed())
            while not closed.done():  # keeps QUIC alive, never says Hello: the deadline must end it
                ping = asyncio.ensure_future(proto.ping())
                ping.add_done_callback(lambda f: f.cancelled() or f.exception())  # closed: ConnectionError
                await asyncio.wait({closed}, timeout=1.0)
                ping.cancel()
            closed_after.append(time.monotonic() - started)

    silent_thread = threading.Thread(target=lambda: asyncio.run(silent()))
    silent_thread.start()
    raw = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw.sendto(os.urandom(1200), ("127.0.0.1", host.port))  # a UDP flow that is not even QUIC
    assert connected.wait(10), "the silent client did not connect"
    try:
        started = time.monotonic()
        result = run_client(options(host, 1.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json"))
        assert result.stats["frames_decoded"] > 0
        assert time.monotonic() - started < 8, "the silent client held the next one up"
        silent_thread.join(20)
        assert closed_after and 9 <= closed_after[0] <= 14, closed_after
    finally:
        raw.close()
        host.stop()


def test_garbage_does_not_crash_or_stall_the_host(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--max-sessions", "1")
    run = ClientRun(options(host, 3.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json")).start()
    wait_streaming(run)
    junk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for _ in range(200):
        junk.sendto(os.urandom(300), ("127.0.0.1", host.port))
        junk.sendto(os.urandom(300), ("127.0.0.1", host.video_port))
    proto = run.session.connection
    assert proto is not None
    # Unknown planes, a short rumble and a pad button without a button, and a plane meant for the client.
    for payload in (b"\x42 unknown plane", b"\xd0", b"\xca\x01", b"\xcb" + bytes(20), b"\xca" + bytes(6)):
        run.session.call_soon(proto.send_datagram, payload)
    result = run.join()
    [served] = host.wait_for_sessions(1)
    assert served["video_garbage"] >= 150
    assert served["datagrams_unknown"] >= 2 and served["datagrams_malformed"] >= 2, served
    assert served["datagrams_unexpected"] >= 1
    assert result.stats["frames_decoded"] >= 0.9 * served["frames_sent"]
    assert host.proc.wait(timeout=15) == 0


def test_killing_the_client_leaves_the_host_serving(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--max-sessions", "2")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "client-config")}
    client = subprocess.Popen(
        [sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{host.port}", "--headless",
         "--duration", "60", "--pin", host.fingerprint, "--no-gamepads"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    host.wait_for_log("video to")  # streaming: the client is killed mid-stream
    client.kill()
    client.wait()
    killed = time.monotonic()
    # The host learns from the kernel that the client's ports closed; a busy answer meanwhile
    # is asked again by the next client itself.
    run = ClientRun(options(host, 2.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json")).start()
    host.wait_for_log("video to", after=1)
    assert time.monotonic() - killed < 3.0, "the next client was served within 3 s"
    result = run.join()
    assert result.stats["frames_decoded"] > 60
    first, _ = host.wait_for_sessions(2)
    assert "client gone: its video port is closed" in str(first["end_reason"])
    assert host.proc.wait(timeout=15) == 0
