"""Control-stream messages: the reliable, ordered half of lumen/1.

Framing (all integers big-endian)::

    +----------------+---------+------------+--------------------------+
    | u32 length     | u8 type | u8 version | fields ...               |
    +----------------+---------+------------+--------------------------+
                     |<------------- length bytes ------------------->|

    field: +--------+------------+-----------------+
           | u8 tag | u16 length | value (length B) |
           +--------+------------+-----------------+

Rules (the theory of operation):
- A message is at most MAX_MESSAGE_SIZE bytes after the length prefix; a longer
  length prefix is a protocol error before any of the body is buffered.
- Fields may come in any order. Unknown tags are skipped (that is how later versions
  add fields). A known tag with a value of the wrong length, a value out of range,
  a repeated scalar tag, or a missing required field is a protocol error.
- Unknown message types decode to ``UnknownMessage`` so a newer peer's additions
  are ignored by the session instead of ending it. Version 0 is invalid.
- Scalar kinds: u8/u16/u32/u64 (exact width), bool (one byte, 0 or 1), str (UTF-8,
  at most the field's limit), bytes (exact or bounded length). A "list" field is its
  tag repeated, once per element.

Each message class lists its fields as data in ``FIELDS``; encode and decode are
generic over that table.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any, ClassVar, Final

from .errors import ProtocolError

MESSAGE_VERSION: Final = 1
# Larger than any message lumen/1 defines (the biggest is a few hundred bytes), small
# enough that a hostile length prefix cannot make the peer buffer much.
MAX_MESSAGE_SIZE: Final = 16 * 1024

_LEN = struct.Struct("!I")
_HEAD = struct.Struct("!BB")
_FIELD = struct.Struct("!BH")

_INT_WIDTH = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}


@dataclass(frozen=True, slots=True)
class Field:
    tag: int
    name: str
    kind: str  # u8 u16 u32 u64 bool str bytes
    required: bool = True
    check: Callable[[Any], bool] | None = None
    limit: int = 255  # str/bytes: maximum length in bytes
    exact: int | None = None  # bytes: exact length
    many: bool = False  # a list: tag repeated once per element


class GoodbyeCode:
    NORMAL: Final = 0
    PROTOCOL_ERROR: Final = 1
    UNSUPPORTED_VERSION: Final = 2
    NO_COMMON_CODEC: Final = 3
    HOST_BUSY: Final = 4
    INTERNAL_ERROR: Final = 5
    TIMEOUT: Final = 6


def _between(lo: int, hi: int) -> Callable[[int], bool]:
    return lambda v: lo <= v <= hi


def _token(v: str) -> bool:
    return 0 < len(v) <= 16 and all(c.isascii() and (c.islower() or c.isdigit()) for c in v)


class Message:
    TYPE: ClassVar[int]
    FIELDS: ClassVar[tuple[Field, ...]]

    def encode(self) -> bytes:
        return encode_message(self)


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello(Message):
    """Client -> host, first message. ``codecs``: what the client can decode, preferred
    first. ``bitrate_kbps``: the most video bitrate the client wants (the host may send less)."""

    TYPE: ClassVar[int] = 1
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "protocol_version", "u16", check=_between(1, 0xFFFF)),
        Field(2, "client_name", "str", limit=64),
        Field(3, "codecs", "str", many=True, check=_token),
        Field(4, "max_width", "u16", check=_between(16, 16384)),
        Field(5, "max_height", "u16", check=_between(16, 16384)),
        Field(6, "max_fps", "u16", check=_between(1, 1000)),
        Field(7, "audio_channels", "u8", check=_between(1, 8)),
        Field(8, "bitrate_kbps", "u32", required=False, check=_between(100, 10_000_000)),
    )
    protocol_version: int
    client_name: str
    codecs: tuple[str, ...]
    max_width: int
    max_height: int
    max_fps: int
    audio_channels: int
    bitrate_kbps: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Config(Message):
    """Host -> client, answer to Hello: what the host will send and where the video goes."""

    TYPE: ClassVar[int] = 2
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "codec", "str", check=_token),
        Field(2, "width", "u16", check=_between(16, 16384)),
        Field(3, "height", "u16", check=_between(16, 16384)),
        Field(4, "fps", "u16", check=_between(1, 1000)),
        Field(5, "bitrate_kbps", "u32", check=_between(1, 10_000_000)),
        Field(6, "fec_parity_percent", "u8", check=_between(0, 200)),
        Field(7, "audio_codec", "str", check=_token),
        Field(8, "audio_sample_rate", "u32", check=_between(8000, 192000)),
        Field(9, "audio_channels", "u8", check=_between(1, 8)),
        Field(10, "audio_frame_samples", "u16", check=_between(1, 5760)),
        Field(11, "video_port", "u16", check=_between(1, 65535)),
        Field(12, "video_key", "bytes", exact=16),
        Field(13, "max_datagram", "u16", check=_between(256, 65507)),
        Field(14, "host_name", "str", limit=64),
    )
    codec: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    fec_parity_percent: int
    audio_codec: str
    audio_sample_rate: int
    audio_channels: int
    audio_frame_samples: int
    video_port: int
    video_key: bytes
    max_datagram: int
    host_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyframeRequest(Message):
    """Client -> host: the next frame should be an IDR. ``last_frame``: newest frame decoded."""

    TYPE: ClassVar[int] = 3
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "last_frame", "u32", required=False),)
    last_frame: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReport(Message):
    """Client -> host, about once a second: cumulative counters since the session began."""

    TYPE: ClassVar[int] = 4
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "frames_received", "u64"),
        Field(2, "frames_recovered", "u64"),
        Field(3, "frames_lost", "u64"),
        Field(4, "frames_decoded", "u64"),
        Field(5, "decode_time_us", "u32"),
        Field(6, "keyframe_requests", "u64", required=False),
        Field(7, "audio_packets", "u64", required=False),
    )
    frames_received: int
    frames_recovered: int
    frames_lost: int
    frames_decoded: int
    decode_time_us: int
    keyframe_requests: int | None = None
    audio_packets: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Message):
    """Either way. ``sent_ns``: sender's monotonic clock."""

    TYPE: ClassVar[int] = 5
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "token", "u32"), Field(2, "sent_ns", "u64"))
    token: int
    sent_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Message):
    """Answer to Ping: echoes it and adds the answering side's clock when it answered."""

    TYPE: ClassVar[int] = 6
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "token", "u32"),
        Field(2, "ping_sent_ns", "u64"),
        Field(3, "peer_time_ns", "u64"),
    )
    token: int
    ping_sent_ns: int
    peer_time_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyEvent(Message):
    """Client -> host. ``keycode``: Linux input event code (KEY_*); ``modifiers``: bit 0
    shift, 1 ctrl, 2 alt, 3 meta."""

    TYPE: ClassVar[int] = 7
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "keycode", "u16", check=_between(1, 0x2FF)),
        Field(2, "down", "bool"),
        Field(3, "modifiers", "u8", required=False, check=_between(0, 15)),
    )
    keycode: int
    down: bool
    modifiers: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class MouseButtonEvent(Message):
    """Client -> host. ``button``: 1 left, 2 middle, 3 right, 4 back (X1), 5 forward (X2)."""

    TYPE: ClassVar[int] = 8
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "button", "u8", check=_between(1, 5)),
        Field(2, "down", "bool"),
    )
    button: int
    down: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Goodbye(Message):
    """Either way, last message. ``code``: a GoodbyeCode; ``reason``: for a person."""

    TYPE: ClassVar[int] = 9
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "code", "u16"),
        Field(2, "reason", "str", limit=512, required=False),
    )
    code: int
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PadArrival(Message):
    """Client -> host: a pad was attached. Reliable, because losing it leaves state wrong.

    ``kind``: 0 unknown, 1 Xbox, 2 PlayStation, 3 Nintendo. ``buttons``: flags the pad
    has. ``capabilities``: bit 0 rumble, 1 trigger rumble, 2 touchpad, 3 motion, 4 RGB LED.
    """

    TYPE: ClassVar[int] = 10
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "pad", "u8", check=_between(0, 15)),
        Field(2, "kind", "u8", check=_between(0, 3)),
        Field(3, "buttons", "u32"),
        Field(4, "capabilities", "u16"),
        Field(5, "name", "str", limit=128, required=False),
    )
    pad: int
    kind: int
    buttons: int
    capabilities: int
    name: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class PadRemoval(Message):
    """Client -> host: a pad was detached; the host releases everything it held."""

    TYPE: ClassVar[int] = 11
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "pad", "u8", check=_between(0, 15)),)
    pad: int


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage:
    """A message type this version does not know; sessions ignore it."""

    type: int
    version: int


