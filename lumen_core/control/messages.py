"""lumen's extended control messages: after Start, on the same control stream, only
in extended mode (an M3 peer never sees one); and, between a version 2 Hello and its
Welcome, the authentication and pairing messages (types 10-13) and a refusal's Goodbye.

Each is one frame (framing.py) whose payload is::

    +--------+---------+----------------------------------------+
    | "LMNE" | u8 type | tagged fields (fields.py)              |
    +--------+---------+----------------------------------------+

A payload shorter than 5 bytes or with another magic is a protocol error; an unknown
type decodes to ``UnknownMessage`` (a newer peer's addition, ignored, never fatal).

Goodbye codes (``GoodbyeCode``) are also the application error codes of the QUIC
CONNECTION_CLOSE that follows a Goodbye.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, is_dataclass
from typing import ClassVar, Final

from ..errors import ProtocolError
from .fields import Field, Fields, between, decode_fields, encode_fields
from .framing import frame

MESSAGE_MAGIC: Final = b"LMNE"
_HEAD_SIZE: Final = len(MESSAGE_MAGIC) + 1


class GoodbyeCode:
    NORMAL: Final = 0
    PROTOCOL_ERROR: Final = 1
    UNSUPPORTED_VERSION: Final = 2
    NO_COMMON_CODEC: Final = 3
    HOST_BUSY: Final = 4
    INTERNAL_ERROR: Final = 5
    TIMEOUT: Final = 6
    NOT_PAIRED: Final = 7  # a host that requires pairing does not know this client
    PAIRING_FAILED: Final = 8  # wrong PIN, no PIN active, or the exchange did not verify
    PAIRING_LIMITED: Final = 9  # too many pairing attempts: Goodbye.retry_after_ms says when


GOODBYE_NAMES: Final = {
    GoodbyeCode.NORMAL: "normal", GoodbyeCode.PROTOCOL_ERROR: "protocol error",
    GoodbyeCode.UNSUPPORTED_VERSION: "unsupported version", GoodbyeCode.NO_COMMON_CODEC: "no common codec",
    GoodbyeCode.HOST_BUSY: "host busy", GoodbyeCode.INTERNAL_ERROR: "internal error",
    GoodbyeCode.TIMEOUT: "timeout", GoodbyeCode.NOT_PAIRED: "not paired",
    GoodbyeCode.PAIRING_FAILED: "pairing failed", GoodbyeCode.PAIRING_LIMITED: "too many pairing attempts",
}


class Message(Fields):
    TYPE: ClassVar[int]

    def encode(self) -> bytes:
        """The framed bytes of this message, ready for the control stream."""
        return frame(MESSAGE_MAGIC + bytes([self.TYPE]) + encode_fields(self))


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyframeRequest(Message):
    """Client -> host: the next frame should be an IDR. ``last_frame``: the newest
    frame_index the client decoded, if any."""

    TYPE: ClassVar[int] = 1
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "last_frame", "u32", required=False),)
    last_frame: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReport(Message):
    """Client -> host, about once a second: counters since the session began."""

    TYPE: ClassVar[int] = 2
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "frames_received", "u64"),
        Field(2, "frames_recovered", "u64"),
        Field(3, "frames_lost", "u64"),
        Field(4, "frames_decoded", "u64"),
        Field(5, "decode_time_us", "u32"),
        Field(6, "keyframe_requests", "u64", required=False),
        Field(7, "audio_packets", "u64", required=False),
        Field(8, "video_packets_expected", "u64", required=False),
        Field(9, "video_packets_received", "u64", required=False),
        Field(10, "queue_delay_us", "u32", required=False),
    )
    frames_received: int
    frames_recovered: int
    frames_lost: int
    frames_decoded: int
    decode_time_us: int
    keyframe_requests: int | None = None
    audio_packets: int | None = None
    # Since the session began: video packets the stream_seq span says were sent, and the
    # ones that came (the host's rate control reads the loss between two reports).
    video_packets_expected: int | None = None
    video_packets_received: int | None = None
    # How much longer than the path's least the last interval's frames took (a queue building).
    queue_delay_us: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Ping(Message):
    """Either way. ``sent_ns``: the sender's clock (any clock; only the sender reads it)."""

    TYPE: ClassVar[int] = 3
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "token", "u32"), Field(2, "sent_ns", "u64"))
    token: int
    sent_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Pong(Message):
    """Answer to Ping: echoes it and adds the answerer's wall clock (UNIX-epoch ns) when it
    answered, the clock of the video and audio pts."""

    TYPE: ClassVar[int] = 4
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "token", "u32"),
        Field(2, "ping_sent_ns", "u64"),
        Field(3, "peer_time_ns", "u64"),
    )
    token: int
    ping_sent_ns: int
    peer_time_ns: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Goodbye(Message):
    """Either way, the last message. ``code``: a GoodbyeCode; ``reason``: for a person;
    ``retry_after_ms``: when asking again can succeed (PAIRING_LIMITED)."""

    TYPE: ClassVar[int] = 5
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "code", "u16"),
        Field(2, "reason", "str", limit=256, required=False),
        Field(3, "retry_after_ms", "u32", required=False),
    )
    code: int
    reason: str = ""
    retry_after_ms: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReliableInput(Message):
    """Client -> host: one 18-byte input event (the 0xC8 datagram's bytes, datagrams.py)
    whose loss would leave state wrong: a key or a mouse button."""

    TYPE: ClassVar[int] = 6
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "event", "bytes", exact=18),)
    event: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PadArrival(Message):
    """Client -> host: a pad was attached.

    ``kind``: 0 unknown, 1 Xbox, 2 PlayStation, 3 Nintendo. ``buttons``: flags the pad
    has. ``capabilities``: bit 0 rumble, 1 trigger rumble, 2 touchpad, 3 motion, 4 RGB LED.
    """

    TYPE: ClassVar[int] = 7
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "pad", "u8", check=between(0, 15)),
        Field(2, "kind", "u8", check=between(0, 3)),
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

    TYPE: ClassVar[int] = 8
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "pad", "u8", check=between(0, 15)),)
    pad: int


