"""The QUIC DATAGRAM side planes, demultiplexed by their first byte; little-endian.

M3's three (LUMEN-M3-WIRE.md §8), both modes::

    0xC8 input     client->host  [C8][u8 kind][u32 code][i32 x][i32 y][u32 flags]        18 B
    0xC9 audio     host->client  [C9][u32 seq][u64 pts_ns][Opus packet]               13 B + Opus
    0xCA rumble    host->client  [CA][u16 pad][u16 low][u16 high]                        7 B

lumen's extended mode adds (never sent to an M3 peer)::

    0xCB pad button   client->host  [CB][u8 pad][u32 seq][u32 flag][u8 down]            11 B
    0xCC pad axis     client->host  [CC][u8 pad][u32 seq][u8 axis][i16 value]             9 B
    0xCD pad snapshot client->host  [CD][u8 pad][u32 seq][u32 buttons]
                                    [i16 lx][i16 ly][i16 rx][i16 ry][u8 lt][u8 rt]       20 B
    0xCE frame timing host->client  [CE][u32 frame_index][u32 host_us]                    9 B

Decoding, as M3 does it: a datagram shorter than its layout, or an input event of an
unknown kind, is malformed (ProtocolError); trailing bytes are ignored. An unknown
first byte gives None: the caller counts and drops it, never fatal. Which types a
side accepts in which mode is the session's business.

Audio pts is the host's wall clock (UNIX-epoch ns), the clock of the video pts. Opus:
48 kHz stereo, 5 ms (240 samples) per datagram.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from .errors import ProtocolError
from .gamepad import ALL_BUTTONS, AXIS_NAMES, MAX_PADS, PadState, check_axis_value
from .input import MAX_KIND

INPUT: Final = 0xC8
AUDIO: Final = 0xC9
RUMBLE: Final = 0xCA
PAD_BUTTON: Final = 0xCB
PAD_AXIS: Final = 0xCC
PAD_SNAPSHOT: Final = 0xCD
FRAME_TIMING: Final = 0xCE

_INPUT = struct.Struct("<BBIiiI")
_AUDIO = struct.Struct("<BIQ")
_RUMBLE = struct.Struct("<BHHH")
_BUTTON = struct.Struct("<BBIIB")
_AXIS = struct.Struct("<BBIBh")
_SNAPSHOT = struct.Struct("<BBIIhhhhBB")
_TIMING = struct.Struct("<BII")
INPUT_SIZE: Final = _INPUT.size
AUDIO_HEADER_SIZE: Final = _AUDIO.size


@dataclass(frozen=True, slots=True, kw_only=True)
class InputEvent:
    kind: int
    code: int = 0
    x: int = 0
    y: int = 0
    flags: int = 0

    def encode(self) -> bytes:
        return _INPUT.pack(INPUT, self.kind, self.code & 0xFFFFFFFF, self.x, self.y, self.flags & 0xFFFFFFFF)


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioPacket:
    seq: int
    pts_ns: int
    payload: bytes

    def encode(self) -> bytes:
        return _AUDIO.pack(AUDIO, self.seq & 0xFFFFFFFF, self.pts_ns) + self.payload


@dataclass(frozen=True, slots=True, kw_only=True)
class Rumble:
    """Motor levels 0..65535: ``low`` the strong (big) motor, ``high`` the weak one; (0, 0)
    stops. State, not an event: the host re-sends it every 500 ms."""

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
        return _SNAPSHOT.pack(PAD_SNAPSHOT, self.pad, self.seq, s.buttons, s.lx, s.ly, s.rx, s.ry, s.lt, s.rt)


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameTiming:
    """How long frame ``frame_index`` spent on the host, capture to the video plane (us)."""

    frame_index: int
    host_us: int

    def encode(self) -> bytes:
        return _TIMING.pack(FRAME_TIMING, self.frame_index & 0xFFFFFFFF, max(0, min(self.host_us, 0xFFFFFFFF)))


Datagram = InputEvent | AudioPacket | Rumble | PadButton | PadAxis | PadSnapshot | FrameTiming
EXTENDED_TYPES: Final = frozenset({PAD_BUTTON, PAD_AXIS, PAD_SNAPSHOT, FRAME_TIMING})


def _fields(layout: struct.Struct, data: bytes, what: str) -> tuple[int, ...]:
    if len(data) < layout.size:
        raise ProtocolError(f"{what} datagram of {len(data)} bytes, needs {layout.size}")
    return layout.unpack_from(data)


def _pad(pad: int) -> int:
    if pad >= MAX_PADS:
        raise ProtocolError(f"pad index {pad} out of range 0..{MAX_PADS - 1}")
    return pad


def _parse_input(data: bytes) -> InputEvent:
    _, kind, code, x, y, flags = _fields(_INPUT, data, "input")
    if kind > MAX_KIND:
        raise ProtocolError(f"input event of unknown kind {kind}")
    return InputEvent(kind=kind, code=code, x=x, y=y, flags=flags)


def _parse_audio(data: bytes) -> AudioPacket:
    _, seq, pts_ns = _fields(_AUDIO, data, "audio")
    return AudioPacket(seq=seq, pts_ns=pts_ns, payload=bytes(data[_AUDIO.size :]))


def _parse_rumble(data: bytes) -> Rumble:
    _, pad, low, high = _fields(_RUMBLE, data, "rumble")
    return Rumble(pad=pad, low=low, high=high)


def _parse_button(data: bytes) -> PadButton:
    _, pad, seq, flag, down = _fields(_BUTTON, data, "pad button")
    if flag == 0 or flag & (flag - 1) or flag & ~ALL_BUTTONS:
        raise ProtocolError(f"pad button flag {flag:#x} is not one contract button")
    if down > 1:
        raise ProtocolError(f"button state {down} is neither 0 nor 1")
    return PadButton(pad=_pad(pad), seq=seq, flag=flag, down=bool(down))


def _parse_axis(data: bytes) -> PadAxis:
    _, pad, seq, axis, value = _fields(_AXIS, data, "pad axis")
    if axis >= len(AXIS_NAMES) or not check_axis_value(axis, value):
        raise ProtocolError(f"pad axis {axis} with value {value}")
    return PadAxis(pad=_pad(pad), seq=seq, axis=axis, value=value)


def _parse_snapshot(data: bytes) -> PadSnapshot:
    _, pad, seq, buttons, lx, ly, rx, ry, lt, rt = _fields(_SNAPSHOT, data, "pad snapshot")
    if buttons & ~ALL_BUTTONS:
        raise ProtocolError(f"pad snapshot has unknown button bits {buttons & ~ALL_BUTTONS:#x}")
    state = PadState(buttons=buttons, lx=lx, ly=ly, rx=rx, ry=ry, lt=lt, rt=rt)
    return PadSnapshot(pad=_pad(pad), seq=seq, state=state)


def _parse_timing(data: bytes) -> FrameTiming:
    _, index, host_us = _fields(_TIMING, data, "frame timing")
    return FrameTiming(frame_index=index, host_us=host_us)


_PARSERS: Final[dict[int, Callable[[bytes], Datagram]]] = {
    INPUT: _parse_input, AUDIO: _parse_audio, RUMBLE: _parse_rumble, PAD_BUTTON: _parse_button,
    PAD_AXIS: _parse_axis, PAD_SNAPSHOT: _parse_snapshot, FRAME_TIMING: _parse_timing,
}


def parse_datagram(data: bytes) -> Datagram | None:
    """One side-plane datagram; None if its type byte is unknown; ProtocolError if malformed."""
    if not data:
        raise ProtocolError("empty datagram")
    parser = _PARSERS.get(data[0])
    return parser(data) if parser else None
