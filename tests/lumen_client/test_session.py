"""The client's stream session against a real lumen-host process: real loopback sockets, real
QUIC, real codecs; trust on first use, pins, and sessions one after another."""

from __future__ import annotations

from pathlib import Path

import pytest
from hosts import ClientRun, free_udp_port, run_client, start_host
from streams import options, wait_streaming

from lumen_client.session import TrustError
from lumen_client.trust_store import TrustStore
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_UP, PadState

pytestmark = pytest.mark.timeout(180)


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
