"""Against lumen's real M3 peers (``../shared/lumen-m3``): its reference client
``lumen-client-rs`` on our host, and our client on ``m3-mini-host`` (M3's host session flow on
M3's own protocol code). Each test skips, saying why, where the peers are absent."""

from __future__ import annotations

import asyncio
import socket
import time
from pathlib import Path

import pytest
from hosts import free_udp_port, run_client, start_host
from m3 import read_aus, run_m3_client, sample, start_m3_host

from lumen_client.session import SessionError, StreamOptions, TrustError
from lumen_client.trust_store import TrustStore
from lumen_core.net.quic import SessionProtocol, client_configuration
from lumen_core.net.video import open_video_socket
from lumen_core.session import ClientOptions, ClientSession
from lumen_core.session.events import Streaming
from lumen_core.trust import pin_matches
from lumen_core.video import Reassembler, VideoConfig

pytestmark = pytest.mark.timeout(240)


# -- lumen-client-rs on our host ----------------------------------------------------------


def test_m3_client_verifies_our_synthetic_stream_and_sends_every_input(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--source", "m3-synthetic", "--frames", "300", "--rumble-test",
                      "--max-sessions", "1")
    run = run_m3_client("--connect", f"127.0.0.1:{host.port}", "--pin", host.fingerprint, "--input-test")
    assert run.returncode == 0 and run.passed, run.output
    assert run.number("frames") == 300 and run.number("mismatched") == 0
    streamed = run.seconds_between("session offer", "stream complete")
    assert 180 <= run.number("audio_pkts") / streamed <= 220, (run.number("audio_pkts"), streamed)
    assert run.number("rumble_pkts") > 0
    [served] = host.wait_for_sessions(1)
    assert served["mode"] == "base" and served["codec"] == "m3-synthetic" and served["frames_sent"] == 300
    assert served["input"]["keys"] > 0 and served["input"]["mouse"] > 0 and served["input"]["pad"] > 0, served
    assert served["pads"]["0"]["lx"] != 0  # the client's stick sweep reached the pad state
    assert host.proc.wait(timeout=15) == 0


