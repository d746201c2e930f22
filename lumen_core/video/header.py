"""The video-plane datagram header.

Every video datagram is this 36-byte plaintext header followed by one AES-128-GCM
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
    24                              32              36
    +-------------------------------+---------------+
    | capture pts ns (u64)          | host us (u32) |
    +-------------------------------+---------------+

version 1; flags bit 0 = keyframe, other bits 0. k data + m parity shards in this
block (1 <= k, k + m <= 255); shard index < k + m; block index < blocks. host us: time
from capture to packetization on the host (encode and hand-off), so a client can tell
host processing from the network.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

import numpy as np

from ..errors import ProtocolError

VERSION: Final = 1
FLAG_KEYFRAME: Final = 0x01
HEADER = struct.Struct("!BBBBQIIBBBBQI")
HEADER_SIZE: Final = HEADER.size  # 36
# Where the two per-datagram fields sit: the packetizer writes one header template per
# block and then only these (see the diagram).
SEQ_OFFSET: Final = 4
SHARD_INDEX_OFFSET: Final = 22
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
    host_us: int

    @property
    def keyframe(self) -> bool:
        return bool(self.flags & FLAG_KEYFRAME)


def header_fields(data: bytes | bytearray | memoryview) -> tuple[int, ...]:
    """The header's fields in wire order (as ShardHeader names them), validated.

    ProtocolError if the datagram cannot be one of ours. A plain tuple: the receiver
    calls this once per datagram, tens of thousands of times a second.
    """
    if len(data) < HEADER_SIZE + TAG_SIZE + 1:
        raise ProtocolError(f"video datagram of {len(data)} bytes is too short")
    fields = HEADER.unpack_from(data)
    version, flags, k, m, _, _, frame_size, block_index, block_count, shard_index, reserved, _, _ = fields
    if version != VERSION:
        raise ProtocolError(f"video datagram version {version}")
    if flags & ~FLAG_KEYFRAME or reserved:
        raise ProtocolError("video datagram has reserved bits set")
    if k == 0 or k + m > 255 or shard_index >= k + m:
        raise ProtocolError(f"video datagram shard {shard_index} of k={k} m={m}")
    if block_index >= block_count:
        raise ProtocolError(f"video datagram block {block_index} of {block_count}")
    if not 0 < frame_size <= MAX_FRAME_SIZE:
        raise ProtocolError(f"video frame of {frame_size} bytes")
    return fields


def parse_header(data: bytes | bytearray | memoryview) -> ShardHeader:
    """The header of a video datagram; ProtocolError if it cannot be one of ours."""
    return ShardHeader._make(header_fields(data))


def block_span(frame_size: int, block_count: int, block_index: int) -> tuple[int, int]:
    """Byte offset and length of a block within its frame.

    Every block but the last carries ceil(frame_size / block_count) bytes; the last
    carries the rest. Host and client both compute it from the header alone.
    """
    per_block = -(-frame_size // block_count)
    start = per_block * block_index
    return start, max(0, min(per_block, frame_size - start))


def write_headers(rows: np.ndarray, template: bytes | bytearray | memoryview, first_seq: int, first_shard: int) -> None:
    """Write consecutive headers into the first HEADER_SIZE columns of ``rows`` (uint8,
    one row per datagram): ``template`` everywhere, then seq ``first_seq + i`` and shard
    index ``first_shard + i`` in row i. The datagrams of one block differ in nothing
    else, so the packetizer writes a block's headers this way, and the reassembler the
    headers it expects of a run of datagrams."""
    count = rows.shape[0]
    rows[:, :HEADER_SIZE] = np.frombuffer(template, dtype=np.uint8, count=HEADER_SIZE)
    seqs = np.arange(first_seq, first_seq + count, dtype=">u8")
    rows[:, SEQ_OFFSET : SEQ_OFFSET + 8] = seqs.view(np.uint8).reshape(count, 8)
    rows[:, SHARD_INDEX_OFFSET] = np.arange(first_shard, first_shard + count, dtype=np.uint8)
