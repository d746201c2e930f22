"""The host's keyboard and mouse: M3's VK -> evdev table, the translation every input kind
gets (checked against python-evdev's own codes), and that whatever a client held is let go
of when its session ends, however it ends."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import evdev.ecodes as e
import pytest
from hosts import ClientRun, start_host
from lumen_host.input import ABS_MAX, KEYBOARD, MOUSE, POINTER, LoggingInputSink, Translator
from project import ROOT

from lumen_client.session import StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_core.datagrams import InputEvent
from lumen_core.input import Kind

pytestmark = pytest.mark.timeout(120)


def ev(kind: Kind, code: int = 0, x: int = 0, y: int = 0, flags: int = 0) -> InputEvent:
    return InputEvent(kind=kind, code=code, x=x, y=y, flags=flags)


def test_keys_and_buttons_are_held_until_released() -> None:
    t = Translator()
    assert t.translate(ev(Kind.KEY_DOWN, 0x41)) == [(KEYBOARD, e.EV_KEY, e.KEY_A, 1)]
    assert t.translate(ev(Kind.KEY_DOWN, 0x1A0)) == [(KEYBOARD, e.EV_KEY, e.KEY_LEFTSHIFT, 1)]  # low byte only
    assert t.translate(ev(Kind.KEY_DOWN, 0x07)) == [] and t.dropped["unmapped key"] == 1
    assert t.translate(ev(Kind.KEY_UP, 0x41)) == [(KEYBOARD, e.EV_KEY, e.KEY_A, 0)]
    buttons = [e.BTN_LEFT, e.BTN_MIDDLE, e.BTN_RIGHT, e.BTN_SIDE, e.BTN_EXTRA]
    for code, button in enumerate(buttons, start=1):
        assert t.translate(ev(Kind.MOUSE_BUTTON_DOWN, code)) == [(MOUSE, e.EV_KEY, button, 1)]
    assert t.translate(ev(Kind.MOUSE_BUTTON_DOWN, 6)) == [] and t.dropped["unknown mouse button"] == 1
    assert t.translate(ev(Kind.MOUSE_BUTTON_UP, 2)) == [(MOUSE, e.EV_KEY, e.BTN_MIDDLE, 0)]
    # Still held: shift and four buttons. release_all lets go of exactly those, once.
    released = t.release_all()
    assert released == [(KEYBOARD, e.EV_KEY, e.KEY_LEFTSHIFT, 0)] + [
        (MOUSE, e.EV_KEY, b, 0) for b in sorted(set(buttons) - {e.BTN_MIDDLE})]
    assert t.release_all() == []


def test_pointer_motion_relative_and_absolute() -> None:
    t = Translator()
    assert t.translate(ev(Kind.MOUSE_MOVE, x=-5, y=7)) == [(MOUSE, e.EV_REL, e.REL_X, -5),
                                                           (MOUSE, e.EV_REL, e.REL_Y, 7)]
    ref = (1920 << 16) | 1080
    assert t.translate(ev(Kind.MOUSE_MOVE_ABS, x=960, y=1080, flags=ref)) == [
        (POINTER, e.EV_ABS, e.ABS_X, ABS_MAX // 2), (POINTER, e.EV_ABS, e.ABS_Y, ABS_MAX)]
    # Outside the reference surface: clamped to its edges, as M3's wlroots injector does.
    assert t.translate(ev(Kind.MOUSE_MOVE_ABS, x=-40, y=5000, flags=ref)) == [
        (POINTER, e.EV_ABS, e.ABS_X, 0), (POINTER, e.EV_ABS, e.ABS_Y, ABS_MAX)]
    for flags in (1920 << 16, 1080, 0):  # no reference width or height: dropped
        assert t.translate(ev(Kind.MOUSE_MOVE_ABS, x=1, y=1, flags=flags)) == []
    assert t.dropped["absolute motion without a reference"] == 3


def test_scroll_in_high_resolution_with_whole_detents_on_the_classic_wheels() -> None:
    t = Translator()
    assert t.translate(ev(Kind.MOUSE_SCROLL, 0, x=120)) == [(MOUSE, e.EV_REL, e.REL_WHEEL_HI_RES, 120),
                                                            (MOUSE, e.EV_REL, e.REL_WHEEL, 1)]
    # A touchpad's fractions: the classic wheel moves once the sum makes a detent.
    assert t.translate(ev(Kind.MOUSE_SCROLL, 0, x=-60)) == [(MOUSE, e.EV_REL, e.REL_WHEEL_HI_RES, -60)]
    assert t.translate(ev(Kind.MOUSE_SCROLL, 0, x=-90)) == [(MOUSE, e.EV_REL, e.REL_WHEEL_HI_RES, -90),
                                                            (MOUSE, e.EV_REL, e.REL_WHEEL, -1)]
    # Horizontal: lumen/1's positive is left, evdev's is right.
    assert t.translate(ev(Kind.MOUSE_SCROLL, 1, x=240)) == [(MOUSE, e.EV_REL, e.REL_HWHEEL_HI_RES, -240),
                                                            (MOUSE, e.EV_REL, e.REL_HWHEEL, -2)]
    assert t.translate(ev(Kind.MOUSE_SCROLL, 7, x=120))[0][2] == e.REL_WHEEL_HI_RES  # only code 1 is horizontal


def test_pad_kinds_are_not_the_keyboard_sinks() -> None:
    t = Translator()
    assert t.translate(ev(Kind.PAD_BUTTON, 0x1000, x=1)) == [] and t.dropped["not keyboard or mouse"] == 1


def test_the_logging_sink_counts_what_it_releases() -> None:
    sink = LoggingInputSink()
    sink.apply(ev(Kind.KEY_DOWN, 0x41))
    sink.apply(ev(Kind.MOUSE_BUTTON_DOWN, 1))
    assert sink.release_all() == 2 and sink.release_all() == 0


VANISHING_CLIENT = textwrap.dedent("""
    import asyncio, os, sys, threading, time
    from lumen_client.session import StreamOptions, StreamSession
    from lumen_client.trust_store import TrustStore
    port, pin, store = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    session = StreamSession(StreamOptions(host="127.0.0.1", port=port, pin=pin, width=640, height=360),
                            TrustStore(store), lambda fp: True)
    threading.Thread(target=lambda: asyncio.run(session.run()), daemon=True).start()
    deadline = time.monotonic() + 20
    while not session.streaming:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    session.call_soon(session.send_key, 0x41, True)
    session.call_soon(session.send_mouse_button, 1, True)
    session.call_soon(session.send_mouse_motion, 3, 4)
    time.sleep(1.0)
    print("holding", flush=True)
    os._exit(0)  # no goodbye, no key-up: as a client that crashes or loses power
