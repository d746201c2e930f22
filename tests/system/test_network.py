"""Sessions through a real impaired network: two namespaces and netlab's forwarder.

The host runs on side A, the headless client on side B; every packet of QUIC and of the
video plane crosses the forwarder, which loses, delays, reorders, duplicates, corrupts,
limits and blackholes them as each test says. 640x360@60 test pattern unless said.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from m3 import M3ClientRun, require
from network import client_in, host_in, need_netlab
from project import ROOT

from netlab import Impairment, NetLab
from netlab.lab import ADDRESS_A, ADDRESS_B

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def lab():  # type: ignore[no-untyped-def]
    need_netlab()
    with NetLab(seed=11) as lab:
        yield lab


def test_blackholes_both_ways_resume_the_same_connection(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path, "--max-sessions", "1")
    client = client_in(lab, tmp_path, host, 17.0)
    host.wait_for_log("video to")
    time.sleep(3.0)
    lab.blackhole(2.0)
    time.sleep(5.0)
    lab.blackhole(5.0)
    assert client.wait() == 0, client.log()
    stats = client.stats()
    [served] = host.wait_for_sessions(1)
    assert host.log().count("mode with") == 1, "one handshake, one session"
    # 2 s is within the liveness timeout: nobody paused. 5 s: both sides missed the other.
    assert len(served["outages"]) == 1 and 4.5 <= served["outages"][0] <= 6.5, served["outages"]
    assert len(stats["outages"]) == 1, stats["outages"]
    freezes = stats["freezes"]
    assert freezes["longest_s"] <= 5.0 + 1.0, f"frames within 1 s of the link's return: {freezes}"
    assert stats["frames_decoded"] >= 0.5 * served["frames_encoded"], stats
    assert "resumed with a keyframe" in host.log()


def test_a_one_way_blackhole_resumes_too(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path, "--max-sessions", "1")
    client = client_in(lab, tmp_path, host, 11.0)
    host.wait_for_log("video to")
    time.sleep(3.0)
    lab.blackhole(5.0, "a>b")  # the host's packets are lost; the client's still arrive
    assert client.wait() == 0, client.log()
    stats = client.stats()
    [served] = host.wait_for_sessions(1)
    assert host.log().count("mode with") == 1
    assert len(stats["outages"]) == 1 and 4.0 <= stats["outages"][0] <= 6.5, stats["outages"]
    assert stats["freezes"]["longest_s"] <= 5.0 + 1.0, stats["freezes"]
    assert stats["frames_decoded"] >= 0.5 * served["frames_encoded"]


def test_host_killed_mid_stream_the_client_says_so_within_3_s(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path)
    client = client_in(lab, tmp_path, host, 30.0)
    host.wait_for_log("video to")
    time.sleep(1.0)
    host.proc.kill()
    killed = time.monotonic()
    code = client.wait(10)
    took = time.monotonic() - killed
    last = client.log().strip().splitlines()[-1]
    assert code == 1 and took < 3.0, (code, took, client.log())
    assert last.startswith("lumen-client: the session failed: lost the host: its video port is closed"), last


def test_twenty_connects_through_30_percent_loss_all_succeed(lab: NetLab, tmp_path: Path) -> None:
    lab.set(Impairment(loss=0.3))
    host = host_in(lab, tmp_path, "--max-sessions", "20")
    failures, modes, retries = [], [], 0
    for _ in range(20):
        client = client_in(lab, tmp_path, host, 0.5)
        if client.wait(50) != 0:
            failures.append(client.log())
        else:
            modes.append(client.stats()["mode"])
            retries += client.stats()["handshake_retries"]
    assert not failures, f"{len(failures)} of 20 failed; first:\n{failures[0]}"
    assert modes == ["extended"] * 20
    host.wait_for_sessions(20, timeout_s=30)
    # One handshake each, but for a handshake that stalled and was tried again.
    assert 20 <= host.log().count("mode with") <= 20 + retries, retries


def test_jitter_reordering_and_duplication_lose_nothing(lab: NetLab, tmp_path: Path) -> None:
    lab.set(Impairment(delay_ms=20, jitter_ms=10, reorder=0.05, duplicate=0.05))
    host = host_in(lab, tmp_path, "--max-sessions", "1")
    client = client_in(lab, tmp_path, host, 8.0)
    assert client.wait() == 0, client.log()
    stats = client.stats()
    [served] = host.wait_for_sessions(1)
    assert stats["frames_lost"] == 0 and stats["frames_dropped"] == 0, stats
    # Every frame the host sent was decoded, but for what was in flight when the client left.
    assert stats["frames_decoded"] >= served["frames_sent"] - 5, (stats["frames_decoded"], served["frames_sent"])
    # No audio lost to the network. A slot is concealed only when its packet came after it:
    # here that happens only when the host's own audio pump was held up (two cores shared
    # by both ends, the encoder and the forwarder) and sent late, and each such packet is
    # counted late, not lost.
    assert stats["audio_played_per_s"] >= 195 and stats["audio_lost"] <= 1, stats  # 1: a slot as the session ends
    assert stats["audio_concealed"] <= stats["audio_late"] + 1 and stats["audio_late"] <= 8, stats
    assert lab.counters()["a>b"]["reordered"] > 50


@pytest.mark.parametrize("loss", [0.05, 0.10])
def test_random_loss_both_ways_on_real_content(lab: NetLab, tmp_path: Path, loss: float) -> None:
    lab.set(Impairment(loss=loss))
    host = host_in(lab, tmp_path, "--max-sessions", "1", "--fec-parity", "20", "--source", "scene",
                   "--size", "1280x720", "--bitrate", "20000")
    client = client_in(lab, tmp_path, host, 10.0, size="1280x720")
    assert client.wait() == 0, client.log()
    stats = client.stats()
    [served] = host.wait_for_sessions(1)
    decoded = stats["frames_decoded"] / served["frames_sent"]
    mbps = stats["video"]["bytes"] * 8 / stats["duration_s"] / 1e6
    assert mbps >= 12, f"the stream was {mbps:.1f} Mbit/s, not a 20 Mbit/s one"
    # Each block lost to the network costs its frame and those until the keyframe it asks
    # for: the rate control's parity keeps that to about one in 100 000 blocks.
    why = {key: stats[key] for key in ("frames_decoded", "frames_lost", "frames_dropped", "frames_late",
                                       "keyframe_requests", "rate_changes")}
    assert decoded >= (0.995 if loss <= 0.05 else 0.98), (decoded, served["frames_sent"], why)


def test_a_loss_burst_heals_within_a_second(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path, "--max-sessions", "1")
    client = client_in(lab, tmp_path, host, 8.0)
    host.wait_for_log("video to")
    time.sleep(2.0)
    lab.set(Impairment(loss=0.3))
    time.sleep(2.0)
    lab.set(Impairment())
    assert client.wait() == 0, client.log()
    stats = client.stats()
    # A freeze that starts in the burst ends within a second of it.
    assert stats["freezes"]["longest_s"] <= 2.0 + 1.0, stats["freezes"]


def test_corruption_on_both_planes_is_rejected_and_counted(lab: NetLab, tmp_path: Path) -> None:
    lab.set(Impairment(corrupt=0.02))
    host = host_in(lab, tmp_path, "--max-sessions", "1", "--source", "scene")
    client = client_in(lab, tmp_path, host, 8.0)
    assert client.wait() == 0, client.log()
    stats = client.stats()
    [served] = host.wait_for_sessions(1)
    to_client = lab.counters()["a>b"]["corrupted_to"][stats["config"]["client_video_port"]]  # type: ignore[index]
    to_host = lab.counters()["b>a"]["corrupted_to"].get(host.video_port, 0)  # type: ignore[union-attr]
    assert to_client > 50 and stats["video"]["unauthentic"] == to_client, (to_client, stats["video"])
    assert served["video_garbage"] == to_host  # the client's binds and keepalives
    assert stats["frames_decoded"] >= 0.9 * served["frames_sent"], stats


INPUT_CLIENT = textwrap.dedent("""
    import asyncio, sys, threading, time
    from lumen_client.session import StreamOptions, StreamSession
    from lumen_client.trust_store import TrustStore
    from lumen_core.gamepad import LUMEN_BTN_A, PadState
    host, port, pin, store = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    session = StreamSession(StreamOptions(host=host, port=port, pin=pin, width=640, height=360),
                            TrustStore(store), lambda fp: True)
    done = threading.Event()
    threading.Thread(target=lambda: (asyncio.run(session.run()), done.set()), daemon=True).start()
    deadline = time.monotonic() + 30
    while not session.streaming:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    session.call_soon(session.pad_arrived, 0, "test pad")
    for n in range(100):  # 2 s of playing: keys, buttons, the pad's button, stick and trigger
        down = n % 2 == 0
        session.call_soon(session.send_key, 0x41 + n % 5, down)
        session.call_soon(session.send_mouse_button, 1 + n % 3, down)
        session.call_soon(session.set_pad_state, 0, PadState(buttons=LUMEN_BTN_A if down else 0,
                                                             lx=n * 300, rt=n * 2))
        time.sleep(0.02)
    for vk in range(0x41, 0x46):
        session.call_soon(session.send_key, vk, False)
    for button in (1, 2, 3):
        session.call_soon(session.send_mouse_button, button, False)
    session.call_soon(session.set_pad_state, 0, PadState())
    time.sleep(1.0)  # everything let go must have reached the host by now
    session.stop()
    assert done.wait(20)
    print("released", flush=True)
