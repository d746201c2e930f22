"""Gamepads end to end with a real SDL virtual controller: SDL -> client -> host, and the
host's rumble back to the controller's motors."""

from __future__ import annotations

from pathlib import Path

import pytest
from hosts import ClientRun, start_host
from virtual_pad import (
    SDL_AXIS_LEFTX,
    SDL_AXIS_LEFTY,
    SDL_AXIS_TRIGGERLEFT,
    SDL_AXIS_TRIGGERRIGHT,
    SDL_BUTTON_A,
    SDL_BUTTON_DPAD_UP,
    VirtualPad,
    wait_for,
)

from lumen_client import input_test
from lumen_client.pads import PadPoller
from lumen_client.session import StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_UP, PadState, sdl_trigger

pytestmark = pytest.mark.timeout(120)


def test_virtual_controller_reaches_the_host_and_feels_its_rumble(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--rumble-test", "--max-sessions", "1")
    poller = PadPoller()
    run = ClientRun(StreamOptions(host="127.0.0.1", port=host.port, pin=host.fingerprint, duration_s=4.0,
                                  width=640, height=360), TrustStore(tmp_path / "p.json"), pads=poller)
    session = run.session
    # SDL's joystick and event locks are taken in opposite orders by attaching a device
    # and by pumping events: attach on this thread before the poller's thread pumps.
    input_test.list_controllers()  # SDL up on this thread
    pad = VirtualPad()
    pad.attach()  # present before the stream: announced to the session when it starts streaming
    poller.start()
    try:
        run.start()
        wait_for(lambda: session.streaming)
        pad.button(SDL_BUTTON_A, True)
        pad.button(SDL_BUTTON_DPAD_UP, True)
        pad.axis(SDL_AXIS_LEFTX, 1000)
        pad.axis(SDL_AXIS_LEFTY, -20000)  # SDL: up is negative
        pad.axis(SDL_AXIS_TRIGGERLEFT, 32767)
        pad.axis(SDL_AXIS_TRIGGERRIGHT, 16384)  # SDL reads a raw axis as trigger (raw + 32768) / 2: 24576
        wait_for(lambda: any(low > 0 for low, _ in pad.rumbles))  # the host's rumble arrived
        result = run.join()
    finally:
        poller.stop()
        poller.join()
        pad.detach()
    [served] = host.wait_for_sessions(1)
    rt = sdl_trigger(24576)  # 191
    expected = PadState(buttons=LUMEN_BTN_A | LUMEN_BTN_UP, lx=1000, ly=20000, lt=255, rt=rt)
    assert served["pads"]["0"] == {"buttons": expected.buttons, "lx": 1000, "ly": 20000, "rx": 0, "ry": 0,
                                  "lt": 255, "rt": rt}, served["pads"]
    # --rumble-test: left trigger -> low motor, right -> high; SDL hands the controller those values.
    assert result.stats["rumble"] == {"0": [255 * 257, rt * 257]}
    assert any(abs(low - 255 * 257) <= 1 and abs(high - rt * 257) <= 1 for low, high in pad.rumbles), pad.rumbles
