"""The QUIC DATAGRAM side planes: audio, rumble, gamepad input, mouse motion.

Each datagram starts with one type byte; integers are big-endian::

    0xC9 audio     host->client  [C9][u32 seq][u64 pts_ns][opus payload, 1..1275 B]
    0xCA rumble    host->client  [CA][u8 pad][u16 low][u16 high]
    0xCB button    client->host  [CB][u8 pad][u32 seq][u32 flag][u8 down]
    0xCC axis      client->host  [CC][u8 pad][u32 seq][u8 axis][i16 value]
    0xCD snapshot  client->host  [CD][u8 pad][u32 seq][u32 buttons]
                                 [i16 lx][i16 ly][i16 rx][i16 ry][u8 lt][u8 rt]
    0xD0 motion    client->host  [D0][i16 dx][i16 dy]
    0xD1 scroll    client->host  [D1][i16 vertical][i16 horizontal]   (120 = one notch)

Every layout has a fixed length except audio. ``parse_datagram`` returns one of the
frozen dataclasses below, ``None`` for an unknown type byte (the caller counts and
drops it: never fatal), and raises ProtocolError for a known type that is malformed.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from .errors import ProtocolError
from .gamepad import (
    ALL_BUTTONS,
    AXIS_NAMES,
    MAX_PADS,
    PadState,
    check_axis_value,
)

AUDIO: Final = 0xC9
RUMBLE: Final = 0xCA
PAD_BUTTON: Final = 0xCB
PAD_AXIS: Final = 0xCC
PAD_SNAPSHOT: Final = 0xCD
MOUSE_MOTION: Final = 0xD0
MOUSE_SCROLL: Final = 0xD1

# RFC 6716: an Opus packet is at most 1275 bytes.
MAX_OPUS_PAYLOAD: Final = 1275

_AUDIO = struct.Struct("!BIQ")
_RUMBLE = struct.Struct("!BBHH")
_BUTTON = struct.Struct("!BBIIB")
_AXIS = struct.Struct("!BBIBh")
_SNAPSHOT = struct.Struct("!BBIIhhhhBB")
_MOUSE = struct.Struct("!Bhh")


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioPacket:
    seq: int
    pts_ns: int
    payload: bytes

    def encode(self) -> bytes:
        if not 1 <= len(self.payload) <= MAX_OPUS_PAYLOAD:
            raise ValueError(f"opus payload of {len(self.payload)} bytes")
        return _AUDIO.pack(AUDIO, self.seq, self.pts_ns) + self.payload


@dataclass(frozen=True, slots=True, kw_only=True)
class Rumble:
    """Motor speeds 0..65535 (XInput range); lasts until the next Rumble for the pad."""

    pad: int
    low: int
    high: int

    def encode(self) -> bytes:
        return _RUMBLE.pack(RUMBLE, self.pad, self.low, self.high)


@dataclass(frozen=True, slots=True, kw_only=True)
class PadButton:
    pad: int
    seq: int
    flag: int
    down: bool

    def encode(self) -> bytes:
        return _BUTTON.pack(PAD_BUTTON, self.pad, self.seq, self.flag, int(self.down))


@dataclass(frozen=True, slots=True, kw_only=True)
class PadAxis:
    pad: int
    seq: int
    axis: int
    value: int

    def encode(self) -> bytes:
        return _AXIS.pack(PAD_AXIS, self.pad, self.seq, self.axis, self.value)


@dataclass(frozen=True, slots=True, kw_only=True)
class PadSnapshot:
    pad: int
    seq: int
    state: PadState

    def encode(self) -> bytes:
        s = self.state
        return _SNAPSHOT.pack(
            PAD_SNAPSHOT, self.pad, self.seq, s.buttons, s.lx, s.ly, s.rx, s.ry, s.lt, s.rt
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class MouseMotion:
    dx: int
    dy: int

    def encode(self) -> bytes:
        return _MOUSE.pack(MOUSE_MOTION, self.dx, self.dy)


@dataclass(frozen=True, slots=True, kw_only=True)
class MouseScroll:
    vertical: int
    horizontal: int

    def encode(self) -> bytes:
        return _MOUSE.pack(MOUSE_SCROLL, self.vertical, self.horizontal)


Datagram = AudioPacket | Rumble | PadButton | PadAxis | PadSnapshot | MouseMotion | MouseScroll


def _fixed(layout: struct.Struct, data: bytes, what: str) -> tuple[int, ...]:
    if len(data) != layout.size:
        raise ProtocolError(f"{what} datagram of {len(data)} bytes, expected {layout.size}")
    return layout.unpack(data)


def _pad(pad: int) -> int:
    if pad >= MAX_PADS:
        raise ProtocolError(f"pad index {pad} out of range 0..{MAX_PADS - 1}")
    return pad


def _down(value: int) -> bool:
    if value > 1:
        raise ProtocolError(f"button state {value} is neither 0 nor 1")
    return bool(value)


def _parse_audio(data: bytes) -> AudioPacket:
    if len(data) <= _AUDIO.size or len(data) > _AUDIO.size + MAX_OPUS_PAYLOAD:
        raise ProtocolError(f"audio datagram of {len(data)} bytes")
    _, seq, pts_ns = _AUDIO.unpack_from(data)
    return AudioPacket(seq=seq, pts_ns=pts_ns, payload=bytes(data[_AUDIO.size :]))


def _parse_rumble(data: bytes) -> Rumble:
    _, pad, low, high = _fixed(_RUMBLE, data, "rumble")
    return Rumble(pad=_pad(pad), low=low, high=high)


def _parse_button(data: bytes) -> PadButton:
    _, pad, seq, flag, down = _fixed(_BUTTON, data, "pad button")
    if flag == 0 or flag & (flag - 1) or flag & ~ALL_BUTTONS:
        raise ProtocolError(f"pad button flag {flag:#x} is not one contract button")
    return PadButton(pad=_pad(pad), seq=seq, flag=flag, down=_down(down))


def _parse_axis(data: bytes) -> PadAxis:
    _, pad, seq, axis, value = _fixed(_AXIS, data, "pad axis")
    if axis >= len(AXIS_NAMES) or not check_axis_value(axis, value):
        raise ProtocolError(f"pad axis {axis} with value {value}")
    return PadAxis(pad=_pad(pad), seq=seq, axis=axis, value=value)


def _parse_snapshot(data: bytes) -> PadSnapshot:
    _, pad, seq, buttons, lx, ly, rx, ry, lt, rt = _fixed(_SNAPSHOT, data, "pad snapshot")
    if buttons & ~ALL_BUTTONS:
        raise ProtocolError(f"pad snapshot has unknown button bits {buttons & ~ALL_BUTTONS:#x}")
    state = PadState(buttons=buttons, lx=lx, ly=ly, rx=rx, ry=ry, lt=lt, rt=rt)
    return PadSnapshot(pad=_pad(pad), seq=seq, state=state)


def _parse_motion(data: bytes) -> MouseMotion:
    _, dx, dy = _fixed(_MOUSE, data, "mouse motion")
    return MouseMotion(dx=dx, dy=dy)


def _parse_scroll(data: bytes) -> MouseScroll:
    _, vertical, horizontal = _fixed(_MOUSE, data, "mouse scroll")
    return MouseScroll(vertical=vertical, horizontal=horizontal)


_PARSERS = {
    AUDIO: _parse_audio,
    RUMBLE: _parse_rumble,
    PAD_BUTTON: _parse_button,
    PAD_AXIS: _parse_axis,
    PAD_SNAPSHOT: _parse_snapshot,
    MOUSE_MOTION: _parse_motion,
    MOUSE_SCROLL: _parse_scroll,
}


def parse_datagram(data: bytes) -> Datagram | None:
    """Decode one side-plane datagram; None if its type byte is unknown."""
    if not data:
        raise ProtocolError("empty datagram")
    parser = _PARSERS.get(data[0])
    return parser(data) if parser else None
