"""The client's side of the gamepad input plane (sans-IO).

Each change of a pad's state goes out as incremental events (one per changed button or
axis) followed by a full snapshot, all stamped with the pad's new seq. Snapshots of
every pad are re-sent every ``RESEND_INTERVAL_NS``, so a lost button-up heals within
that interval on the host (see gamepad.PadTracker for the receiving rules).
"""

from __future__ import annotations

from typing import Final

from .datagrams import PadAxis, PadButton, PadSnapshot
from .gamepad import AXIS_NAMES, BUTTON_NAMES, MAX_PADS, SEQ_MOD, PadState

# Long enough to cost nothing (at most 10 snapshots/s per pad), short enough that a stuck
# button after a lost datagram is released before a person notices.
RESEND_INTERVAL_NS: Final = 100_000_000


class PadSender:
    def __init__(self) -> None:
        self._pads: dict[int, tuple[int, PadState]] = {}
        self._next_resend_ns: int | None = None

    def update(self, pad: int, state: PadState, now_ns: int) -> list[bytes]:
        """The datagrams that carry ``pad``'s change to ``state`` (empty if unchanged)."""
        if not 0 <= pad < MAX_PADS:
            raise ValueError(f"pad index {pad} out of range")
        seq, old = self._pads.get(pad, (0, PadState()))
        if pad in self._pads and state == old:
            return []
        seq = (seq + 1) % SEQ_MOD
        self._pads[pad] = (seq, state)
        out: list[bytes] = []
        changed = old.buttons ^ state.buttons
        for flag in BUTTON_NAMES:
            if changed & flag:
                out.append(PadButton(pad=pad, seq=seq, flag=flag, down=bool(state.buttons & flag)).encode())
        for axis in range(len(AXIS_NAMES)):
            if state.axis(axis) != old.axis(axis):
                out.append(PadAxis(pad=pad, seq=seq, axis=axis, value=state.axis(axis)).encode())
        out.append(PadSnapshot(pad=pad, seq=seq, state=state).encode())
        if self._next_resend_ns is None:
            self._next_resend_ns = now_ns + RESEND_INTERVAL_NS
        return out

    def remove(self, pad: int) -> None:
        self._pads.pop(pad, None)
        if not self._pads:
            self._next_resend_ns = None

    def get_timer(self) -> int | None:
        """When handle_timer wants to run next (monotonic ns), or None."""
        return self._next_resend_ns

    def handle_timer(self, now_ns: int) -> list[bytes]:
        """The periodic snapshot re-sends that are due at ``now_ns``."""
        if self._next_resend_ns is None or now_ns < self._next_resend_ns:
            return []
        self._next_resend_ns = now_ns + RESEND_INTERVAL_NS
        return [
            PadSnapshot(pad=pad, seq=seq, state=state).encode()
            for pad, (seq, state) in sorted(self._pads.items())
        ]
