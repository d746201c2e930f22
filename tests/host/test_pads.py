"""The host's pads: a client's controller becomes a uinput virtual controller."""

from __future__ import annotations

import os

import pytest

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
