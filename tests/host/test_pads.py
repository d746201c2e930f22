"""The host's pads: a client's controller becomes a uinput virtual controller."""

from __future__ import annotations

import logging
import os

import pytest
from lumen_host.pads import LoggingPadSink, make_pad_sink, rumble_from_triggers

from lumen_core.gamepad import LUMEN_BTN_A, PadState

pytestmark = pytest.mark.timeout(180)


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


def test_without_uinput_pads_are_logged_as_their_buttons_and_axes(caplog: pytest.LogCaptureFixture) -> None:
    sink = LoggingPadSink()
    with caplog.at_level(logging.INFO, logger="lumen_host.pads"):
        sink.update(1, PadState(buttons=LUMEN_BTN_A, lx=-5, rt=255))
        sink.update(1, PadState(buttons=LUMEN_BTN_A, lx=-5, rt=255))  # unchanged: said once
        sink.remove(1)
    assert [r.getMessage() for r in caplog.records] == ["pad 1: A lx=-5 ly=0 rx=0 ry=0 lt=0 rt=255", "pad 1 removed"]
    sink.close()


@pytest.mark.skipif(os.access("/dev/uinput", os.W_OK), reason="this machine has a writable /dev/uinput")
def test_a_host_without_a_writable_uinput_logs_instead() -> None:
    assert isinstance(make_pad_sink(lambda pad, low, high: None), LoggingPadSink)


def test_the_rumble_test_maps_triggers_to_full_scale_motors() -> None:
    assert rumble_from_triggers(PadState(lt=255, rt=0)) == (0xFFFF, 0)
    assert rumble_from_triggers(PadState(lt=1, rt=128)) == (257, 128 * 257)