MESSAGE_TYPES: Final[dict[int, type[Message]]] = {
    cls.TYPE: cls
    for cls in (
        Hello, Config, KeyframeRequest, StatsReport, Ping, Pong,
        KeyEvent, MouseButtonEvent, Goodbye, PadArrival, PadRemoval,
    )
}

for _cls in MESSAGE_TYPES.values():
    assert [f.name for f in _cls.FIELDS] == [f.name for f in fields(_cls)], _cls


def _encode_value(f: Field, value: Any) -> bytes:
    if f.kind in _INT_WIDTH:
        return int(value).to_bytes(_INT_WIDTH[f.kind], "big")
    if f.kind == "bool":
        return b"\x01" if value else b"\x00"
    if f.kind == "str":
        return value.encode("utf-8")
    return bytes(value)


def _valid(f: Field, value: Any) -> bool:
    if f.kind == "str" and len(value.encode("utf-8")) > f.limit:
        return False
    if f.kind == "bytes" and (len(value) != f.exact if f.exact is not None else len(value) > f.limit):
        return False
    return f.check is None or bool(f.check(value))


def encode_message(msg: Message) -> bytes:
    """The framed bytes of ``msg``. ValueError if a field breaks its own rules (our bug)."""
    parts = [_HEAD.pack(msg.TYPE, MESSAGE_VERSION)]
    for f in msg.FIELDS:
        value = getattr(msg, f.name)
        if value is None:
            if f.required:
                raise ValueError(f"{type(msg).__name__}.{f.name} is required")
            continue
        for item in value if f.many else (value,):
            if not _valid(f, item):
                raise ValueError(f"{type(msg).__name__}.{f.name}={item!r} is out of range")
            raw = _encode_value(f, item)
            parts.append(_FIELD.pack(f.tag, len(raw)) + raw)
    body = b"".join(parts)
    if len(body) > MAX_MESSAGE_SIZE:
        raise ValueError(f"{type(msg).__name__} of {len(body)} bytes exceeds {MAX_MESSAGE_SIZE}")
    return _LEN.pack(len(body)) + body


