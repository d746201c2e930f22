"""``wire`` against a real lumen-host process: the sinks given are opened when the stream
starts, fed, and closed after it, and the host's rumble reaches the rumble sink."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from hosts import ClientRun, start_host
from streams import options, wait_streaming

from lumen_client.pipeline import Each, Picture, Rumble
from lumen_client.trust_store import TrustStore
from lumen_client.wiring import wire
from lumen_core.gamepad import PadState

pytestmark = pytest.mark.timeout(120)


class Counting:
    def __init__(self) -> None:
        self.opened = self.closed = self.pushed = 0

    def open(self) -> None:
        self.opened += 1

    def push(self, item: Picture | bytes) -> None:
        assert self.opened == 1 and not self.closed
        self.pushed += 1

    def close(self) -> None:
        self.closed += 1


def test_the_sinks_given_see_the_whole_stream(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    try:
        video, audio = Counting(), Counting()
        session = wire(options(host, duration=2.0), TrustStore(tmp_path / "p.json"), lambda fp: True,
                       video=video, audio=audio)  # type: ignore[arg-type]
        result = asyncio.run(session.run())
    finally:
        host.stop()
    decoded = result.stats["frames_decoded"]
    assert decoded > 0 and not result.error
    assert (video.opened, video.closed, audio.opened, audio.closed) == (1, 1, 1, 1)
    assert video.pushed == decoded and audio.pushed > 0


def test_a_rumble_sink_given_gets_the_hosts_rumble(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--rumble-test")  # the host rumbles with the pad's triggers
    felt: list[Rumble] = []
    strong = threading.Event()

    def rumble(r: Rumble) -> None:
        felt.append(r)
        if r.low == 0xFFFF:
            strong.set()

    try:
        run = ClientRun(options(host, duration=30.0), TrustStore(tmp_path / "p.json"), rumble=Each(rumble)).start()
        wait_streaming(run)
        run.session.pad_arrived(0, "test pad")
        run.session.set_pad_state(0, PadState(lt=255))
        assert strong.wait(15), felt
        run.session.stop()
        run.join()
    finally:
        host.stop()
    assert felt[-1].pad == 0
