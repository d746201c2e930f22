"""Sessions through a real impaired network: two namespaces and netlab's forwarder.

The host runs on side A, the headless client on side B; every packet of QUIC and of the
video plane crosses the forwarder, which loses, delays, reorders, duplicates, corrupts,
limits and blackholes them as each test says. 640x360@60 test pattern unless said.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from network import client_in, host_in, need_netlab

from netlab import Impairment, NetLab

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