def _decode_value(f: Field, raw: bytes, where: str) -> Any:
    if f.kind in _INT_WIDTH:
        if len(raw) != _INT_WIDTH[f.kind]:
            raise ProtocolError(f"{where}: {len(raw)} bytes for a {f.kind}")
        value: Any = int.from_bytes(raw, "big")
    elif f.kind == "bool":
        if raw not in (b"\x00", b"\x01"):
            raise ProtocolError(f"{where}: boolean must be one byte 0 or 1")
        value = raw == b"\x01"
    elif f.kind == "str":
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{where}: not UTF-8") from None
    else:
        value = bytes(raw)
    if not _valid(f, value):
        raise ProtocolError(f"{where}: value out of range")
    return value


def decode_body(body: bytes) -> Message | UnknownMessage:
    """Decode one message body (the bytes after the length prefix)."""
    if len(body) < _HEAD.size:
        raise ProtocolError(f"control message of {len(body)} bytes has no type and version")
    msg_type, version = _HEAD.unpack_from(body)
    if version == 0:
        raise ProtocolError("control message version 0")
    cls = MESSAGE_TYPES.get(msg_type)
    if cls is None:
        return UnknownMessage(type=msg_type, version=version)
    by_tag = {f.tag: f for f in cls.FIELDS}
    values: dict[str, Any] = {}
    pos = _HEAD.size
    while pos < len(body):
        if len(body) - pos < _FIELD.size:
            raise ProtocolError(f"{cls.__name__}: truncated field header")
        tag, length = _FIELD.unpack_from(body, pos)
        pos += _FIELD.size
        if length > len(body) - pos:
            raise ProtocolError(f"{cls.__name__}: field {tag} runs past the message")
        raw = body[pos : pos + length]
        pos += length
        f = by_tag.get(tag)
        if f is None:
            continue
        value = _decode_value(f, raw, f"{cls.__name__}.{f.name}")
        if f.many:
            values.setdefault(f.name, []).append(value)
        elif f.name in values:
            raise ProtocolError(f"{cls.__name__}.{f.name} appears twice")
        else:
            values[f.name] = value
    for f in cls.FIELDS:
        if f.many:
            if f.required and not values.get(f.name):
                raise ProtocolError(f"{cls.__name__}.{f.name} is missing")
            values[f.name] = tuple(values.get(f.name, ()))
        elif f.name not in values and f.required:
            raise ProtocolError(f"{cls.__name__}.{f.name} is missing")
    return cls(**values)


class ControlDecoder:
    """Turns control-stream bytes, fed in any chunking, into messages.

    Buffers at most one incomplete message (bounded by MAX_MESSAGE_SIZE). After a
    ProtocolError the stream is unusable: the session ends with that error.
    """

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> Iterator[Message | UnknownMessage]:
        self._buf += data
        while len(self._buf) >= _LEN.size:
            (length,) = _LEN.unpack_from(self._buf)
            if length > MAX_MESSAGE_SIZE:
                raise ProtocolError(f"control message of {length} bytes exceeds {MAX_MESSAGE_SIZE}")
            if len(self._buf) < _LEN.size + length:
                return
            body = bytes(self._buf[_LEN.size : _LEN.size + length])
            del self._buf[: _LEN.size + length]
            yield decode_body(body)

    @property
    def pending(self) -> int:
        """Bytes of an incomplete message held (non-zero at end of stream = truncated)."""
        return len(self._buf)
