"""lumen's extension blocks: announced after the 20-byte Hello and the 53-byte Welcome.

M3 decoders ignore trailing bytes, so a block there is invisible to an M3 peer::

    +--------+-------------+--------------------------------------------------+
    | "LMNX" | u8 version  | tagged fields (fields.py) to the end of the message |
    +--------+-------------+--------------------------------------------------+

Negotiation: a Hello without a block (an M3 client) gets M3's Welcome, and the session
is **base** mode; a Welcome without a block (an M3 host) makes the client run base
mode. When both carry one, the session is **extended**, at extension version
``min(hello's, welcome's)``; version 1 comprises everything docs/protocol.md lists under
"Extended mode", and version 2 adds client authentication and PIN pairing (the Hello's
client key and pairing message; protocol.md §5.5). Trailing bytes that do not start with the magic are not a block (M3
ignores them; so does lumen). A block with version 0 or malformed fields ends the
handshake with the field named; unknown tags are skipped.

Codecs are numbered (CODEC_IDS): the Hello lists what the client decodes, preferred
first, and the Welcome names the one the host sends. An M3 host sends HEVC and names
nothing: a client without a Welcome block finds the codec in the bitstream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Final, TypeVar

from ..errors import ProtocolError
from .fields import Field, Fields, between, decode_fields, encode_fields

BLOCK_MAGIC: Final = b"LMNX"
EXTENSION_VERSION: Final = 2

CODEC_H264: Final = 1
CODEC_HEVC: Final = 2
CODEC_AV1: Final = 3
CODEC_IDS: Final = {"h264": CODEC_H264, "hevc": CODEC_HEVC, "av1": CODEC_AV1}
CODEC_NAMES: Final = {v: k for k, v in CODEC_IDS.items()}


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloExtension(Fields):
    """What a lumen client adds to its Hello. ``codecs``: codec ids, preferred first;
    ``bitrate_kbps``: the most video bitrate it wants (the host may send less);
    ``client_key``: its Ed25519 public key (version 2), which the host then challenges;
    ``pair``: SPAKE2's first message, when this connection pairs instead of streaming."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "codecs", "bytes", limit=16, check=lambda v: len(v) >= 1),
        Field(2, "client_name", "str", required=False, limit=64),
        Field(3, "bitrate_kbps", "u32", required=False, check=between(100, 10_000_000)),
        Field(4, "audio_channels", "u8", required=False, check=between(1, 8)),
        Field(5, "client_key", "bytes", required=False, exact=32),
        Field(6, "pair", "bytes", required=False, exact=33),
    )
    codecs: bytes
    client_name: str | None = None
    bitrate_kbps: int | None = None
    audio_channels: int | None = None
    client_key: bytes | None = None
    pair: bytes | None = None

    @property
    def codec_names(self) -> tuple[str, ...]:
        """The offered codecs this version knows, in the client's order."""
        return tuple(CODEC_NAMES[c] for c in self.codecs if c in CODEC_NAMES)


@dataclass(frozen=True, slots=True, kw_only=True)
class WelcomeExtension(Fields):
    """What a lumen host adds to its Welcome: the codec it sends and the rest of its choices."""

    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "codec", "u8", check=between(1, 255)),
        Field(2, "host_name", "str", required=False, limit=64),
        Field(3, "bitrate_kbps", "u32", required=False, check=between(1, 10_000_000)),
        Field(4, "audio_channels", "u8", required=False, check=between(1, 8)),
    )
    codec: int
    host_name: str | None = None
    bitrate_kbps: int | None = None
    audio_channels: int | None = None


E = TypeVar("E", HelloExtension, WelcomeExtension)


def encode_block(ext: HelloExtension | WelcomeExtension, version: int = EXTENSION_VERSION) -> bytes:
    if not 1 <= version <= 255:
        raise ValueError(f"extension version {version}")
    return BLOCK_MAGIC + bytes([version]) + encode_fields(ext)


def decode_block(trailing: bytes, cls: type[E]) -> tuple[int, E] | None:
    """(version, fields) of the block in a message's trailing bytes, None if there is
    none; ProtocolError (naming the problem) if there is one and it is malformed."""
    if len(trailing) < len(BLOCK_MAGIC) + 1 or trailing[: len(BLOCK_MAGIC)] != BLOCK_MAGIC:
        return None
    version = trailing[len(BLOCK_MAGIC)]
    if version == 0:
        raise ProtocolError("extension block version 0")
    return version, decode_fields(cls, trailing[len(BLOCK_MAGIC) + 1 :])
