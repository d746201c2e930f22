"""Gamepads through SDL's game-controller API (pygame), on their own thread ("pads").

Pads get stable indices 0..MAX_LOCAL_PADS-1 in order of arrival; a pad that is
unplugged frees its index for the next one. Each pad's state is read in contract units
(GameStream button flags, +y = up sticks, 0..255 triggers) and handed to the listener
(a session, through ``wiring.wire``); the poller is also the session's rumble sink, and
plays the host's rumble on the pad with that index.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Final

from lumen_core import gamepad as g
from lumen_core.gamepad import PadState, sdl_stick_y, sdl_trigger
from lumen_core.net.worker import Worker

from .pipeline import PadListener, Rumble

log = logging.getLogger(__name__)

MAX_LOCAL_PADS: Final = 4
POLL_INTERVAL_S: Final = 0.004  # 250 Hz: below a frame at 120 fps
# How long one rumble command lasts on the pad: the host re-sends every 500 ms, so
# a lost "stop" ends within a second.
RUMBLE_MS: Final = 1000

# SDL_GameControllerButton -> contract flag (SDL 2.0.14+ numbering for the extras).
SDL_BUTTONS: Final = {
    0: g.LUMEN_BTN_A, 1: g.LUMEN_BTN_B, 2: g.LUMEN_BTN_X, 3: g.LUMEN_BTN_Y, 4: g.LUMEN_BTN_BACK,
    5: g.LUMEN_BTN_GUIDE, 6: g.LUMEN_BTN_START, 7: g.LUMEN_BTN_LS_CLK, 8: g.LUMEN_BTN_RS_CLK,
    9: g.LUMEN_BTN_LB, 10: g.LUMEN_BTN_RB, 11: g.LUMEN_BTN_UP, 12: g.LUMEN_BTN_DOWN, 13: g.LUMEN_BTN_LEFT,
    14: g.LUMEN_BTN_RIGHT, 15: g.LUMEN_BTN_MISC, 16: g.LUMEN_BTN_PADDLE1, 17: g.LUMEN_BTN_PADDLE2,
    18: g.LUMEN_BTN_PADDLE3, 19: g.LUMEN_BTN_PADDLE4, 20: g.LUMEN_BTN_TOUCHPAD,
}
SDL_AXIS_LEFTX, SDL_AXIS_LEFTY, SDL_AXIS_RIGHTX, SDL_AXIS_RIGHTY, SDL_AXIS_TL, SDL_AXIS_TR = range(6)


def sdl_environment() -> None:
    """What SDL needs to read pads in a terminal or beside Qt; set before pygame loads."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # no window: SDL's video only carries device events
    # SDL would turn SIGINT/SIGTERM into a quit event nobody reads: the process
    # could no longer be stopped. Signals stay Python's.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    os.environ.setdefault("SDL_JOYSTICK_ALLOW_BACKGROUND_EVENTS", "1")  # pads while another window has focus
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")


def read_state(controller) -> PadState:
    """A pygame ``Controller``'s state in contract units."""
    buttons = 0
    for sdl_button, flag in SDL_BUTTONS.items():
        try:
            if controller.get_button(sdl_button):
                buttons |= flag
        except Exception:  # a button this SDL or pad does not have
            continue
    return PadState(
        buttons=buttons,
        lx=controller.get_axis(SDL_AXIS_LEFTX), ly=sdl_stick_y(controller.get_axis(SDL_AXIS_LEFTY)),
        rx=controller.get_axis(SDL_AXIS_RIGHTX), ry=sdl_stick_y(controller.get_axis(SDL_AXIS_RIGHTY)),
        lt=sdl_trigger(controller.get_axis(SDL_AXIS_TL)), rt=sdl_trigger(controller.get_axis(SDL_AXIS_TR)),
    )


