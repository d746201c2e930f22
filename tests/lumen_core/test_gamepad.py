"""The gamepad contract: GameStream's button flags, SDL conversions, and the host's tracker rules."""

from __future__ import annotations

from lumen_core import gamepad as gp
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_B, PadState, PadTracker, sdl_stick_y, sdl_trigger


def test_button_flags_are_gamestreams() -> None:
    assert (gp.LUMEN_BTN_UP, gp.LUMEN_BTN_START, gp.LUMEN_BTN_GUIDE, gp.LUMEN_BTN_A, gp.LUMEN_BTN_Y) == (
        0x0001, 0x0010, 0x0400, 0x1000, 0x8000)
    assert (gp.LUMEN_BTN_PADDLE1, gp.LUMEN_BTN_TOUCHPAD, gp.LUMEN_BTN_MISC) == (0x010000, 0x100000, 0x200000)
    assert not hasattr(gp, "BTN_A")  # bare names collide with Linux input codes


def test_sdl_conversions() -> None:
    assert sdl_stick_y(-32768) == 32767  # SDL up (negative) -> contract up (positive)
    assert sdl_stick_y(32767) == -32767 and sdl_stick_y(0) == 0
    assert sdl_trigger(0) == 0 and sdl_trigger(32767) == 255 and sdl_trigger(16384) == 128


def test_seq_comparison_wraps() -> None:
    assert gp.seq_newer(1, 0) and gp.seq_newer(0, 2**32 - 1) and not gp.seq_newer(5, 5)
    assert not gp.seq_newer(0, 1)


def test_old_events_and_snapshots_are_ignored() -> None:
    t = PadTracker()
    assert t.apply_snapshot(0, 10, PadState(buttons=LUMEN_BTN_A))
    assert not t.apply_button(0, 9, LUMEN_BTN_B, True)
    assert not t.apply_snapshot(0, 9, PadState())
    assert t.apply_button(0, 11, LUMEN_BTN_B, True)
    assert t.state(0) == PadState(buttons=LUMEN_BTN_A | LUMEN_BTN_B)
    assert t.ignored == 2
