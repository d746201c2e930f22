"""A real SDL game controller with no hardware: SDL_JoystickAttachVirtualEx in the SDL2
library that the pygame wheel bundles (the same instance pygame uses), through ctypes.
Its rumble callback records what SDL was asked to play."""

from __future__ import annotations

import ctypes
import glob
import os
import time
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
import pygame

SDL_VIRTUAL_JOYSTICK_DESC_VERSION = 1
SDL_JOYSTICK_TYPE_GAMECONTROLLER = 1
N_AXES, N_BUTTONS = 6, 15  # SDL_CONTROLLER_AXIS_MAX, buttons A .. DPAD_RIGHT

RumbleFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint16, ctypes.c_uint16)
RumbleTriggersFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint16, ctypes.c_uint16)
UpdateFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p)
PlayerIndexFn = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int)
SetLedFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_uint8, ctypes.c_uint8, ctypes.c_uint8)
SendEffectFn = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int)

# SDL's GameController numbering (SDL_GameControllerButton, SDL_GameControllerAxis).
SDL_BUTTON_A, SDL_BUTTON_DPAD_UP = 0, 11
SDL_AXIS_LEFTX, SDL_AXIS_LEFTY, SDL_AXIS_TRIGGERLEFT, SDL_AXIS_TRIGGERRIGHT = 0, 1, 4, 5


def wait_for(condition, timeout_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Poll what the controller or a client printed until ``condition`` holds."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


class VirtualJoystickDesc(ctypes.Structure):
    _fields_ = [
        ("version", ctypes.c_uint16), ("type", ctypes.c_uint16), ("naxes", ctypes.c_uint16),
        ("nbuttons", ctypes.c_uint16), ("nhats", ctypes.c_uint16), ("vendor_id", ctypes.c_uint16),
        ("product_id", ctypes.c_uint16), ("padding", ctypes.c_uint16), ("button_mask", ctypes.c_uint32),
        ("axis_mask", ctypes.c_uint32), ("name", ctypes.c_char_p), ("userdata", ctypes.c_void_p),
        ("Update", UpdateFn), ("SetPlayerIndex", PlayerIndexFn), ("Rumble", RumbleFn),
        ("RumbleTriggers", RumbleTriggersFn), ("SetLED", SetLedFn), ("SendEffect", SendEffectFn),
    ]


def sdl() -> ctypes.CDLL:
    libs = glob.glob(str(Path(pygame.__file__).parent.parent / "pygame.libs" / "libSDL2-*.so*"))
    lib = ctypes.CDLL(libs[0])
    lib.SDL_JoystickAttachVirtualEx.argtypes = [ctypes.POINTER(VirtualJoystickDesc)]
    lib.SDL_JoystickAttachVirtualEx.restype = ctypes.c_int
    lib.SDL_JoystickSetVirtualButton.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint8]
    lib.SDL_JoystickSetVirtualAxis.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int16]
    lib.SDL_JoystickOpen.argtypes = [ctypes.c_int]
    lib.SDL_JoystickOpen.restype = ctypes.c_void_p
    lib.SDL_JoystickDetachVirtual.argtypes = [ctypes.c_int]
    lib.SDL_GetError.restype = ctypes.c_char_p
    return lib


class VirtualPad:
    """Attach with ``attach()`` (SDL's joystick subsystem must be up: PadPoller starts it)."""

    def __init__(self, name: str = "lumen test pad") -> None:
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
        os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
        self.lib = sdl()
        self.rumbles: list[tuple[int, int]] = []
        self._callbacks = (  # kept alive as long as SDL may call them
            UpdateFn(lambda _u: None), PlayerIndexFn(lambda _u, _i: None), RumbleFn(self._rumble),
            RumbleTriggersFn(lambda _u, _l, _r: 0), SetLedFn(lambda _u, _r, _g, _b: 0),
            SendEffectFn(lambda _u, _d, _s: 0),
        )
        self._desc = VirtualJoystickDesc(
            SDL_VIRTUAL_JOYSTICK_DESC_VERSION, SDL_JOYSTICK_TYPE_GAMECONTROLLER, N_AXES, N_BUTTONS, 0,
            0x045E, 0x028E, 0, 0, 0, name.encode(), None, *self._callbacks,
        )
        self.index = -1
        self._joystick: int | None = None

    def _rumble(self, _userdata, low: int, high: int) -> int:  # type: ignore[no-untyped-def]
        self.rumbles.append((low, high))
        return 0

    def attach(self) -> None:
        self.index = self.lib.SDL_JoystickAttachVirtualEx(ctypes.byref(self._desc))
        if self.index < 0:
            raise RuntimeError(f"SDL_JoystickAttachVirtualEx: {self.lib.SDL_GetError().decode()}")
        self._joystick = self.lib.SDL_JoystickOpen(self.index)

    def button(self, sdl_button: int, down: bool) -> None:
        self.lib.SDL_JoystickSetVirtualButton(self._joystick, sdl_button, int(down))

    def axis(self, sdl_axis: int, value: int) -> None:
        self.lib.SDL_JoystickSetVirtualAxis(self._joystick, sdl_axis, value)

    def detach(self) -> None:
        if self.index >= 0:
            self.lib.SDL_JoystickDetachVirtual(self.index)
            self.index = -1
