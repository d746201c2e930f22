"""The client's pad sender against the host's tracker: loss and reordering heal with the periodic resend."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core import gamepad as gp
from lumen_core.datagrams import PadAxis, PadButton, PadSnapshot, parse_datagram
from lumen_core.gamepad import LUMEN_BTN_A, PadState, PadTracker, sdl_stick_y
from lumen_core.pad_sender import RESEND_INTERVAL_NS, PadSender


def _apply(tracker: PadTracker, data: bytes) -> None:
    msg = parse_datagram(data)
    if isinstance(msg, PadButton):
        tracker.apply_button(msg.pad, msg.seq, msg.flag, msg.down)
    elif isinstance(msg, PadAxis):
        tracker.apply_axis(msg.pad, msg.seq, msg.axis, msg.value)
    elif isinstance(msg, PadSnapshot):
        tracker.apply_snapshot(msg.pad, msg.seq, msg.state)


def test_lost_button_up_heals_with_the_periodic_snapshot() -> None:
    sender, tracker = PadSender(), PadTracker()
    for d in sender.update(0, PadState(buttons=LUMEN_BTN_A), 0):
        _apply(tracker, d)
    sender.update(0, PadState(), 1000)  # button-up and its snapshot: all lost
    for d in sender.update(0, PadState(lx=500), 2000):  # a later axis event gets through
        if parse_datagram(d).__class__ is PadAxis:
            _apply(tracker, d)
    assert tracker.state(0) == PadState(buttons=LUMEN_BTN_A, lx=500)  # A stuck, for now
    assert sender.get_timer() == RESEND_INTERVAL_NS
    assert sender.handle_timer(RESEND_INTERVAL_NS - 1) == []
    for d in sender.handle_timer(RESEND_INTERVAL_NS):
        _apply(tracker, d)
    assert tracker.state(0) == PadState(lx=500)  # healed


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 0xFFFF), st.integers(-32768, 32767), st.integers(0, 255)),
             min_size=1, max_size=30),
    st.integers(0, 2**32),
    st.floats(0.0, 0.9),
)
def test_any_loss_and_reordering_converge_after_one_resend(changes, seed, loss) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(seed)
    sender, tracker = PadSender(), PadTracker()
    final: dict[int, PadState] = {}
    wire: list[bytes] = []
    for n, (pad, buttons, stick, trig) in enumerate(changes):
        state = PadState(buttons=buttons & 0xF7FF & gp.ALL_BUTTONS, lx=stick, ly=sdl_stick_y(stick), rt=trig)
        final[pad] = state
        wire += [d for d in sender.update(pad, state, n) if rng.random() >= loss]
    rng.shuffle(wire)
    for d in wire:
        _apply(tracker, d)
    for d in sender.handle_timer(RESEND_INTERVAL_NS):
        _apply(tracker, d)
    assert tracker.pads() == final