""")


def test_a_vanished_clients_keys_and_buttons_are_released(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--max-sessions", "1")
    try:
        proc = subprocess.run([sys.executable, "-c", VANISHING_CLIENT, str(host.port), host.fingerprint,
                               str(tmp_path / "pins.json")], capture_output=True, text=True, timeout=60,
                              env=os.environ | {"PYTHONPATH": str(ROOT)})
        assert proc.stdout.strip() == "holding", proc.stderr
        [served] = host.wait_for_sessions(1, timeout_s=20)  # 3 s of silence ends an extended session
    finally:
        host.stop()
    assert served["mode"] == "extended" and "client gone" in str(served["end_reason"]), served
    assert served["input"] == {"keys": 1, "mouse": 2, "pad": 0}, served
    assert served["input_released"] == 2  # the key and the button; motion holds nothing
    assert "released 2 keys and mouse buttons" in host.log()


def test_keys_held_at_a_normal_end_are_released(tmp_path: Path) -> None:
    host = start_host(tmp_path, "--max-sessions", "1")
    try:
        run = ClientRun(StreamOptions(host="127.0.0.1", port=host.port, pin=host.fingerprint, duration_s=1.5,
                                      width=640, height=360), TrustStore(tmp_path / "p.json")).start()
        session = run.session
        deadline = time.monotonic() + 20
        while not session.streaming:
            assert time.monotonic() < deadline, "never streamed"
            time.sleep(0.05)
        session.call_soon(session.send_key, 0xA2, True)  # left Ctrl, never let go
        run.join()
        [served] = host.wait_for_sessions(1)
    finally:
        host.stop()
    assert served["input"]["keys"] == 1 and served["input_released"] == 1, served


@pytest.mark.skipif(not os.access("/dev/uinput", os.W_OK), reason="needs a writable /dev/uinput (none on CI machines)")
def test_the_uinput_sink_makes_a_keyboard_and_a_mouse_and_lets_go() -> None:
    import evdev
    from lumen_host.input import UinputInputSink

    sink = UinputInputSink()
    try:
        sink.apply(ev(Kind.KEY_DOWN, 0x41))
        sink.apply(ev(Kind.MOUSE_BUTTON_DOWN, 1))
        names = [evdev.InputDevice(path).name for path in evdev.list_devices()]
        assert "lumen virtual keyboard" in names and "lumen virtual mouse" in names
        assert sink.release_all() == 2
    finally:
        sink.close()