class PadPoller:
    """Hotplug and state polling of SDL game controllers, for one listener at a time."""

    def __init__(self, listener: PadListener | None = None) -> None:
        self._listener = listener
        self._rumble: dict[int, tuple[int, int]] = {}
        self._rumble_lock = threading.Lock()
        self._ready = threading.Event()
        self._announce = threading.Event()
        self._worker = Worker("pads", self._run)
        self.error: str | None = None

    def start(self) -> None:
        self._worker.start()
        self._ready.wait(5.0)

    def stop(self) -> None:
        self._worker.stop()

    def join(self) -> None:
        self._worker.join()

    def forward_to(self, listener: PadListener | None) -> None:
        """Any thread: where pad events go from now on."""
        self._listener = listener

    def rumble(self, pad: int, low: int, high: int) -> None:
        """Any thread: play the host's rumble on ``pad``."""
        with self._rumble_lock:
            self._rumble[pad] = (low, high)

    # -- the session's rumble sink --------------------------------------------------------

    def open(self) -> None:
        """A stream starts: the pads already present are announced to it, with their state,
        on the next poll (a session takes pads only while it streams)."""
        self._announce.set()

    def push(self, rumble: Rumble) -> None:
        self.rumble(rumble.pad, rumble.low, rumble.high)

    def close(self) -> None:
        """The stream is over: no motor keeps running for a host that is gone."""
        for pad in range(MAX_LOCAL_PADS):
            self.rumble(pad, 0, 0)

    def _run(self) -> None:
        sdl_environment()
        try:
            import pygame
            from pygame._sdl2 import controller as sdl_controller

            pygame.display.init()  # SDL delivers device events through the video subsystem
            pygame.joystick.init()
            sdl_controller.init()
        except Exception as exc:
            self.error = f"gamepads unavailable: {exc}"
            log.warning("%s", self.error)
            self._ready.set()
            return
        pads: dict[int, tuple[int, object]] = {}  # SDL instance id -> (index, controller)
        last: dict[int, PadState] = {}
        try:
            self._announce.clear()  # what is present now is announced as it is attached
            self._attach_present(pygame, sdl_controller, pads)
            self._ready.set()
            while not self._worker.stopped:
                listener = self._listener
                if self._announce.is_set():
                    self._announce.clear()
                    last.clear()  # every present pad's state goes to the new listener
                    if listener is not None:
                        for index, controller in pads.values():
                            listener.pad_arrived(index, _name(controller))
                for event in pygame.event.get():
                    if event.type == pygame.CONTROLLERDEVICEADDED:
                        self._attach(sdl_controller, event.device_index, pads)
                    elif event.type == pygame.CONTROLLERDEVICEREMOVED:
                        entry = pads.pop(event.instance_id, None)
                        if entry is not None:
                            last.pop(entry[0], None)
                            if listener is not None:
                                listener.pad_removed(entry[0])
                for index, controller in pads.values():
                    state = read_state(controller)
                    if last.get(index) != state:
                        last[index] = state
                        if listener is not None:
                            listener.set_pad_state(index, state)
                self._play_rumble(pads)
                time.sleep(POLL_INTERVAL_S)
        finally:
            self._ready.set()
            sdl_controller.quit()
            pygame.display.quit()

    def _attach_present(self, pygame, sdl_controller, pads) -> None:
        for device_index in range(pygame.joystick.get_count()):
            self._attach(sdl_controller, device_index, pads)
        pygame.event.clear()  # the ADDED events for these were just handled

    def _attach(self, sdl_controller, device_index: int, pads) -> None:
        if not sdl_controller.is_controller(device_index):
            return
        controller = sdl_controller.Controller(device_index)
        instance = controller.as_joystick().get_instance_id()
        if instance in pads:
            return
        used = {index for index, _ in pads.values()}
        free = [i for i in range(MAX_LOCAL_PADS) if i not in used]
        if not free:
            log.warning("more than %d pads: %s ignored", MAX_LOCAL_PADS, controller.name)
            return
        pads[instance] = (free[0], controller)
        log.info("pad %d: %s", free[0], controller.name)
        if self._listener is not None:
            self._listener.pad_arrived(free[0], _name(controller))

    def _play_rumble(self, pads) -> None:
        with self._rumble_lock:
            pending, self._rumble = self._rumble, {}
        for index, controller in pads.values():
            if index in pending:
                low, high = pending[index]
                if low or high:
                    controller.rumble(low / 65535, high / 65535, RUMBLE_MS)
                else:
                    controller.stop_rumble()


def _name(controller) -> str:  # pygame._sdl2 has no stubs
    return str(controller.name or "game controller")
