"""``lumen-client --input-test``: controllers in a terminal, no display and no host needed.

Lists the attached game controllers, then prints every change as the datagrams that
would go on the wire (decoded back, so what is shown is what a host would read) and
the pad's state after it. Keys: r then Enter plays a rumble test on every pad (1 s);
q then Enter quits. With --host the input also streams to that host, and the rumble it
sends back is printed.
"""

from __future__ import annotations

import asyncio
import select
import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from lumen_core.datagrams import PadAxis, PadButton, PadSnapshot, parse_datagram
from lumen_core.gamepad import AXIS_NAMES, BUTTON_NAMES, PadState, button_names
from lumen_core.pad_sender import PadSender
from lumen_core.trust import format_fingerprint

from .pads import PadPoller, sdl_environment
from .pipeline import Each, PadListener, Rumble, Tee

if TYPE_CHECKING:
    from .session import StreamSession


def list_controllers() -> list[tuple[int, str, str]]:
    """(index, name, GUID) of every SDL game controller attached."""
    sdl_environment()
    import pygame
    from pygame._sdl2 import controller as sdl_controller

    pygame.display.init()
    pygame.joystick.init()
    sdl_controller.init()
    found = []
    for i in range(pygame.joystick.get_count()):
        if sdl_controller.is_controller(i):
            joystick = pygame.joystick.Joystick(i)
            found.append((i, sdl_controller.name_forindex(i) or joystick.get_name(), joystick.get_guid()))
    return found


def describe(data: bytes) -> str:
    msg = parse_datagram(data)
    if isinstance(msg, PadButton):
        return f"pad {msg.pad}  button {BUTTON_NAMES[msg.flag]:<8} {'down' if msg.down else 'up  '}  " \
               f"flag 0x{msg.flag:06x}  seq {msg.seq}"
    if isinstance(msg, PadAxis):
        return f"pad {msg.pad}  axis   {AXIS_NAMES[msg.axis]:<8} {msg.value:+6d}  seq {msg.seq}"
    if isinstance(msg, PadSnapshot):
        return f"pad {msg.pad}  state  {state_line(msg.state)}"
    return repr(msg)


def state_line(s: PadState) -> str:
    return (f"buttons {'+'.join(button_names(s.buttons)) or '-'}  lx {s.lx:+6d} ly {s.ly:+6d}  "
            f"rx {s.rx:+6d} ry {s.ry:+6d}  lt {s.lt:3d} rt {s.rt:3d}")


def run_input_test(list_only: bool, host: str | None, pin: str | None, out: TextIO = sys.stdout) -> int:
    try:
        controllers = list_controllers()
    except Exception as exc:  # pygame or SDL missing: one line, not a traceback
        print(f"lumen-client: game controllers unavailable: {exc}", file=sys.stderr)
        return 1
    if not controllers:
        print("No game controllers found. Is one plugged in, and can you read /dev/input/event*? "
              "(Most distributions: join the 'input' group.)", file=out)
        if list_only:
            return 0
    for index, name, guid in controllers:
        print(f"controller {index}: {name}  GUID {guid}", file=out)
    if list_only:
        return 0
    print("Move sticks, press buttons. r + Enter: rumble test; q + Enter: quit.", file=out, flush=True)
    return _watch(host, pin, out)


class _Printer:
    """The pads' listener: each change printed as the datagrams it becomes, then passed on
    to the host session, if there is one."""

    def __init__(self, out: TextIO, session: PadListener | None) -> None:
        self._out, self._session = out, session
        self._sender = PadSender()
        self._lock = threading.Lock()

    def _print(self, line: str) -> None:
        print(line, file=self._out, flush=True)

    def pad_arrived(self, pad: int, name: str) -> None:
        self._print(f"pad {pad}  arrived: {name}")
        if self._session is not None:
            self._session.pad_arrived(pad, name)

    def pad_removed(self, pad: int) -> None:
        self._print(f"pad {pad}  removed")
        with self._lock:
            self._sender.remove(pad)
        if self._session is not None:
            self._session.pad_removed(pad)

    def set_pad_state(self, pad: int, state: PadState) -> None:
        with self._lock:
            for data in self._sender.update(pad, state, time.monotonic_ns()):
                self._print(describe(data))
        if self._session is not None:
            self._session.set_pad_state(pad, state)


def _watch(host: str | None, pin: str | None, out: TextIO) -> int:
    poller = PadPoller()
    session = _start_host_session(host, pin, out, poller) if host else None
    poller.forward_to(_Printer(out, session))
    poller.start()
    announced = False
    try:
        while True:
            if session is not None and not announced and session.streaming:
                announced = True
                print(f"host session: streaming in {session.mode} mode", file=out, flush=True)
            ready, _, _ = select.select([sys.stdin], [], [], 0.2)
            if not ready:
                continue
            line = sys.stdin.readline()
            if not line or line.strip().lower() == "q":
                break
            if line.strip().lower() == "r":
                for pad in range(4):
                    poller.rumble(pad, 32767, 65535)
                print("rumble test: low 32767, high 65535 for 1 s", file=out, flush=True)
                threading.Timer(1.0, _stop_rumble, (poller,)).start()
    except KeyboardInterrupt:
        pass
    finally:
        poller.stop()
        poller.join()
        if session is not None:
            session.stop()
    return 0


def _stop_rumble(poller: PadPoller) -> None:
    for pad in range(4):
        poller.rumble(pad, 0, 0)


def _start_host_session(address: str, pin: str | None, out: TextIO, pads: PadPoller) -> StreamSession:
    from lumen_core.errors import IdentityError
    from lumen_core.identity import load_or_create_client_key

    from .address import parse_address
    from .session import StreamOptions
    from .trust_store import TrustStore
    from .wiring import wire

    host, port = parse_address(address)
    def first_use(fingerprint: str) -> bool:
        # As the headless client does: pinned from now on, and said where it can be checked.
        print(f"host session: trusting {host}:{port} on first use; its fingerprint is "
              f"{format_fingerprint(fingerprint)}", file=out, flush=True)
        return True

    try:
        identity, _ = load_or_create_client_key()
    except IdentityError as exc:  # hosts that require pairing will refuse: they say so
        print(f"host session: no client key ({exc})", file=out, flush=True)
        identity = None
    def show_rumble(rumble: Rumble) -> None:
        print(f"pad {rumble.pad}  rumble from host: low {rumble.low} high {rumble.high}", file=out, flush=True)

    # The pads' events reach the session through the printer (_watch); its rumble is
    # printed, then played.
    session = wire(StreamOptions(host=host, port=port, pin=pin, width=640, height=360, fps=30, identity=identity),
                   TrustStore(), first_use, rumble=Tee(Each(show_rumble), pads))

    def run() -> None:
        try:
            result = asyncio.run(session.run())
            print(f"host session ended: {result.end_reason}", file=out, flush=True)
        except Exception as exc:
            print(f"host session failed: {exc}", file=out, flush=True)

    threading.Thread(target=run, name="input-test-host", daemon=True).start()
    return session
