"""The 40-byte video packet header (M3's layout, docs/protocol.md): field order and widths,
the receiver's reading of it, and the batch writers the packetizer and the C sealer share."""

from __future__ import annotations

import numpy as np
import pytest

from lumen_core.video.header import (
    FLAGS_OFFSET,
    HEADER,
    HEADER_SIZE,
    PACKET_EOF,
    PACKET_PIC,
    PACKET_SOF,
    RECEIVED,
    USER_KEYFRAME,
    USER_PICTURE,
    PacketHeader,
    build_packets,
    parse_header,
    write_headers,
)

HEADER_ONE = PacketHeader(pts_ns=0x0102030405060708, frame_index=9, stream_seq=10, frame_bytes=11, user_flags=5,
                          block_index=1, block_count=2, data_shards=3, recovery_shards=4, shard_index=5,
                          shard_bytes=1200, fec_scheme=1, flags=PACKET_PIC | PACKET_SOF)


def test_the_layout_is_m3s_little_endian_forty_bytes() -> None:
    wire = HEADER_ONE.encode()
    assert len(wire) == HEADER_SIZE == 40 and wire[:8] == bytes(range(8, 0, -1))
    assert wire[36:] == bytes([0xC9, 1, 1, PACKET_PIC | PACKET_SOF])  # magic, version, scheme, flags
    assert wire[FLAGS_OFFSET] == HEADER_ONE.flags
    assert parse_header(wire + b"shard bytes") == HEADER_ONE  # what follows is the shard's
    assert HEADER_ONE.keyframe and not HEADER_ONE._replace(user_flags=USER_PICTURE).keyframe
    assert USER_KEYFRAME & USER_PICTURE


def test_the_receivers_reading_takes_the_fields_it_uses() -> None:
    fields = RECEIVED.unpack_from(HEADER_ONE.encode())
    assert RECEIVED.size == HEADER.size and fields == tuple(HEADER_ONE)[:12]


def test_headers_written_in_a_batch_count_stream_seq_and_shard_index() -> None:
    template = HEADER_ONE._replace(stream_seq=0, shard_index=0, flags=PACKET_PIC).encode()
    rows = np.zeros((3, HEADER_SIZE + 4), dtype=np.uint8)
    write_headers(rows, template, first_stream_seq=2**32 - 2, first_shard=7)
    got = [parse_header(row.tobytes()) for row in rows]
    assert [(h.stream_seq, h.shard_index) for h in got] == [(2**32 - 2, 7), (2**32 - 1, 8), (0, 9)]  # seq wraps
    assert not rows[:, HEADER_SIZE:].any()


def test_built_packets_pad_the_last_shard_and_flag_the_first_and_last() -> None:
    template = HEADER_ONE._replace(flags=PACKET_PIC).encode()
    rows = build_packets(template, 100, 0, PACKET_SOF, PACKET_EOF, b"abcdefghij", count=4, shard_size=4)
    assert [bytes(r[HEADER_SIZE:]) for r in rows] == [b"abcd", b"efgh", b"ij\0\0", bytes(4)]
    assert [parse_header(r.tobytes()).flags for r in rows] == [
        PACKET_PIC | PACKET_SOF, PACKET_PIC, PACKET_PIC, PACKET_PIC | PACKET_EOF]
    with pytest.raises(ValueError, match="do not fit"):
        build_packets(template, 0, 0, 0, 0, bytes(17), count=4, shard_size=4)
