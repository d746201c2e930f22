"""Where the host's gamepad state goes: a uinput virtual controller through
python-evdev where /dev/uinput is writable (its force feedback comes back as rumble),
or a logging sink elsewhere.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from evdev import UInput

from lumen_core.gamepad import PadState, button_names
from lumen_core.net.worker import Worker

log = logging.getLogger(__name__)

RumbleCallback = Callable[[int, int, int], object]  # pad, low, high


class PadSink(Protocol):
    name: str

    def update(self, pad: int, state: PadState) -> None: ...

    def remove(self, pad: int) -> None: ...

    def close(self) -> None: ...


class LoggingPadSink:
    name = "log"

    def __init__(self) -> None:
        self._last: dict[int, PadState] = {}

    def update(self, pad: int, state: PadState) -> None:
        if self._last.get(pad) != state:
            self._last[pad] = state
            buttons = "+".join(button_names(state.buttons)) or "-"
            log.info("pad %d: %s lx=%d ly=%d rx=%d ry=%d lt=%d rt=%d", pad, buttons,
                     state.lx, state.ly, state.rx, state.ry, state.lt, state.rt)

    def remove(self, pad: int) -> None:
        self._last.pop(pad, None)
        log.info("pad %d removed", pad)

    def close(self) -> None:
        pass


def rumble_from_triggers(state: PadState) -> tuple[int, int]:
    """--rumble-test: left trigger drives the low motor, right the high one."""
    return state.lt * 257, state.rt * 257


class UinputPadSink:
    """Xbox 360-style virtual pads; rumble effects the game plays come back to ``on_rumble``."""

    name = "uinput"

    def __init__(self, on_rumble: RumbleCallback) -> None:
        import evdev  # only where /dev/uinput exists

        self._evdev = evdev
        self._on_rumble = on_rumble
        self._devices: dict[int, UInput] = {}
        self._effects: dict[tuple[int, int], tuple[int, int]] = {}
        self._feedback: dict[int, Worker] = {}  # per pad: the force-feedback reader

    def _device(self, pad: int):
        dev = self._devices.get(pad)
        if dev is None:
            e = self._evdev.ecodes
            abs_stick = self._evdev.AbsInfo(0, -32768, 32767, 16, 128, 0)
            abs_trig = self._evdev.AbsInfo(0, 0, 255, 0, 0, 0)
            abs_hat = self._evdev.AbsInfo(0, -1, 1, 0, 0, 0)
            caps = {
                e.EV_KEY: [e.BTN_SOUTH, e.BTN_EAST, e.BTN_NORTH, e.BTN_WEST, e.BTN_TL, e.BTN_TR, e.BTN_SELECT,
                           e.BTN_START, e.BTN_MODE, e.BTN_THUMBL, e.BTN_THUMBR],
                e.EV_ABS: [(e.ABS_X, abs_stick), (e.ABS_Y, abs_stick), (e.ABS_RX, abs_stick), (e.ABS_RY, abs_stick),
                           (e.ABS_Z, abs_trig), (e.ABS_RZ, abs_trig), (e.ABS_HAT0X, abs_hat), (e.ABS_HAT0Y, abs_hat)],
                e.EV_FF: [e.FF_RUMBLE],
            }
            # evdev's stub takes codes only; UInput also takes (code, AbsInfo) pairs for EV_ABS.
            dev = self._evdev.UInput(caps, name=f"lumen virtual pad {pad}", vendor=0x045E,  # type: ignore[arg-type]
                                     product=0x028E, max_effects=16)
            self._devices[pad] = dev
            worker = self._feedback[pad] = Worker(f"uinput-ff-{pad}", lambda: self._ff_loop(pad, dev, worker))
            worker.start()
        return dev

    def update(self, pad: int, state: PadState) -> None:
        from lumen_core import gamepad as g

        e, dev = self._evdev.ecodes, self._device(pad)
        keys = {e.BTN_SOUTH: g.LUMEN_BTN_A, e.BTN_EAST: g.LUMEN_BTN_B, e.BTN_NORTH: g.LUMEN_BTN_Y,
                e.BTN_WEST: g.LUMEN_BTN_X, e.BTN_TL: g.LUMEN_BTN_LB, e.BTN_TR: g.LUMEN_BTN_RB,
                e.BTN_SELECT: g.LUMEN_BTN_BACK, e.BTN_START: g.LUMEN_BTN_START, e.BTN_MODE: g.LUMEN_BTN_GUIDE,
                e.BTN_THUMBL: g.LUMEN_BTN_LS_CLK, e.BTN_THUMBR: g.LUMEN_BTN_RS_CLK}
        for code, flag in keys.items():
            dev.write(e.EV_KEY, code, int(bool(state.buttons & flag)))
        hat_x = (1 if state.buttons & g.LUMEN_BTN_RIGHT else 0) - (1 if state.buttons & g.LUMEN_BTN_LEFT else 0)
        hat_y = (1 if state.buttons & g.LUMEN_BTN_DOWN else 0) - (1 if state.buttons & g.LUMEN_BTN_UP else 0)
        # evdev's Y axes grow downwards: the contract's +y = up is flipped back here.
        for code, value in ((e.ABS_X, state.lx), (e.ABS_Y, -max(-32767, state.ly)), (e.ABS_RX, state.rx),
                            (e.ABS_RY, -max(-32767, state.ry)), (e.ABS_Z, state.lt), (e.ABS_RZ, state.rt),
                            (e.ABS_HAT0X, hat_x), (e.ABS_HAT0Y, hat_y)):
            dev.write(e.EV_ABS, code, value)
        dev.syn()

    def _ff_loop(self, pad: int, dev, worker: Worker) -> None:
        e = self._evdev.ecodes
        try:
            for event in dev.read_loop():
                if worker.stopped:
                    return
                if event.type == e.EV_UINPUT and event.code == e.UI_FF_UPLOAD:
                    upload = dev.begin_upload(event.value)
                    rumble = upload.effect.u.ff_rumble_effect
                    self._effects[(pad, upload.effect.id)] = (rumble.strong_magnitude, rumble.weak_magnitude)
                    upload.retval = 0
                    dev.end_upload(upload)
                elif event.type == e.EV_UINPUT and event.code == e.UI_FF_ERASE:
                    erase = dev.begin_erase(event.value)
                    self._effects.pop((pad, erase.effect_id), None)
                    erase.retval = 0
                    dev.end_erase(erase)
                elif event.type == e.EV_FF:
                    low, high = self._effects.get((pad, event.code), (0, 0)) if event.value else (0, 0)
                    self._on_rumble(pad, low, high)
        except OSError:
            return

    def remove(self, pad: int) -> None:
        dev = self._devices.pop(pad, None)
        worker = self._feedback.pop(pad, None)
        if worker is not None:
            worker.stop()  # its read ends when the device closes
        if dev is not None:
            dev.close()

    def close(self) -> None:
        for pad in list(self._devices):
            self.remove(pad)


def make_pad_sink(on_rumble: RumbleCallback) -> PadSink:
    if os.access("/dev/uinput", os.W_OK):
        try:
            return UinputPadSink(on_rumble)
        except Exception as exc:  # a missing evdev or a kernel refusal: log and carry on
            log.warning("uinput virtual pads unavailable (%s); logging pad input instead", exc)
    return LoggingPadSink()
