"""``lumen-client --input-test`` with a real SDL virtual controller: alone, printing wire events,
and driving this host (extended mode) or an M3 host (base mode), feeling its rumble."""

from __future__ import annotations

import io
import os
import re
import threading
from pathlib import Path

import pytest
from hosts import free_udp_port, start_host
from m3 import sample, start_m3_host
from virtual_pad import (
    SDL_AXIS_LEFTY,
    SDL_AXIS_TRIGGERLEFT,
    SDL_BUTTON_A,
    VirtualPad,
    wait_for,
)

from lumen_client import input_test
from lumen_core.gamepad import LUMEN_BTN_A

pytestmark = pytest.mark.timeout(120)


def test_input_test_prints_wire_events(monkeypatch: pytest.MonkeyPatch) -> None:
    read_fd, write_fd = os.pipe()
    monkeypatch.setattr("sys.stdin", os.fdopen(read_fd))
    out = io.StringIO()
    pad = VirtualPad("input test pad")
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(
        input_test.run_input_test(list_only=False, host=None, pin=None, out=out)))
    # SDL must be up before a virtual pad can attach: list_controllers() starts it.
    input_test.list_controllers()
    pad.attach()
    thread.start()
    try:
        # SDL names a virtual pad after the first one with its GUID in this process: any name.
        wait_for(lambda: "  arrived: " in out.getvalue())
        pad.button(SDL_BUTTON_A, True)
        pad.axis(SDL_AXIS_LEFTY, -32768)
        wait_for(lambda: "LY" in out.getvalue() and "button A" in out.getvalue())
        os.write(write_fd, b"r\n")
        wait_for(lambda: "rumble test" in out.getvalue())
        wait_for(lambda: len(pad.rumbles) > 0)
        os.write(write_fd, b"q\n")
        thread.join(10)
    finally:
        pad.detach()
        os.close(write_fd)
    text = out.getvalue()
    assert result == [0]
    assert re.search(r"controller \d+: .+  GUID [0-9a-f]{32}", text), text
    assert "button A        down  flag 0x001000" in text
    assert "axis   LY       +32767" in text  # SDL's -32768 (up) is +32767 on the wire
    assert "state  buttons A" in text
    assert (32767, 65535) in pad.rumbles


@pytest.mark.parametrize("peer", ["lumen-host", "m3-mini-host"])
def test_input_test_drives_a_host_and_feels_its_rumble(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                                       peer: str) -> None:
    if peer == "lumen-host":
        host = start_host(tmp_path, "--rumble-test", "--max-sessions", "1")
        port, fingerprint, mode = host.port, host.fingerprint, "extended"
    else:
        m3_host = start_m3_host(tmp_path, free_udp_port(), "--source", f"file:{sample('h265-1280x720-120au.aus')}",
                                "--codec", "h265", "--seconds", "20", "--rumble", "auto")
        port, fingerprint, mode = m3_host.port, m3_host.fingerprint, "base"
    read_fd, write_fd = os.pipe()
    monkeypatch.setattr("sys.stdin", os.fdopen(read_fd))
    out = io.StringIO()
    pad = VirtualPad("input test pad")
    result: list[int] = []
    thread = threading.Thread(target=lambda: result.append(
        input_test.run_input_test(list_only=False, host=f"127.0.0.1:{port}", pin=fingerprint, out=out)))
    input_test.list_controllers()
    pad.attach()
    thread.start()
    try:
        wait_for(lambda: f"host session: streaming in {mode} mode" in out.getvalue(), 20)
        pad.button(SDL_BUTTON_A, True)
        pad.axis(SDL_AXIS_TRIGGERLEFT, 32767)  # --rumble-test: the left trigger drives the low motor
        wait_for(lambda: "rumble from host: low" in out.getvalue() and any(low > 0 for low, _ in pad.rumbles))
        if peer == "m3-mini-host":
            m3_host.wait_for_log("pad state")
        os.write(write_fd, b"q\n")
        thread.join(15)
    finally:
        pad.detach()
        os.close(write_fd)
        if peer == "m3-mini-host":
            m3_host.stop()
    assert result == [0] and not thread.is_alive()
    wait_for(lambda: "host session ended" in out.getvalue())
    if peer == "lumen-host":
        [served] = host.wait_for_sessions(1)
        assert served["mode"] == "extended" and served["pads"]["0"]["buttons"] == LUMEN_BTN_A, served
        assert served["input"]["pad"] > 0, served
    else:
        pad_lines = [line for line in m3_host.log().splitlines() if "pad state pad=0" in line]
        assert any('buttons="0x1000"' in line and "lt=255" in line for line in pad_lines), pad_lines


def test_input_test_list_without_controllers(tmp_path: Path) -> None:
    import subprocess
    import sys

    res = subprocess.run([sys.executable, "-m", "lumen_client.cli", "--input-test", "--list"],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "No game controllers found" in res.stdout and "Traceback" not in res.stderr
