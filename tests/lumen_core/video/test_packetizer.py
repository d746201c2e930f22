"""The packetizer, sans-IO: M3's block and shard rules, and what a reassembler gives back
from what it sealed."""

from __future__ import annotations

import os
from dataclasses import replace

import pytest
from video_wire import CONFIGS, KEY, M3, deliver, flat, frames, packets

from lumen_core.fec import GF16
from lumen_core.video import Packetizer, Reassembler, VideoConfig
from lumen_core.video.header import HEADER_SIZE, PACKET_EOF, PACKET_PIC, PACKET_SOF, USER_KEYFRAME, parse_header


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("size", [0, 1, 1199, 1200, 1201, 65536, 300_000, 2_000_000])
def test_round_trip_sizes(name: str, size: int) -> None:
    config = CONFIGS[name]
    p, r = Packetizer(config), Reassembler(config)
    au = os.urandom(size)
    blocks = p.packetize(au, pts_ns=42, user_flags=USER_KEYFRAME)
    for b in blocks:
        assert b.datagram_size == config.datagram_size and len(b.buffer) == b.count * b.datagram_size
    deliver(r, flat(blocks), now_ns=5)
    [ev] = frames(r)
    assert ev.data == au and ev.keyframe and ev.pts_ns == 42 and ev.frame_index == 0 and ev.recovered_shards == 0
    assert r.stats.frames_completed == 1 and r.stats.unauthentic == 0


def test_packetization_follows_m3s_rules() -> None:
    config = VideoConfig(percent=20, max_data_per_block=64, key=KEY)
    wires = flat(Packetizer(config).packetize(os.urandom(300_000), pts_ns=9, user_flags=1))
    headers = [parse_header(p) for p in packets(config, wires)]
    # 250 data shards: blocks of 64, 64, 64 and 58, each with ceil(k * 20 / 100) recovery shards.
    assert [(h.data_shards, h.recovery_shards) for h in headers if h.shard_index == 0] == [
        (64, 13), (64, 13), (64, 13), (58, 12)]
    assert [h.stream_seq for h in headers] == list(range(len(headers)))
    assert {(h.frame_bytes, h.block_count, h.shard_bytes, h.pts_ns, h.fec_scheme) for h in headers} == {
        (300_000, 4, 1200, 9, GF16)}
    assert headers[0].flags == PACKET_PIC | PACKET_SOF and headers[-1].flags == PACKET_PIC | PACKET_EOF
    assert {h.flags for h in headers[1:-1]} == {PACKET_PIC}


def test_an_empty_access_unit_is_one_zero_shard() -> None:
    config = replace(CONFIGS["gf8-plain"])
    data, recovery = Packetizer(config).packetize(b"", pts_ns=0, user_flags=1)  # each block: data, then recovery
    header = parse_header(data.datagrams()[0])
    assert (header.frame_bytes, header.data_shards, header.recovery_shards, data.count, recovery.count) == (
        0, 1, 1, 1, 1)
    assert bytes(data.datagrams()[0][HEADER_SIZE:]) == bytes(1200)


def test_a_parity_floor_gives_small_frames_two_recovery_shards() -> None:
    config = replace(M3, min_parity=2)
    assert [config.parity_for(k) for k in (1, 5, 10, 11, 100)] == [2, 2, 2, 3, 20]
    assert replace(config, percent=0).parity_for(1) == 0  # no FEC asked: none
    tight = VideoConfig(percent=20, max_data_per_block=1, key=KEY, min_parity=2)
    assert tight.parity_for(1) == 1  # never more than a receiver takes (k + m <= 2 here)
    p, r = Packetizer(config), Reassembler(M3)  # the receiver needs no floor: m is in the header
    au = os.urandom(900)
    wires = flat(p.packetize(au, pts_ns=1, user_flags=USER_KEYFRAME))
    assert len(wires) == 3
    deliver(r, wires[2:])  # the data shard and one recovery shard lost
    [ev] = frames(r)
    assert ev.data == au and ev.recovered_shards == 1
