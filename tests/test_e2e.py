"""One real session end to end: a lumen-host process, a client on real loopback sockets,
real QUIC, real codecs."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from hosts import ClientRun, free_udp_port, run_client, start_host

from lumen_client.pipeline import Each
from lumen_client.session import SessionError, StreamOptions, TrustError
from lumen_client.trust_store import TrustStore
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_UP, PadState
from lumen_core.identity import create_identity, load_or_create_identity

pytestmark = pytest.mark.timeout(180)


def options(host, duration: float = 3.0, **kw) -> StreamOptions:  # type: ignore[no-untyped-def]
    return StreamOptions(host="127.0.0.1", port=host.port, duration_s=duration, width=640, height=360, **kw)


def wait_for(condition, run: ClientRun, what: str, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (a client's state) until it holds; the run's own error if it died."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert run.error is None, run.error
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def wait_streaming(run: ClientRun, timeout_s: float = 15.0) -> None:
    wait_for(lambda: run.session.streaming, run, "no Welcome from the host", timeout_s)


def test_two_sessions_back_to_back(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--max-sessions", "2", "--rumble-test")
    store = TrustStore(tmp_path / "pins.json")
    pressed = PadState(buttons=LUMEN_BTN_A | LUMEN_BTN_UP, lx=-1000, ly=12000, rx=300, ry=-32767, lt=200, rt=100)
    results = []
    for _ in range(2):
        run = ClientRun(options(host, 3.0, pin=host.fingerprint), store).start()
        wait_streaming(run)
        run.session.pad_arrived(0, "test pad")
        run.session.set_pad_state(0, PadState(buttons=LUMEN_BTN_A))
        run.session.set_pad_state(0, pressed)
        results.append(run.join())
    sessions = host.wait_for_sessions(2)
    assert host.proc.wait(timeout=15) == 0, "host must stop by itself after --max-sessions 2"
    for result, served in zip(results, sessions, strict=True):
        stats = result.stats
        assert served["frames_sent"] > 100
        assert stats["frames_decoded"] >= 0.9 * served["frames_sent"], (stats, served)
        assert 180 <= stats["audio_packets_per_s"] <= 220, stats
        assert served["pads"] == {"0": {"buttons": pressed.buttons, "lx": -1000, "ly": 12000, "rx": 300,
                                        "ry": -32767, "lt": 200, "rt": 100}}
        assert stats["rumble"] == {"0": [200 * 257, 100 * 257]}  # --rumble-test: triggers -> motors
        assert stats["rumble_messages"] >= 1
        assert stats["latency_ms"]["capture_to_decoded"]["p50"] > 0
        assert stats["decoder"] == "software" or "hardware" in stats["decoder"]
        assert result.trusted_by == "pin" and result.mode == "extended" and served["mode"] == "extended"
        assert served["input"]["pad"] >= 2 and stats["codec"] == "h264"


def test_pin_wrong_pin_and_trust_on_first_use(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    store = TrustStore(tmp_path / "pins.json")
    try:
        assert run_client(options(host, 1.0, pin=host.fingerprint), store).trusted_by == "pin"
        with pytest.raises(TrustError, match="does not match --pin"):
            run_client(options(host, 1.0, pin="00" * 32), store)
        seen: list[str] = []
        first = run_client(options(host, 1.0), store, lambda fp: seen.append(fp) or True)
        assert first.trusted_by == "first use" and seen == [host.fingerprint]
        assert store.get(f"127.0.0.1:{host.port}") == host.fingerprint
        again = run_client(options(host, 1.0), store, lambda fp: pytest.fail("asked again"))
        assert again.trusted_by == "stored pin"
        with pytest.raises(TrustError, match="not accepted"):
            run_client(options(host, 1.0), TrustStore(tmp_path / "other.json"), lambda fp: False)
        assert TrustStore(tmp_path / "other.json").get(f"127.0.0.1:{host.port}") is None
    finally:
        assert host.stop() == 0


def test_different_host_under_a_stored_pin_is_refused(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "pins.json")
    port = free_udp_port()
    first = start_host(tmp_path, port=port, identity=tmp_path / "a")
    run_client(options(first, 1.0), store)
    first.stop()
    impostor = start_host(tmp_path, port=port, identity=tmp_path / "b")
    try:
        with pytest.raises(TrustError, match=r"fingerprint of 127\.0\.0\.1:\d+ changed"):
            run_client(options(impostor, 1.0), store, lambda fp: pytest.fail("must not fall back to first use"))
    finally:
        impostor.stop()


def test_peer_with_the_host_certificate_but_not_its_key_is_refused(tmp_path: Path) -> None:
    """Pinning the certificate alone proves nothing: TLS CertificateVerify must be checked."""
    from aioquic.asyncio import serve
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from lumen_core.net.quic import _configuration

    real, _ = load_or_create_identity(tmp_path / "real")
    other = create_identity(tmp_path / "other")
    config = _configuration(is_client=False)
    config.certificate = x509.load_pem_x509_certificate(real.cert_path.read_bytes())  # the real certificate...
    config.private_key = load_pem_private_key(other.key_path.read_bytes(), None)  # ...without its key
    port = free_udp_port()
    ready, stop = threading.Event(), threading.Event()

    async def impostor() -> None:
        server = await serve("127.0.0.1", port, configuration=config)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()

    thread = threading.Thread(target=lambda: asyncio.run(impostor()))
    thread.start()
    ready.wait(10)
    try:
        opts = StreamOptions(host="127.0.0.1", port=port, duration_s=1.0, pin=real.fingerprint)
        with pytest.raises(SessionError) as info:
            run_client(opts, TrustStore(tmp_path / "p.json"))
        assert "within" not in str(info.value), "refused by TLS, not by a timeout"
    finally:
        stop.set()
        thread.join(10)


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


def test_malformed_pin_exits_2_before_any_packet(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    res = subprocess.run([sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{port}", "--headless",
                          "--pin", "12:34:zz"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "malformed --pin" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1
    with pytest.raises(TimeoutError):
        listener.recvfrom(2048)
    listener.close()


def test_cli_pin_mismatch_exits_3(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    try:
        res = subprocess.run([sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{host.port}",
                              "--headless", "--duration", "1", "--pin", "ab" * 32, "--no-gamepads"],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c")})
        assert res.returncode == 3, res.stderr
        assert "does not match --pin" in res.stderr and "Traceback" not in res.stderr
    finally:
        host.stop()


def test_ctrl_c_mid_stream_tears_everything_down(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    run = ClientRun(options(host, 20.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json")).start()
    wait_for(lambda: run.session.counters()["frames_decoded"] >= 45, run, "no pictures decoded")
    started = time.monotonic()
    assert host.stop() == 0  # SIGINT, as Ctrl+C sends
    assert time.monotonic() - started < 5
    [served] = host.sessions()
    assert served["end_reason"] == "host is shutting down" and served["frames_sent"] > 30
    result = run.join()
    assert "host" in result.end_reason


def test_screen_source_under_xvfb(tmp_path: Path, xvfb_display: str) -> None:
    host = start_host(tmp_path, "--source", "screen", "--max-sessions", "1")
    result = run_client(options(host, 2.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json"))
    [served] = host.wait_for_sessions(1)
    assert result.stats["frames_decoded"] >= 30 and served["frames_sent"] >= 30


def test_desktop_audio_source_reaches_the_client(tmp_path: Path, pulse_sink) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    subprocess.run(["pactl", f"--server={pulse_sink.server}", "set-default-source", f"{pulse_sink.sink}.monitor"],
                   check=True, timeout=10)
    tone_hz, rate = 1000, 48000
    t = np.arange(rate * 8) / rate
    pcm = (np.sin(2 * np.pi * tone_hz * t) * 12000).astype("<i2").repeat(2).tobytes()
    player = subprocess.Popen(["pacat", f"--server={pulse_sink.server}", "--format=s16le", "--rate=48000",
                               "--channels=2", "--raw", f"--device={pulse_sink.sink}"], stdin=subprocess.PIPE)

    def feed() -> None:
        # The player is killed once the client has heard enough, usually mid-write.
        with contextlib.suppress(BrokenPipeError, ValueError):
            player.stdin.write(pcm)  # type: ignore[union-attr]
            player.stdin.close()  # type: ignore[union-attr]

    threading.Thread(target=feed, daemon=True).start()
    host = start_host(tmp_path, "--audio-source", "pulse", "--max-sessions", "1")
    heard = bytearray()
    try:
        run = ClientRun(options(host, 3.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json"),
                        audio=Each(heard.extend)).start()
        result = run.join()
    finally:
        player.kill()
    assert 180 <= result.stats["audio_packets_per_s"] <= 220
    samples = np.frombuffer(bytes(heard), dtype="<i2").reshape(-1, 2)[:, 0].astype(np.float64)[rate // 2 :]
    assert np.abs(samples).max() > 2000, "the client heard silence"
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    assert abs(np.argmax(spectrum) * rate / samples.size - tone_hz) < 20


@pytest.mark.skipif(not os.access("/dev/uinput", os.W_OK), reason="needs a writable /dev/uinput (none on CI machines)")
def test_uinput_pad_sink_creates_a_virtual_controller() -> None:
    import evdev
    from lumen_host.pads import UinputPadSink

    rumbles: list[tuple[int, int, int]] = []
    sink = UinputPadSink(lambda pad, low, high: rumbles.append((pad, low, high)))
    try:
        sink.update(0, PadState(buttons=LUMEN_BTN_A, ly=32767))
        names = [evdev.InputDevice(path).name for path in evdev.list_devices()]
        assert "lumen virtual pad 0" in names
    finally:
        sink.close()