@dataclass(frozen=True, slots=True, kw_only=True)
class RateUpdate(Message):
    """Host -> client: the host's rate control set the encoder's bitrate and the FEC
    percent it sends from now on (for the client's overlay and stats)."""

    TYPE: ClassVar[int] = 9
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "bitrate_kbps", "u32"),
        Field(2, "fec_percent", "u16", check=between(0, 1000)),
        Field(3, "reason", "str", limit=64, required=False),
    )
    bitrate_kbps: int
    fec_percent: int
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthChallenge(Message):
    """Host -> client, instead of the Welcome (extension version 2, a Hello with a
    client key): prove the key. ``nonce``: fresh random bytes of this connection."""

    TYPE: ClassVar[int] = 10
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "nonce", "bytes", exact=32),)
    nonce: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthProof(Message):
    """Client -> host: the Ed25519 signature of the challenge, bound to the host's
    fingerprint and the client's key (docs/protocol.md, "Client authentication")."""

    TYPE: ClassVar[int] = 11
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "signature", "bytes", exact=64),)
    signature: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PairReply(Message):
    """Host -> client, answering a pairing Hello: SPAKE2's second message and the
    host's key confirmation."""

    TYPE: ClassVar[int] = 12
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "spake", "bytes", exact=33),
        Field(2, "confirm", "bytes", exact=32),
    )
    spake: bytes
    confirm: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class PairConfirm(Message):
    """Client -> host: the client's key confirmation; the host authorizes the client
    once it verifies, and says so with Goodbye(NORMAL, "paired")."""

    TYPE: ClassVar[int] = 13
    FIELDS: ClassVar[tuple[Field, ...]] = (Field(1, "confirm", "bytes", exact=32),)
    confirm: bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class UnknownMessage:
    """A message type this version does not know; sessions ignore it."""

    type: int


MESSAGE_TYPES: Final[dict[int, type[Message]]] = {
    cls.TYPE: cls
    for cls in (KeyframeRequest, StatsReport, Ping, Pong, Goodbye, ReliableInput, PadArrival, PadRemoval,
                RateUpdate, AuthChallenge, AuthProof, PairReply, PairConfirm)
}

for _cls in MESSAGE_TYPES.values():
    assert is_dataclass(_cls) and [f.name for f in _cls.FIELDS] == [f.name for f in fields(_cls)], _cls


def decode_message(payload: bytes) -> Message | UnknownMessage:
    """One extended message from a frame's payload; ProtocolError if it is not one."""
    if len(payload) < _HEAD_SIZE or payload[: len(MESSAGE_MAGIC)] != MESSAGE_MAGIC:
        raise ProtocolError(f"extended control message of {len(payload)} bytes without the LMNE magic")
    cls = MESSAGE_TYPES.get(payload[len(MESSAGE_MAGIC)])
    if cls is None:
        return UnknownMessage(type=payload[len(MESSAGE_MAGIC)])
    return decode_fields(cls, payload[_HEAD_SIZE:])
