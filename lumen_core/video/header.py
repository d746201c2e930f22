"""The video-plane datagram header.

Every video datagram is this 32-byte plaintext header followed by one AES-128-GCM
sealed FEC shard (shard bytes + 16-byte tag). The header is the AEAD associated data,
so any change to it fails authentication::

     0       1       2       3       4                              11
    +-------+-------+-------+-------+-------------------------------+
    |version| flags |   k   |   m   |   packet seq (u64, = nonce)   |
    +-------+-------+-------+-------+-------------------------------+
    12              16              20      21      22      23      24
    +---------------+---------------+-------+-------+-------+-------+
    | frame index   | frame size    | block |blocks | shard | rsvd  |
    +---------------+---------------+-------+-------+-------+-------+
    24                              32
    +-------------------------------+
    | capture pts ns (u64)          |
    +-------------------------------+

version 1; flags bit 0 = keyframe, other bits 0. k data + m parity shards in this
block (1 <= k, k + m <= 255); shard index < k + m; block index < blocks.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

from ..errors import ProtocolError

VERSION: Final = 1
FLAG_KEYFRAME: Final = 0x01
HEADER = struct.Struct("!BBBBQIIBBBBQ")
HEADER_SIZE: Final = HEADER.size  # 32
TAG_SIZE: Final = 16
# A frame larger than this is refused by the receiver: it bounds what one frame can
# make the client buffer (16 MiB is a 4K keyframe at very high quality, several times over).
MAX_FRAME_SIZE: Final = 16 * 1024 * 1024


class ShardHeader(NamedTuple):
    """A parsed header (a tuple: the receiver makes one per datagram, so it is cheap)."""

    version: int
    flags: int
    k: int
    m: int
    seq: int
    frame_index: int
    frame_size: int
    block_index: int
    block_count: int
    shard_index: int
    reserved: int
    pts_ns: int

    @property
    def keyframe(self) -> bool:
        return bool(self.flags & FLAG_KEYFRAME)


def parse_header(data: bytes | bytearray | memoryview) -> ShardHeader:
    """The header of a video datagram; ProtocolError if it cannot be one of ours."""
    if len(data) < HEADER_SIZE + TAG_SIZE + 1:
        raise ProtocolError(f"video datagram of {len(data)} bytes is too short")
    hdr = ShardHeader._make(HEADER.unpack_from(data))
    if hdr.version != VERSION:
        raise ProtocolError(f"video datagram version {hdr.version}")
    if hdr.flags & ~FLAG_KEYFRAME or hdr.reserved:
        raise ProtocolError("video datagram has reserved bits set")
    if hdr.k == 0 or hdr.k + hdr.m > 255 or hdr.shard_index >= hdr.k + hdr.m:
        raise ProtocolError(f"video datagram shard {hdr.shard_index} of k={hdr.k} m={hdr.m}")
    if hdr.block_count == 0 or hdr.block_index >= hdr.block_count:
        raise ProtocolError(f"video datagram block {hdr.block_index} of {hdr.block_count}")
    if not 0 < hdr.frame_size <= MAX_FRAME_SIZE:
        raise ProtocolError(f"video frame of {hdr.frame_size} bytes")
    return hdr


def block_span(frame_size: int, block_count: int, block_index: int) -> tuple[int, int]:
    """Byte offset and length of a block within its frame.

    Every block but the last carries ceil(frame_size / block_count) bytes; the last
    carries the rest. Host and client both compute it from the header alone.
    """
    per_block = -(-frame_size // block_count)
    start = per_block * block_index
    return start, max(0, min(per_block, frame_size - start))
