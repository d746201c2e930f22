"""``lumen-client --input-test``: controllers in a terminal, no display and no host needed.

Lists the attached game controllers, then prints every change as the datagrams that
would go on the wire (decoded back, so what is shown is what a host would read) and
the pad's state after it. Keys: r then Enter plays a rumble test on every pad (1 s);
q then Enter quits. With --host the input also streams to that host, and the rumble it
sends back is printed.
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
import threading
import time

from lumen_core.datagrams import PadAxis, PadButton, PadSnapshot, parse_datagram
from lumen_core.gamepad import AXIS_NAMES, BUTTON_NAMES, PadState, button_names
from lumen_core.pad_sender import PadSender
from lumen_core.trust import format_fingerprint


def list_controllers() -> list[tuple[int, str, str]]:
    """(index, name, GUID) of every SDL game controller attached."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    # SDL would turn SIGINT/SIGTERM into a quit event nobody reads: the process
    # could no longer be stopped. Signals stay Python's.
    os.environ.setdefault("SDL_NO_SIGNAL_HANDLERS", "1")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
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


def run_input_test(list_only: bool, host: str | None, pin: str | None, out=sys.stdout) -> int:  # type: ignore[no-untyped-def]
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


def _watch(host: str | None, pin: str | None, out) -> int:  # type: ignore[no-untyped-def]
    from .pads import PadPoller

    sender = PadSender()
    lock = threading.Lock()
    session = _start_host_session(host, pin, out) if host else None

    def on_state(pad: int, state: PadState) -> None:
        with lock:
            for data in sender.update(pad, state, time.monotonic_ns()):
                print(describe(data), file=out, flush=True)
        if session is not None:
            session.call_soon(session.set_pad_state, pad, state)

    def on_arrival(pad: int, name: str) -> None:
        print(f"pad {pad}  arrived: {name}", file=out, flush=True)
        if session is not None:
            session.call_soon(session.pad_arrived, pad, name)

    def on_removal(pad: int) -> None:
        print(f"pad {pad}  removed", file=out, flush=True)
        with lock:
            sender.remove(pad)
        if session is not None:
            session.call_soon(session.pad_removed, pad)

    poller = PadPoller(on_arrival, on_removal, on_state)
    if session is not None:
        def rumble(pad: int, low: int, high: int) -> None:
            print(f"pad {pad}  rumble from host: low {low} high {high}", file=out, flush=True)
            poller.rumble(pad, low, high)

        session.set_rumble_handler(rumble)
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
                threading.Timer(1.0, lambda: [poller.rumble(p, 0, 0) for p in range(4)]).start()
    except KeyboardInterrupt:
        pass
    finally:
        poller.stop()
        poller.join()
        if session is not None:
            session.stop()
    return 0


def _start_host_session(address: str, pin: str | None, out):  # type: ignore[no-untyped-def]
    from lumen_core.errors import IdentityError
    from lumen_core.identity import load_or_create_client_key

    from .address import parse_address
    from .session import StreamOptions, StreamSession
    from .trust_store import TrustStore

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
    session = StreamSession(StreamOptions(host=host, port=port, pin=pin, width=640, height=360, fps=30,
                                          identity=identity), TrustStore(), first_use)

    def run() -> None:
        try:
            result = asyncio.run(session.run())
            print(f"host session ended: {result.end_reason}", file=out, flush=True)
        except Exception as exc:
            print(f"host session failed: {exc}", file=out, flush=True)

    threading.Thread(target=run, name="input-test-host", daemon=True).start()
    return session
