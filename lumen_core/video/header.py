"""The video plane's 40-byte packet header (LUMEN-M3-WIRE.md §5.3), little-endian.

Every packet is this header followed by exactly ``shard_bytes`` of shard payload; an
encrypted datagram seals the whole packet (crypto.py)::

     0                               8               12              16
    +-------------------------------+---------------+---------------+
    | pts_ns (u64): host wall clock | frame_index   | stream_seq    |
    +-------------------------------+---------------+---------------+
    16              20              24      26      28      30
    +---------------+---------------+-------+-------+-------+-------+
    | frame_bytes   | user_flags    | block | block | data  | recov |
    | (AU length)   | (0x05 key)    | index | count | shards| shards|
    +---------------+---------------+-------+-------+-------+-------+
    32      34      36  37  38  39
    +-------+-------+---+---+---+---+
    | shard | shard |C9 |ver|sch|flg|
    | index | bytes |   |   |   |   |
    +-------+-------+---+---+---+---+

- frame_index: per session from 0, +1 per access unit (wraps); stream_seq: per packet
  from 0 (wraps; on the host it equals the crypto seq mod 2^32).
- user_flags reach the decoder unchanged: USER_KEYFRAME (PIC | SOF) on a keyframe,
  USER_PICTURE on others.
- shard_index: 0..k-1 data, k..k+m-1 recovery. version: 1. fec_scheme: the sender's
  coder (the receiver uses the Welcome's). flags: PACKET_PIC on every packet,
  PACKET_SOF on block 0 shard 0, PACKET_EOF on the last shard of the last block.
  version, fec_scheme and flags are informational: receivers never check them.
"""

from __future__ import annotations

import struct
from typing import Final, NamedTuple

import numpy as np

HEADER = struct.Struct("<QIIIIHHHHHHBBBB")
HEADER_SIZE: Final = HEADER.size  # 40
# What a receiver acts on: the header without version, fec_scheme and flags, which it
# never checks (read per datagram, so a plain tuple of exactly these twelve).
RECEIVED = struct.Struct("<QIIIIHHHHHHB3x")
MAGIC: Final = 0xC9
VERSION: Final = 1

USER_PICTURE: Final = 0x01
USER_SOF: Final = 0x04
USER_KEYFRAME: Final = USER_PICTURE | USER_SOF
PACKET_PIC: Final = 0x01
PACKET_EOF: Final = 0x02
PACKET_SOF: Final = 0x04

# Byte offsets of the fields the packetizer writes per packet (it fills a template
# per block, then these): stream_seq (u32), shard_index (u16), flags (u8).
STREAM_SEQ_OFFSET: Final = 12
SHARD_INDEX_OFFSET: Final = 32
FLAGS_OFFSET: Final = 39
DATA_SHARDS_OFFSET: Final = 28


class PacketHeader(NamedTuple):
    """A parsed header (a tuple: the receiver makes one per datagram, so it is cheap)."""

    pts_ns: int
    frame_index: int
    stream_seq: int
    frame_bytes: int
    user_flags: int
    block_index: int
    block_count: int
    data_shards: int
    recovery_shards: int
    shard_index: int
    shard_bytes: int
    magic: int = MAGIC
    version: int = VERSION
    fec_scheme: int = 0
    flags: int = PACKET_PIC

    def encode(self) -> bytes:
        return HEADER.pack(*self)

    @property
    def keyframe(self) -> bool:
        return bool(self.user_flags & USER_SOF)


def parse_header(packet: bytes | bytearray | memoryview) -> PacketHeader:
    """The header at the start of ``packet`` (at least HEADER_SIZE bytes), unchecked:
    the reassembler applies the rules of §5.5 to it."""
    return PacketHeader._make(HEADER.unpack_from(packet))


def write_headers(rows: np.ndarray, template: bytes, first_stream_seq: int, first_shard: int) -> None:
    """Write consecutive headers into the first HEADER_SIZE columns of ``rows`` (uint8,
    one row per packet): ``template`` everywhere, then stream_seq ``first_stream_seq + i``
    (mod 2^32) and shard_index ``first_shard + i`` in row i. The packets of one block
    differ in nothing else but flags, which the caller sets on the first and last."""
    count = rows.shape[0]
    rows[:, :HEADER_SIZE] = np.frombuffer(template, dtype=np.uint8, count=HEADER_SIZE)
    seqs = (np.arange(count, dtype=np.uint64) + np.uint64(first_stream_seq)) & np.uint64(0xFFFFFFFF)
    rows[:, STREAM_SEQ_OFFSET : STREAM_SEQ_OFFSET + 4] = seqs.astype("<u4").view(np.uint8).reshape(count, 4)
    shards = np.arange(first_shard, first_shard + count, dtype="<u2")
    rows[:, SHARD_INDEX_OFFSET : SHARD_INDEX_OFFSET + 2] = shards.view(np.uint8).reshape(count, 2)


def build_packets(template: bytes, first_stream_seq: int, first_shard: int, first_flags: int, last_flags: int,
                  shards: np.ndarray | memoryview | bytes | bytearray, count: int, shard_size: int) -> np.ndarray:
    """``count`` packets (rows of header || shard) of one block: headers as write_headers
    makes them, ``first_flags`` OR'd into the first packet's flags, ``last_flags`` into
    the last's; shard i is bytes ``[i * shard_size, (i + 1) * shard_size)`` of ``shards``,
    zero-padded past its end. What the C module's ``seal_packets`` seals in one call."""
    rows = np.empty((count, HEADER_SIZE + shard_size), dtype=np.uint8)
    body = np.frombuffer(shards, dtype=np.uint8) if not isinstance(shards, np.ndarray) else shards.reshape(-1)
    if len(body) > count * shard_size:
        raise ValueError(f"{len(body)} bytes do not fit {count} shards of {shard_size}")
    flat = rows[:, HEADER_SIZE:]
    full = len(body) // shard_size
    if full:
        flat[:full] = body[: full * shard_size].reshape(full, shard_size)
    if full < count:
        tail = body[full * shard_size :]
        flat[full, : len(tail)] = tail
        flat[full, len(tail) :] = 0
        flat[full + 1 :] = 0
    write_headers(rows, template, first_stream_seq, first_shard)
    rows[0, FLAGS_OFFSET] |= first_flags
    rows[-1, FLAGS_OFFSET] |= last_flags
    return rows
