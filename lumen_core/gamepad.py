"""The gamepad contract: button flags, axis conventions, and per-pad state.

Buttons use GameStream's ``buttonFlags`` bits so a lumen host can feed the same virtual
controllers Sunshine does. Axes follow XInput: sticks are int16 with +y = up, triggers
uint8. SDL reports +y = down, so clients flip Y with ``sdl_stick_y`` (clamped at -32767:
negating -32768 would overflow int16).

Names carry the ``LUMEN_`` prefix: bare ``BTN_*`` collide with Linux input event codes,
which have other values.

Rules for ``PadTracker`` (the host's accumulator). Extended mode, seq compared modulo
2^32 (the seq'd datagrams 0xCB/0xCC/0xCD):
- an event applies only if its seq is newer than the last applied seq, and advances it;
- a snapshot applies if its seq is not older than the last applied seq. Applying at an
  equal seq is what heals a lost event: the event after it advanced the seq, and the
  periodic re-send of the snapshot with that seq then repairs the button it missed.
Base mode (M3's 0xC8 kinds 7 and 8, no seq), as M3's host folds them:
- button: ``buttons |= code`` when x != 0, else ``buttons &= ~code``;
- axis: sticks clamped to -32768..32767, triggers to 0..255; an unknown axis is dropped;
- a pad index of 16 or more is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Final

LUMEN_BTN_UP: Final = 0x0001
LUMEN_BTN_DOWN: Final = 0x0002
LUMEN_BTN_LEFT: Final = 0x0004
LUMEN_BTN_RIGHT: Final = 0x0008
LUMEN_BTN_START: Final = 0x0010
LUMEN_BTN_BACK: Final = 0x0020
LUMEN_BTN_LS_CLK: Final = 0x0040
LUMEN_BTN_RS_CLK: Final = 0x0080
LUMEN_BTN_LB: Final = 0x0100
LUMEN_BTN_RB: Final = 0x0200
LUMEN_BTN_GUIDE: Final = 0x0400
LUMEN_BTN_A: Final = 0x1000
LUMEN_BTN_B: Final = 0x2000
LUMEN_BTN_X: Final = 0x4000
LUMEN_BTN_Y: Final = 0x8000
LUMEN_BTN_PADDLE1: Final = 0x010000
LUMEN_BTN_PADDLE2: Final = 0x020000
LUMEN_BTN_PADDLE3: Final = 0x040000
LUMEN_BTN_PADDLE4: Final = 0x080000
LUMEN_BTN_TOUCHPAD: Final = 0x100000
LUMEN_BTN_MISC: Final = 0x200000

BUTTON_NAMES: Final[dict[int, str]] = {
    LUMEN_BTN_UP: "UP", LUMEN_BTN_DOWN: "DOWN", LUMEN_BTN_LEFT: "LEFT",
    LUMEN_BTN_RIGHT: "RIGHT", LUMEN_BTN_START: "START", LUMEN_BTN_BACK: "BACK",
    LUMEN_BTN_LS_CLK: "LS_CLK", LUMEN_BTN_RS_CLK: "RS_CLK", LUMEN_BTN_LB: "LB",
    LUMEN_BTN_RB: "RB", LUMEN_BTN_GUIDE: "GUIDE", LUMEN_BTN_A: "A", LUMEN_BTN_B: "B",
    LUMEN_BTN_X: "X", LUMEN_BTN_Y: "Y", LUMEN_BTN_PADDLE1: "PADDLE1",
    LUMEN_BTN_PADDLE2: "PADDLE2", LUMEN_BTN_PADDLE3: "PADDLE3",
    LUMEN_BTN_PADDLE4: "PADDLE4", LUMEN_BTN_TOUCHPAD: "TOUCHPAD", LUMEN_BTN_MISC: "MISC",
}
ALL_BUTTONS: Final = sum(BUTTON_NAMES)

# Axis ids on the wire.
LUMEN_AXIS_LX: Final = 0
LUMEN_AXIS_LY: Final = 1
LUMEN_AXIS_RX: Final = 2
LUMEN_AXIS_RY: Final = 3
LUMEN_AXIS_LT: Final = 4
LUMEN_AXIS_RT: Final = 5
AXIS_NAMES: Final = ("LX", "LY", "RX", "RY", "LT", "RT")
TRIGGER_AXES: Final = frozenset({LUMEN_AXIS_LT, LUMEN_AXIS_RT})

# Pads are numbered 0..MAX_PADS-1 (GameStream's limit is 16).
MAX_PADS: Final = 16

STICK_MIN: Final = -32768
STICK_MAX: Final = 32767
TRIGGER_MAX: Final = 255

SEQ_MOD: Final = 1 << 32


def seq_newer(a: int, b: int) -> bool:
    """True if seq ``a`` is after ``b`` in serial-number arithmetic (RFC 1982, 32 bit)."""
    return 0 < (a - b) % SEQ_MOD < SEQ_MOD // 2


def sdl_stick_y(value: int) -> int:
    """SDL's Y (+down, -32768..32767) to the contract's Y (+up), clamped at -32767."""
    return max(-32767, min(32767, -value))


def sdl_trigger(value: int) -> int:
    """SDL trigger (0..32767) to the contract's 0..255."""
    return max(0, min(255, (value * 255 + 16383) // 32767))


def button_names(flags: int) -> list[str]:
    return [name for bit, name in BUTTON_NAMES.items() if flags & bit]


def check_axis_value(axis: int, value: int) -> bool:
    if axis in TRIGGER_AXES:
        return 0 <= value <= TRIGGER_MAX
    return 0 <= axis < len(AXIS_NAMES) and STICK_MIN <= value <= STICK_MAX


@dataclass(frozen=True, slots=True, kw_only=True)
class PadState:
    """One pad's full state, in contract units."""

    buttons: int = 0
    lx: int = 0
    ly: int = 0
    rx: int = 0
    ry: int = 0
    lt: int = 0
    rt: int = 0

    def axis(self, axis: int) -> int:
        return (self.lx, self.ly, self.rx, self.ry, self.lt, self.rt)[axis]

    def with_axis(self, axis: int, value: int) -> PadState:
        return replace(self, **{AXIS_NAMES[axis].lower(): value})

    def with_button(self, flag: int, down: bool) -> PadState:
        return replace(self, buttons=(self.buttons | flag) if down else (self.buttons & ~flag))


@dataclass(slots=True)
class _PadSlot:
    seq: int
    state: PadState = field(default_factory=PadState)


class PadTracker:
    """The host's per-pad state, fed by decoded input datagrams (see module rules)."""

    def __init__(self) -> None:
        self._pads: dict[int, _PadSlot] = {}
        self.applied = 0
        self.ignored = 0

    def state(self, pad: int) -> PadState | None:
        slot = self._pads.get(pad)
        return slot.state if slot else None

    def pads(self) -> dict[int, PadState]:
        return {pad: slot.state for pad, slot in self._pads.items()}

    def remove(self, pad: int) -> None:
        self._pads.pop(pad, None)

    def _accept(self, pad: int, seq: int, snapshot: bool) -> _PadSlot | None:
        slot = self._pads.get(pad)
        if slot is None:
            slot = self._pads[pad] = _PadSlot(seq=seq)
            return slot
        if seq_newer(seq, slot.seq) or (snapshot and seq == slot.seq):
            slot.seq = seq
            return slot
        self.ignored += 1
        return None

    def apply_button(self, pad: int, seq: int, flag: int, down: bool) -> bool:
        slot = self._accept(pad, seq, snapshot=False)
        if slot is None:
            return False
        slot.state = slot.state.with_button(flag, down)
        self.applied += 1
        return True

    def apply_axis(self, pad: int, seq: int, axis: int, value: int) -> bool:
        slot = self._accept(pad, seq, snapshot=False)
        if slot is None:
            return False
        slot.state = slot.state.with_axis(axis, value)
        self.applied += 1
        return True

    def apply_base_button(self, pad: int, code: int, pressed: bool) -> bool:
        """M3's kind 7: OR in or clear every bit of ``code`` (unknown bits ignored)."""
        if not 0 <= pad < MAX_PADS:
            self.ignored += 1
            return False
        slot = self._pads.setdefault(pad, _PadSlot(seq=0))
        bits = code & ALL_BUTTONS
        slot.state = replace(slot.state, buttons=(slot.state.buttons | bits) if pressed else
                             (slot.state.buttons & ~bits))
        self.applied += 1
        return True

    def apply_base_axis(self, pad: int, axis: int, value: int) -> bool:
        """M3's kind 8: the axis set to ``value``, clamped to its range."""
        if not 0 <= pad < MAX_PADS or not 0 <= axis < len(AXIS_NAMES):
            self.ignored += 1
            return False
        slot = self._pads.setdefault(pad, _PadSlot(seq=0))
        lo, hi = (0, TRIGGER_MAX) if axis in TRIGGER_AXES else (STICK_MIN, STICK_MAX)
        slot.state = slot.state.with_axis(axis, max(lo, min(hi, value)))
        self.applied += 1
        return True

    def apply_snapshot(self, pad: int, seq: int, state: PadState) -> bool:
        slot = self._accept(pad, seq, snapshot=True)
        if slot is None:
            return False
        slot.state = state
        self.applied += 1
        return True
