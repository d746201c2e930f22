"""M3's three control messages: Hello, Welcome, Start (LUMEN-M3-WIRE.md §3), little-endian.

::

    Hello (client -> host), 20 bytes
    +--------+-------------+---------+---------+------------+
    | "LMN1" | abi_version | width   | height  | refresh_hz |   all u32
    +--------+-------------+---------+---------+------------+

    Welcome (host -> client), 53 bytes
    +--------+-----+----------+-------+--------+--------+--------+-----+------+------+-----+---------+------+--------+
    | "LMN1" | abi | udp_port | width | height | hz     | scheme | pct | mdpb | shard| enc | key     | salt | frames |
    |        | u32 | u16      | u32   | u32    | u32    | u8     | u8  | u16  | u16  | u8  | 16 B    | 4 B  | u32    |
    +--------+-----+----------+-------+--------+--------+--------+-----+------+------+-----+---------+------+--------+

    Start (client -> host), 6 bytes
    +--------+-----------------+
    | "LMN1" | client_udp_port |   u16
    +--------+-----------------+

Decoding refuses a short payload or a wrong magic and ignores trailing bytes, exactly
as M3 does: lumen's extension blocks ride in those trailing bytes (extensions.py).
``scheme`` decodes as GF(2^16) for 1 and GF(2^8) for every other value; any non-zero
``enc`` means encrypted. What the *session* accepts (ABI 1, an even mode within
8192, a valid video config) is checked by the session, not here.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Final

from ..errors import ProtocolError
from ..fec.engine import GF8, GF16
from ..video.config import VideoConfig

MAGIC: Final = b"LMN1"
# lumen's hosts listen for QUIC on this UDP port.
DEFAULT_PORT: Final = 9777
ABI_VERSION: Final = 1
# M3's host refuses odd modes and modes beyond HEVC's 8192.
MAX_DIMENSION: Final = 8192

_HELLO = struct.Struct("<4sIIII")
_WELCOME = struct.Struct("<4sIHIIIBBHHB16s4sI")
_START = struct.Struct("<4sH")
HELLO_SIZE: Final = _HELLO.size  # 20
WELCOME_SIZE: Final = _WELCOME.size  # 53
START_SIZE: Final = _START.size  # 6


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    abi_version: int = ABI_VERSION
    width: int
    height: int
    refresh_hz: int

    def encode(self) -> bytes:
        return _HELLO.pack(MAGIC, self.abi_version, self.width, self.height, self.refresh_hz)

    def mode_error(self) -> str | None:
        """Why M3's host refuses this Hello, or None (§4.1 step 3)."""
        if self.abi_version != ABI_VERSION:
            return f"ABI version {self.abi_version}; this host speaks lumen/1 ABI {ABI_VERSION}"
        for name, value in (("width", self.width), ("height", self.height)):
            if value == 0 or value % 2 or value > MAX_DIMENSION:
                return f"{name} {value} must be even and 2..{MAX_DIMENSION}"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class Welcome:
    abi_version: int = ABI_VERSION
    udp_port: int
    width: int
    height: int
    refresh_hz: int
    fec_scheme: int  # GF8 or GF16
    fec_percent: int
    max_data_per_block: int
    shard_payload: int
    encrypt: bool
    key: bytes
    salt: bytes
    frames: int = 0  # a synthetic source's frame count; 0 = unbounded

    def encode(self) -> bytes:
        return _WELCOME.pack(
            MAGIC, self.abi_version, self.udp_port, self.width, self.height, self.refresh_hz,
            1 if self.fec_scheme == GF16 else 0, self.fec_percent, self.max_data_per_block, self.shard_payload,
            1 if self.encrypt else 0, self.key, self.salt, self.frames,
        )

    def video_config(self) -> VideoConfig:
        """The client's video-plane config (§3.3 ``session_config``), not yet validated."""
        return VideoConfig(
            scheme=self.fec_scheme, percent=self.fec_percent, max_data_per_block=self.max_data_per_block,
            shard_payload=self.shard_payload, encrypt=self.encrypt, key=self.key, salt=self.salt,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Start:
    client_udp_port: int

    def encode(self) -> bytes:
        return _START.pack(MAGIC, self.client_udp_port)


def _check(payload: bytes, size: int, what: str) -> None:
    if len(payload) < size or payload[:4] != MAGIC:
        raise ProtocolError(f"bad {what}: {len(payload)} bytes" + ("" if len(payload) < 4 or payload[:4] == MAGIC
                                                                   else f", magic {payload[:4].hex()}"))


def decode_hello(payload: bytes) -> tuple[Hello, bytes]:
    """The Hello and the trailing bytes after it; ProtocolError if it is not one."""
    _check(payload, HELLO_SIZE, "Hello")
    _, abi, width, height, hz = _HELLO.unpack_from(payload)
    return Hello(abi_version=abi, width=width, height=height, refresh_hz=hz), payload[HELLO_SIZE:]


def decode_welcome(payload: bytes) -> tuple[Welcome, bytes]:
    _check(payload, WELCOME_SIZE, "Welcome")
    (_, abi, port, width, height, hz, scheme, pct, mdpb, shard, enc, key, salt, frames) = _WELCOME.unpack_from(payload)
    welcome = Welcome(
        abi_version=abi, udp_port=port, width=width, height=height, refresh_hz=hz,
        fec_scheme=GF16 if scheme == 1 else GF8, fec_percent=pct, max_data_per_block=mdpb, shard_payload=shard,
        encrypt=enc != 0, key=key, salt=salt, frames=frames,
    )
    return welcome, payload[WELCOME_SIZE:]


def decode_start(payload: bytes) -> tuple[Start, bytes]:
    _check(payload, START_SIZE, "Start")
    _, port = _START.unpack_from(payload)
    return Start(client_udp_port=port), payload[START_SIZE:]