def test_m3_client_streams_our_test_pattern_in_base_mode(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--seconds", "3", "--max-sessions", "3")
    try:
        run = run_m3_client("--connect", f"127.0.0.1:{host.port}", "--pin", host.fingerprint)
        assert run.returncode == 0, run.output
        assert run.number("frames") >= 150  # 3 s at 60 fps: frames for the whole session
        [served] = host.wait_for_sessions(1)
        assert served["mode"] == "base" and served["codec"] == "hevc" and served["keyframes"] >= 1
        assert abs(served["frames_sent"] - run.number("frames")) <= 5
        wrong = run_m3_client("--connect", f"127.0.0.1:{host.port}", "--pin", "ab" * 32)
        assert wrong.returncode != 0 and "ApplicationVerificationFailure" in wrong.output
        first_use = run_m3_client("--connect", f"127.0.0.1:{host.port}")
        assert f"fingerprint={host.fingerprint}" in first_use.output and "trust-on-first-use" in first_use.output
        assert len(host.wait_for_sessions(2)) == 2  # the refused pin never became a session
    finally:
        host.stop()


# -- our client on m3-mini-host -------------------------------------------------------


@pytest.mark.parametrize("codec", ["h265", "h264"])
def test_our_client_streams_from_an_m3_host(tmp_path: Path, codec: str) -> None:
    port = free_udp_port()
    m3 = start_m3_host(tmp_path, port, "--source", f"file:{sample(f'{codec}-1280x720-120au.aus')}", "--codec",
                       codec, "--seconds", "4", "--max-sessions", "3")
    store = TrustStore(tmp_path / "pins.json")
    try:
        pinned = StreamOptions(host="127.0.0.1", port=port, pin=m3.fingerprint, width=1280, height=720,
                               duration_s=None)
        result = run_client(pinned, store)
        stats = result.stats
        assert result.mode == "base" and result.trusted_by == "pin"
        assert stats["codec"] == ("hevc" if codec == "h265" else "h264")
        counts = {k: stats[k] for k in ("frames_received", "frames_decoded", "frames_dropped", "frames_skipped",
                                        "frames_lost", "keyframes_wanted")} | stats["video"]
        assert stats["frames_received"] >= 200 and stats["frames_decoded"] >= 0.9 * stats["frames_received"], counts
        assert 180 <= stats["audio_packets_per_s"] <= 220, stats
        assert stats["rumble_messages"] > 0 and stats["rumble"]
        assert "done" in result.end_reason  # the host ended it, as M3's does after --seconds
        with pytest.raises(TrustError, match="does not match --pin"):
            run_client(StreamOptions(host="127.0.0.1", port=port, pin="00" * 32, duration_s=1.0), store)
        seen: list[str] = []
        first = run_client(StreamOptions(host="127.0.0.1", port=port, duration_s=1.0, width=1280, height=720),
                           store, lambda fp: seen.append(fp) or True)
        assert first.trusted_by == "first use" and seen == [m3.fingerprint]
        assert store.get(f"127.0.0.1:{port}") == m3.fingerprint
    finally:
        m3.stop()


def _capture(port: int, pin: str, seconds: float) -> tuple[VideoConfig, list[bytes]]:
    """Our client's session core on a real QUIC connection to an M3 host, and the video
    datagrams that arrive at its socket for ``seconds`` (not reassembled)."""
    sock = open_video_socket(("0.0.0.0", 0))
    core = ClientSession(ClientOptions(width=1280, height=720, refresh_hz=60, video_port=sock.getsockname()[1]))
    streaming: list[Streaming] = []

    class Capture(SessionProtocol):
        def on_handshake(self) -> None:
            assert pin_matches(pin, self.peer_fingerprint() or "")
            self.attach(core, lambda e: streaming.append(e) if isinstance(e, Streaming) else None)
            core.connect(self.now())
            self.drive()

    def receive(until: float) -> list[bytes]:
        sock.settimeout(0.1)
        got = []
        while time.monotonic() < until:
            try:
                got.append(sock.recv(4096))
            except TimeoutError:
                continue
        return got

    async def run() -> list[bytes]:
        from aioquic.asyncio import connect

        async with connect("127.0.0.1", port, configuration=client_configuration(), create_protocol=Capture) as proto:
            while not streaming:
                await asyncio.sleep(0.01)
            sock.connect(("127.0.0.1", streaming[0].welcome.udp_port))
            got = await asyncio.get_running_loop().run_in_executor(None, receive, time.monotonic() + seconds)
            core.close(proto.now())
            proto.drive()  # type: ignore[attr-defined]
            return got

    try:
        datagrams = asyncio.run(run())
    finally:
        sock.close()
    return streaming[0].video, datagrams


def test_our_client_rebuilds_an_m3_hosts_gf16_blocks_under_loss(tmp_path: Path) -> None:
    path = sample("h265-1280x720-120au.aus")
    port = free_udp_port()
    m3 = start_m3_host(tmp_path, port, "--source", f"file:{path}", "--codec", "h265", "--seconds", "3",
                       "--max-sessions", "1")
    try:
        config, datagrams = _capture(port, m3.fingerprint, 2.5)
    finally:
        m3.stop()
    assert config.scheme == 1 and config.percent == 20 and config.shard_payload == 1200  # M3's offer
    reassembler = Reassembler(config)
    for n, datagram in enumerate(datagrams):
        if n % 10 != 9:  # every tenth datagram lost, before reassembly
            reassembler.receive_datagram(datagram, 0)
    frames = list(iter(reassembler.next_event, None))
    aus = read_aus(path)
    assert len(frames) >= 100
    assert all(bytes(f.data) == aus[f.frame_index % len(aus)] for f in frames)  # byte for byte the file's AUs
    stats = reassembler.stats
    # A tenth lost, 20 % recovery shards: every frame comes back, most through GF(2^16).
    assert stats.frames_dropped == 0 and stats.frames_recovered >= 0.5 * len(frames), stats
    assert stats.fec_recovered_shards >= 0.5 * (len(datagrams) // 10), stats


def test_an_m3_host_that_is_not_there_is_reported_in_one_line(tmp_path: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    start = time.monotonic()
    with pytest.raises(SessionError, match=r"no answer from 127\.0\.0\.1"):
        run_client(StreamOptions(host="127.0.0.1", port=port, duration_s=1.0), TrustStore(tmp_path / "p.json"))
    assert time.monotonic() - start < 15