""")


def test_input_under_loss_reordering_and_duplication_is_all_released(lab: NetLab, tmp_path: Path) -> None:
    lab.set(Impairment(loss=0.05, delay_ms=10, jitter_ms=5, reorder=0.05, duplicate=0.05))
    host = host_in(lab, tmp_path, "--max-sessions", "1")
    proc = lab.run("b", [sys.executable, "-c", INPUT_CLIENT, ADDRESS_A, str(host.port), host.fingerprint,
                         str(tmp_path / "pins.json")], capture_output=True, text=True, timeout=90,
                   env=os.environ | {"PYTHONPATH": str(ROOT)})
    assert proc.stdout.strip() == "released", proc.stderr
    [served] = host.wait_for_sessions(1)
    assert served["input"]["keys"] >= 50 and served["input"]["mouse"] >= 50 and served["input"]["pad"] >= 10, served
    assert served["input_released"] == 0, "a key or button was still held when the client left"
    assert all(not any(state.values()) for state in served["pads"].values()), served["pads"]


def _freeze_seconds(freezes: list[list[float]], start: float, end: float) -> float:
    return sum(d for t, d in freezes if start <= t < end)


def test_a_rate_limit_is_found_and_left_behind(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path, "--max-sessions", "1", "--source", "scene", "--bitrate", "10000")
    client = client_in(lab, tmp_path, host, 30.0)
    host.wait_for_log("video to")
    limited, lifted = 3.0, 15.0
    time.sleep(limited)
    lab.set(Impairment(rate_kbps=5000), "a>b")
    time.sleep(lifted - limited)
    lab.set(Impairment(), "a>b")
    assert client.wait() == 0, client.log()
    [served] = host.wait_for_sessions(1)
    changes = served["rate_changes"]

    def rate_at(t: float) -> tuple[int, int]:
        last = [(c["kbps"], c["fec_percent"]) for c in changes if c["at_s"] <= t]
        return last[-1] if last else (10_000, 20)

    kbps, fec = rate_at(limited + 5.0)
    assert kbps * (1 + fec / 100) <= 5000, f"still above the limit 5 s in: {changes}"
    assert all(k * (1 + f / 100) <= 5000 for k, f in (rate_at(t / 2) for t in range(2 * 9, 2 * 15))), changes
    back = [c["at_s"] for c in changes if c["kbps"] >= 9000 and c["at_s"] > lifted]
    assert back and back[0] <= lifted + 15.0, f"not back near 10 Mbit/s within 15 s: {changes}"
    freezes = client.stats()["freezes"]["freezes"]
    first = _freeze_seconds(freezes, limited, limited + 5)
    rest = _freeze_seconds(freezes, limited + 5, lifted)
    assert rest < first or rest <= 0.5, f"freezing did not drop once settled: {freezes}"


def test_an_m3_client_in_base_mode_rebuilds_5_percent_loss(lab: NetLab, tmp_path: Path) -> None:
    binary = require("bin/lumen-client-rs")
    lab.set(Impairment(loss=0.05))
    host = host_in(lab, tmp_path, "--source", "m3-synthetic", "--frames", "300", "--max-sessions", "1")
    proc = lab.run("b", [str(binary), "--connect", f"{ADDRESS_A}:{host.port}", "--pin", host.fingerprint],
                   capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    run = M3ClientRun(proc.returncode, proc.stdout + proc.stderr)
    [served] = host.wait_for_sessions(1)
    assert served["mode"] == "base" and served["frames_sent"] == 300
    # Every frame whole and byte-exact, through a path that lost one datagram in twenty:
    # M3's GF(2^16) blocks rebuilt what it lost (a 64 KiB frame is 55 data and 11 recovery
    # shards, so nearly every frame needed it).
    assert run.number("frames") >= 297 and run.number("mismatched") == 0, run.output  # >= 99 %
    counters = lab.counters()["a>b"]
    assert counters["lost"] / counters["packets"] >= 0.04, counters  # type: ignore[operator]


def test_a_client_that_vanished_silently_does_not_lock_out_the_next(lab: NetLab, tmp_path: Path) -> None:
    lab.set(Impairment(drop_icmp=True), "b>a")  # the host cannot learn that the client's ports closed
    host = host_in(lab, tmp_path, "--max-sessions", "2")
    first = client_in(lab, tmp_path, host, 60.0)
    host.wait_for_log("video to")
    time.sleep(1.0)
    first.proc.kill()
    killed = time.monotonic()
    second = client_in(lab, tmp_path, host, 2.0)
    assert second.wait(30) == 0, second.log()
    stats = second.stats()
    assert stats["busy_retries"] >= 1, "the host was still busy with the vanished client at first"
    assert stats["frames_decoded"] > 60
    gone, _ = host.wait_for_sessions(2)
    assert "another client connected while this one was silent" in str(gone["end_reason"]), gone
    assert time.monotonic() - killed < 15
    assert lab.counters()["b>a"]["icmp_dropped"] > 0


FUZZER = textwrap.dedent("""
    import os, random, socket, sys, time
    rnd = random.Random(int(sys.argv[1]))
    targets = [(sys.argv[2], int(port)) for port in sys.argv[3:]]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    heads = [b"", b"\\xc0\\x00\\x00\\x00\\x01", b"\\x40", b"\\xc9", b"\\xc8", b"\\xca", b"\\xcb", b"\\xff"]
    end, sent = time.monotonic() + float(os.environ["FUZZ_SECONDS"]), 0
    while time.monotonic() < end:
        data = rnd.choice(heads) + rnd.randbytes(rnd.choice((0, 1, 7, 20, 40, 100, 1200, 1300, 1400)))
        try:
            sock.sendto(data, rnd.choice(targets))
            sent += 1
        except OSError:
            pass
        if sent % 20 == 0:
            time.sleep(0.01)
    print(sent)
