"""Sessions through a real impaired network: two namespaces and netlab's forwarder.

The host runs on side A, the headless client on side B; every packet of QUIC and of the
video plane crosses the forwarder, which loses, delays, reorders, duplicates, corrupts,
limits and blackholes them as each test says. 640x360@60 test pattern unless said.
"""

from __future__ import annotations

import os
import sys
import textwrap
import time
from pathlib import Path

import pytest
from network import client_in, host_in, need_netlab

from netlab import Impairment, NetLab
from netlab.lab import ADDRESS_A

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
    failures, modes = [], []
    for _ in range(20):
        client = client_in(lab, tmp_path, host, 0.5)
        if client.wait(30) != 0:
            failures.append(client.log())
        else:
            modes.append(client.stats()["mode"])
    assert not failures, f"{len(failures)} of 20 failed; first:\n{failures[0]}"
    assert modes == ["extended"] * 20
    host.wait_for_sessions(20, timeout_s=30)
    assert host.log().count("mode with") == 20, "one handshake each"


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
    assert stats["audio_played_per_s"] >= 195 and stats["audio_concealed"] == 0, stats
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
    assert decoded >= (0.995 if loss <= 0.05 else 0.98), (decoded, stats)


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
                   env=os.environ | {"PYTHONPATH": str(Path(__file__).parent.parent)})
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
