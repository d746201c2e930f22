"""Where the host's keyboard and mouse input goes: uinput virtual devices through
python-evdev where /dev/uinput is writable, a logging sink elsewhere.

``Translator`` turns lumen/1 input events (lumen_core.input) into evdev events, pure and
testable anywhere: Windows VK codes through M3's map, relative motion, absolute motion
scaled from the event's reference surface to the pointer's 0..ABS_MAX, buttons, and
both wheels in high resolution (120 per detent) with whole detents on the classic
axes. It also remembers what is held, so ``release_all`` lets go of every key and
button when a session ends, however it ends.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final, Protocol

if TYPE_CHECKING:
    from evdev import UInput

from lumen_core.datagrams import InputEvent
from lumen_core.input import BUTTON_TO_EVDEV, SCROLL_HORIZONTAL, VK_TO_EVDEV, WHEEL_DELTA, Kind

log = logging.getLogger(__name__)

# evdev event types and codes (linux/input-event-codes.h), so translation needs no evdev.
EV_SYN: Final = 0x00
EV_KEY: Final = 0x01
EV_REL: Final = 0x02
EV_ABS: Final = 0x03
SYN_REPORT: Final = 0
REL_X: Final = 0x00
REL_Y: Final = 0x01
REL_HWHEEL: Final = 0x06
REL_WHEEL: Final = 0x08
REL_WHEEL_HI_RES: Final = 0x0B
REL_HWHEEL_HI_RES: Final = 0x0C
ABS_X: Final = 0x00
ABS_Y: Final = 0x01
ABS_MAX: Final = 65535

# Which virtual device an event goes to.
KEYBOARD: Final = "keyboard"
MOUSE: Final = "mouse"  # relative motion, buttons, wheels
POINTER: Final = "pointer"  # absolute motion

Write = tuple[str, int, int, int]  # device, type, code, value


class Translator:
    """lumen/1 input events -> evdev writes, with what is held remembered."""

    def __init__(self) -> None:
        self.held_keys: set[int] = set()
        self.held_buttons: set[int] = set()
        self._wheel = [0, 0]  # vertical, horizontal: hi-res units not yet a whole detent
        self.dropped: Counter[str] = Counter()

    def translate(self, event: InputEvent) -> list[Write]:
        kind = event.kind
        if kind in (Kind.KEY_DOWN, Kind.KEY_UP):
            key = VK_TO_EVDEV.get(event.code & 0xFF)
            if key is None:
                self.dropped["unmapped key"] += 1
                return []
            down = kind == Kind.KEY_DOWN
            (self.held_keys.add if down else self.held_keys.discard)(key)
            return [(KEYBOARD, EV_KEY, key, int(down))]
        if kind == Kind.MOUSE_MOVE:
            return [(MOUSE, EV_REL, REL_X, event.x), (MOUSE, EV_REL, REL_Y, event.y)]
        if kind == Kind.MOUSE_MOVE_ABS:
            w, h = event.flags >> 16, event.flags & 0xFFFF
            if not w or not h:  # M3's injectors drop these too
                self.dropped["absolute motion without a reference"] += 1
                return []
            x = max(0, min(w, event.x)) * ABS_MAX // w
            y = max(0, min(h, event.y)) * ABS_MAX // h
            return [(POINTER, EV_ABS, ABS_X, x), (POINTER, EV_ABS, ABS_Y, y)]
        if kind in (Kind.MOUSE_BUTTON_DOWN, Kind.MOUSE_BUTTON_UP):
            button = BUTTON_TO_EVDEV.get(event.code)
            if button is None:
                self.dropped["unknown mouse button"] += 1
                return []
            down = kind == Kind.MOUSE_BUTTON_DOWN
            (self.held_buttons.add if down else self.held_buttons.discard)(button)
            return [(MOUSE, EV_KEY, button, int(down))]
        if kind == Kind.MOUSE_SCROLL:
            horizontal = event.code == SCROLL_HORIZONTAL
            # lumen/1: positive = up or left; evdev: positive = up or right.
            value = -event.x if horizontal else event.x
            axis = 1 if horizontal else 0
            self._wheel[axis] += value
            detents = int(self._wheel[axis] / WHEEL_DELTA)  # toward zero: keep the remainder
            self._wheel[axis] -= detents * WHEEL_DELTA
            hi_res, classic = (REL_HWHEEL_HI_RES, REL_HWHEEL) if horizontal else (REL_WHEEL_HI_RES, REL_WHEEL)
            writes = [(MOUSE, EV_REL, hi_res, value)]
            if detents:
                writes.append((MOUSE, EV_REL, classic, detents))
            return writes
        self.dropped["not keyboard or mouse"] += 1
        return []

    def release_all(self) -> list[Write]:
        """Key-up and button-up for everything still held."""
        writes = [(KEYBOARD, EV_KEY, key, 0) for key in sorted(self.held_keys)]
        writes += [(MOUSE, EV_KEY, button, 0) for button in sorted(self.held_buttons)]
        self.held_keys.clear()
        self.held_buttons.clear()
        self._wheel = [0, 0]
        return writes


class InputSink(Protocol):
    name: str

    def apply(self, event: InputEvent) -> None: ...

    def release_all(self) -> int:
        """Let go of every key and button held; how many there were."""
        ...

    def close(self) -> None: ...


class LoggingInputSink:
    """Where no uinput device can be made: events are translated (so what would be held
    is known) and logged at debug level."""

    name = "log"

    def __init__(self) -> None:
        self.translator = Translator()

    def apply(self, event: InputEvent) -> None:
        for write in self.translator.translate(event):
            log.debug("input %s type %d code %d value %d", *write)

    def release_all(self) -> int:
        writes = self.translator.release_all()
        for write in writes:
            log.debug("release %s type %d code %d value %d", *write)
        return len(writes)

    def close(self) -> None:
        self.release_all()


class UinputInputSink:
    """A virtual keyboard, relative mouse and absolute pointer (created on first use,
    as M3's host opens its injector on the first event)."""

    name = "uinput"

    def __init__(self) -> None:
        import evdev  # only where /dev/uinput exists

        self._evdev = evdev
        self.translator = Translator()
        self._devices: dict[str, UInput] = {}

    def _capabilities(self, device: str) -> dict[int, Sequence[Any]]:
        e = self._evdev.ecodes
        if device == KEYBOARD:
            return {e.EV_KEY: sorted(set(VK_TO_EVDEV.values()))}
        if device == MOUSE:
            return {e.EV_KEY: sorted(BUTTON_TO_EVDEV.values()),
                    e.EV_REL: [REL_X, REL_Y, REL_WHEEL, REL_HWHEEL, REL_WHEEL_HI_RES, REL_HWHEEL_HI_RES]}
        axis = self._evdev.AbsInfo(0, 0, ABS_MAX, 0, 0, 0)
        return {e.EV_KEY: [e.BTN_LEFT], e.EV_ABS: [(ABS_X, axis), (ABS_Y, axis)]}

    def _device(self, device: str):
        dev = self._devices.get(device)
        if dev is None:
            # evdev's stub takes codes only; UInput also takes (code, AbsInfo) pairs for EV_ABS.
            dev = self._devices[device] = self._evdev.UInput(
                self._capabilities(device), name=f"lumen virtual {device}")
        return dev

    def _write(self, writes: list[Write]) -> None:
        touched = []
        for device, kind, code, value in writes:
            dev = self._device(device)
            dev.write(kind, code, value)
            if dev not in touched:
                touched.append(dev)
        for dev in touched:
            dev.syn()

    def apply(self, event: InputEvent) -> None:
        self._write(self.translator.translate(event))

    def release_all(self) -> int:
        writes = self.translator.release_all()
        self._write(writes)
        return len(writes)

    def close(self) -> None:
        self.release_all()
        for dev in self._devices.values():
            dev.close()
        self._devices.clear()


def make_input_sink() -> InputSink:
    if os.access("/dev/uinput", os.W_OK):
        try:
            return UinputInputSink()
        except Exception as exc:  # a missing evdev or a kernel refusal: log and carry on
            log.warning("uinput keyboard and mouse unavailable (%s); logging input instead", exc)
    return LoggingInputSink()