""")


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def _udp_ports(lab: NetLab, side: str, pid: int) -> list[int]:
    out = lab.run(side, ["ss", "-uanpH"], capture_output=True, text=True, check=True).stdout
    return sorted({int(line.split()[3].rsplit(":", 1)[1]) for line in out.splitlines() if f"pid={pid}," in line})


def test_a_live_fuzz_beside_a_good_session(lab: NetLab, tmp_path: Path) -> None:
    host = host_in(lab, tmp_path, "--max-sessions", "3")
    assert client_in(lab, tmp_path, host, 1.0).wait() == 0  # the threads a host keeps between sessions
    host.wait_for_sessions(1)
    time.sleep(1.0)
    idle_threads = _threads(host.proc.pid)
    client = client_in(lab, tmp_path, host, 10.0)
    host.wait_for_log("video to", after=1)
    time.sleep(0.5)
    client_ports = _udp_ports(lab, "b", client.proc.pid)
    assert len(client_ports) == 2, client_ports  # QUIC and video
    env = {**os.environ, "FUZZ_SECONDS": "6"}
    fuzzers = [
        lab.popen("b", [sys.executable, "-c", FUZZER, "1", ADDRESS_A, str(host.port), str(host.video_port)],
                  stdout=subprocess.PIPE, env=env),
        lab.popen("a", [sys.executable, "-c", FUZZER, "2", ADDRESS_B, *map(str, client_ports)],
                  stdout=subprocess.PIPE, env=env),
    ]
    sent = [int(f.communicate(timeout=60)[0]) for f in fuzzers]
    assert client.wait() == 0, client.log()
    stats = client.stats()
    first, served = host.wait_for_sessions(2)
    assert min(sent) > 1000
    assert stats["frames_decoded"] >= 0.95 * served["frames_sent"], (stats["frames_decoded"], served["frames_sent"])
    assert stats["audio_played_per_s"] >= 180
    assert served["video_garbage"] > 100 and served["end_reason"] == "client: client done", served["end_reason"]
    assert served["threads_after"] == first["threads_after"], "a session thread outlived its session"
    time.sleep(1.0)
    assert _threads(host.proc.pid) == idle_threads, "an encoder's or decoder's threads outlived the session"
    assert host.stop() == 0
