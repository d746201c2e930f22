"""The client's side of the gamepad input plane (sans-IO), for both modes.

Extended mode: each change of a pad's state goes out as incremental events (one per
changed button or axis, 0xCB/0xCC) followed by a full snapshot (0xCD), all stamped with
the pad's new seq (the first is 1). Snapshots of every pad are re-sent every
``RESEND_INTERVAL_NS``, so a lost button-up heals within that interval on the host (see
gamepad.PadTracker for the receiving rules).

Base mode (an M3 host): M3's 0xC8 events, kind 7 with the changed button bit and kind 8
per changed axis. M3 has no snapshots, but its host folds button events by OR and
AND-NOT of the whole code, so the state re-sent as events (pressed bits with x = 1,
released bits with x = 0, every axis) heals a lost event the same way, every
``BASE_RESEND_INTERVAL_NS``.
"""

from __future__ import annotations

from typing import Final

from .datagrams import InputEvent, PadAxis, PadButton, PadSnapshot
from .gamepad import ALL_BUTTONS, AXIS_NAMES, BUTTON_NAMES, MAX_PADS, SEQ_MOD, PadState
from .input import Kind

# Long enough to cost nothing (at most 10 snapshots/s per pad), short enough that a stuck
# button after a lost datagram is released before a person notices.
RESEND_INTERVAL_NS: Final = 100_000_000
# Base mode re-sends eight events per pad; M3's host logs each, so less often.
BASE_RESEND_INTERVAL_NS: Final = 500_000_000


class PadSender:
    def __init__(self, *, extended: bool = True) -> None:
        self.extended = extended
        self._pads: dict[int, tuple[int, PadState]] = {}
        self._next_resend_ns: int | None = None
        self._interval = RESEND_INTERVAL_NS if extended else BASE_RESEND_INTERVAL_NS

    def update(self, pad: int, state: PadState, now_ns: int) -> list[bytes]:
        """The datagrams that carry ``pad``'s change to ``state`` (empty if unchanged)."""
        if not 0 <= pad < MAX_PADS:
            raise ValueError(f"pad index {pad} out of range")
        seq, old = self._pads.get(pad, (0, PadState()))
        if pad in self._pads and state == old:
            return []
        seq = (seq + 1) % SEQ_MOD
        self._pads[pad] = (seq, state)
        changed = old.buttons ^ state.buttons
        axes = [axis for axis in range(len(AXIS_NAMES)) if state.axis(axis) != old.axis(axis)]
        if self.extended:
            out = [PadButton(pad=pad, seq=seq, flag=flag, down=bool(state.buttons & flag)).encode()
                   for flag in BUTTON_NAMES if changed & flag]
            out += [PadAxis(pad=pad, seq=seq, axis=axis, value=state.axis(axis)).encode() for axis in axes]
            out.append(PadSnapshot(pad=pad, seq=seq, state=state).encode())
        else:
            out = [_base_button(pad, flag, bool(state.buttons & flag)) for flag in BUTTON_NAMES if changed & flag]
            out += [_base_axis(pad, axis, state.axis(axis)) for axis in axes]
        if self._next_resend_ns is None:
            self._next_resend_ns = now_ns + self._interval
        return out

    def remove(self, pad: int) -> None:
        self._pads.pop(pad, None)
        if not self._pads:
            self._next_resend_ns = None

    def get_timer(self) -> int | None:
        """When handle_timer wants to run next (ns, the caller's clock), or None."""
        return self._next_resend_ns

    def handle_timer(self, now_ns: int) -> list[bytes]:
        """The periodic re-sends that are due at ``now_ns``."""
        if self._next_resend_ns is None or now_ns < self._next_resend_ns:
            return []
        self._next_resend_ns = now_ns + self._interval
        out: list[bytes] = []
        for pad, (seq, state) in sorted(self._pads.items()):
            if self.extended:
                out.append(PadSnapshot(pad=pad, seq=seq, state=state).encode())
                continue
            if state.buttons:
                out.append(_base_button(pad, state.buttons, True))
            if ALL_BUTTONS & ~state.buttons:
                out.append(_base_button(pad, ALL_BUTTONS & ~state.buttons, False))
            out += [_base_axis(pad, axis, state.axis(axis)) for axis in range(len(AXIS_NAMES))]
        return out


def _base_button(pad: int, code: int, pressed: bool) -> bytes:
    return InputEvent(kind=Kind.PAD_BUTTON, code=code, x=int(pressed), flags=pad).encode()


def _base_axis(pad: int, axis: int, value: int) -> bytes:
    return InputEvent(kind=Kind.PAD_AXIS, code=axis, x=value, flags=pad).encode()
