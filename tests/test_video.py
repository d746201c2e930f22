"""The video plane, sans-IO: packetize -> impair -> reassemble, with M3's rules."""

from __future__ import annotations

import os
import random
from dataclasses import replace

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.fec import GF8, GF16
from lumen_core.video import FrameReady, PacketHeader, Packetizer, Reassembler, VideoConfig
from lumen_core.video.config import MAX_DATAGRAM, ConfigError
from lumen_core.video.crypto import CLIENT, Opener
from lumen_core.video.header import HEADER_SIZE, PACKET_EOF, PACKET_PIC, PACKET_SOF, USER_KEYFRAME, parse_header
from lumen_core.video.packetizer import SealedBlock

KEY = bytes(range(1, 17))
M3 = VideoConfig(key=KEY)  # M3's host offer: GF16, 20 %, 4096 shards a block, 1200 bytes, encrypted
CONFIGS = {
    "m3": M3,
    "gf8-plain": VideoConfig(scheme=GF8, percent=15, max_data_per_block=200, encrypt=False),
    "gf8-small-blocks": VideoConfig(scheme=GF8, percent=50, max_data_per_block=8, shard_payload=256, key=KEY),
    "gf16-no-fec": VideoConfig(percent=0, key=KEY),
    "gf16-small-blocks": VideoConfig(percent=25, max_data_per_block=16, shard_payload=512, key=KEY),
}


def frames(r: Reassembler) -> list[FrameReady]:
    return list(iter(r.next_event, None))


def flat(blocks: list[SealedBlock]) -> list[bytes]:
    return [bytes(d) for b in blocks for d in b.datagrams()]


def deliver(r: Reassembler, datagrams: list[bytes], now_ns: int = 0) -> None:
    for d in datagrams:
        r.receive_datagram(d, now_ns)


def packets(config: VideoConfig, wires: list[bytes]) -> list[bytes]:
    if not config.encrypt:
        return wires
    opener = Opener(config.key, config.salt, CLIENT)
    return [opener.open(w)[1] or b"" for w in wires]


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


@pytest.mark.parametrize("name", ["m3", "gf8-small-blocks", "gf16-small-blocks"])
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32), size=st.integers(1, 200_000))
def test_loss_within_recovery_reordering_and_duplicates_give_back_exact_frames(name: str, seed: int,
                                                                              size: int) -> None:
    config = CONFIGS[name]
    rng = random.Random(seed)
    p, r = Packetizer(config), Reassembler(config)
    au = rng.randbytes(size)
    wires = flat(p.packetize(au, pts_ns=1, user_flags=1))
    by_block: dict[int, list[bytes]] = {}
    for wire, packet in zip(wires, packets(config, wires), strict=True):
        by_block.setdefault(parse_header(packet).block_index, []).append(wire)
    kept: list[bytes] = []
    for datagrams in by_block.values():
        k = parse_header(packets(config, datagrams[:1])[0]).data_shards
        lose = rng.sample(range(len(datagrams)), len(datagrams) - k)  # as many as the block can lose
        kept += [d for i, d in enumerate(datagrams) if i not in lose]
    kept += rng.sample(kept, min(5, len(kept)))  # duplicates
    rng.shuffle(kept)
    deliver(r, kept)
    [ev] = frames(r)
    assert ev.data == au
    assert r.stats.fec_recovered_shards == ev.recovered_shards


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


def test_a_rebuilt_shard_that_arrives_after_all_counts_as_late_not_lost() -> None:
    p, r = Packetizer(M3), Reassembler(M3)
    wires = flat(p.packetize(os.urandom(6000), pts_ns=1, user_flags=1))  # 5 data shards, 1 recovery
    deliver(r, wires[:4] + wires[5:])  # the recovery shard overtook data shard 4
    [ev] = frames(r)
    assert ev.recovered_shards == 1 and r.stats.late_shards == 0
    deliver(r, [wires[4]])
    assert r.stats.late_shards == 1 and r.stats.fec_recovered_shards == 1


def test_loss_beyond_recovery_loses_that_frame_only() -> None:
    config = CONFIGS["gf16-small-blocks"]
    p, r = Packetizer(config), Reassembler(config)
    aus = [os.urandom(20_000) for _ in range(3)]
    wires = [flat(p.packetize(au, pts_ns=n, user_flags=1)) for n, au in enumerate(aus)]
    k = -(-20_000 // 512)
    deliver(r, wires[0][: k - 1] + wires[1] + wires[2])  # frame 0: one shard short of any block's k
    assert [(f.frame_index, f.data) for f in frames(r)] == [(1, aus[1]), (2, aus[2])]
    assert r.stats.frames_completed == 2


def test_frames_come_out_as_they_complete_not_in_order() -> None:
    p, r = Packetizer(M3), Reassembler(M3)
    first, second = flat(p.packetize(b"a" * 5000, pts_ns=0, user_flags=5)), flat(p.packetize(b"b" * 10, pts_ns=1,
                                                                                               user_flags=1))
    deliver(r, second + first)
    assert [f.frame_index for f in frames(r)] == [1, 0]


def test_frames_more_than_16_behind_are_given_up() -> None:
    config = CONFIGS["gf16-no-fec"]
    p, r = Packetizer(config), Reassembler(config)
    wires = [flat(p.packetize(os.urandom(2000), pts_ns=n, user_flags=1)) for n in range(20)]
    deliver(r, wires[0][:1])  # frame 0 half there
    for n in range(1, 18):
        deliver(r, wires[n])
    assert r.stats.frames_dropped == 1  # frame 0 fell 17 behind
    deliver(r, wires[0][1:])  # too late
    assert r.stats.packets_dropped == 1 and [f.frame_index for f in frames(r)] == list(range(1, 18))


def test_replayed_datagrams_are_counted_not_used() -> None:
    p, r = Packetizer(M3), Reassembler(M3)
    wires = flat(p.packetize(os.urandom(5000), pts_ns=0, user_flags=5))
    deliver(r, wires[:2] + wires[:2])  # the frame is pending: a replay is ignored
    assert r.stats.replayed == 2 and r.stats.packets_dropped == 0
    deliver(r, wires[2:])
    assert len(frames(r)) == 1
    deliver(r, wires[:1])  # after emission: M3's rule drops it first
    assert r.stats.packets_dropped == 1 + 1 and r.stats.replayed == 2  # the unneeded recovery shard, then this


def test_tampering_forgeries_and_other_keys_are_unauthentic() -> None:
    p, r = Packetizer(M3), Reassembler(M3)
    au = os.urandom(30_000)
    wires = flat(p.packetize(au, pts_ns=0, user_flags=5))
    for i in (0, 9, 20, 100, len(wires[0]) - 1):
        bad = bytearray(wires[3])
        bad[i] ^= 0x40
        r.receive_datagram(bytes(bad), 0)
    deliver(r, flat(Packetizer(replace(M3, key=os.urandom(16))).packetize(au, pts_ns=0, user_flags=5)))
    deliver(r, flat(Packetizer(replace(M3, salt=b"xxxx")).packetize(au, pts_ns=0, user_flags=5)))
    assert r.stats.unauthentic == 5 + 2 * len(wires) and r.stats.packets_received == 0
    deliver(r, wires)
    assert [f.data for f in frames(r)] == [au]


def test_geometry_that_contradicts_frame_bytes_is_dropped() -> None:
    config = CONFIGS["gf8-plain"]
    r = Reassembler(config)
    good = PacketHeader(pts_ns=0, frame_index=0, stream_seq=0, frame_bytes=3000, user_flags=1, block_index=0,
                        block_count=1, data_shards=3, recovery_shards=1, shard_index=0, shard_bytes=1200)
    for header in (replace_header(good, block_count=2), replace_header(good, data_shards=2),
                   replace_header(good, shard_bytes=1202), replace_header(good, magic=0xC8),
                   replace_header(good, shard_index=4), replace_header(good, frame_bytes=64 * 2**20 + 1)):
        r.receive_datagram(header.encode() + bytes(1200), 0)
    assert r.stats.packets_dropped == 6 and r.stats.packets_received == 6
    r.receive_datagram(good.encode() + bytes(1199), 0)  # short by one byte
    r.receive_datagram(bytes(MAX_DATAGRAM + 1), 0)  # oversize
    assert r.stats.packets_dropped == 7 and r.stats.oversize == 1


def replace_header(h: PacketHeader, **changes: int) -> PacketHeader:
    return h._replace(**changes)


def test_a_later_packet_with_other_recovery_count_is_dropped() -> None:
    config = CONFIGS["gf8-plain"]
    r = Reassembler(config)
    h = PacketHeader(pts_ns=0, frame_index=0, stream_seq=0, frame_bytes=3000, user_flags=1, block_index=0,
                     block_count=1, data_shards=3, recovery_shards=1, shard_index=0, shard_bytes=1200)
    r.receive_datagram(h.encode() + bytes(1200), 0)
    r.receive_datagram(h._replace(shard_index=1, recovery_shards=2).encode() + bytes(1200), 0)
    assert r.stats.packets_dropped == 1


def test_packetizer_refuses_configs_m3_refuses() -> None:
    with pytest.raises(ConfigError, match="ceiling of 255"):
        Packetizer(VideoConfig(scheme=GF8, max_data_per_block=250, percent=15, key=KEY))
    with pytest.raises(ConfigError, match="non-zero session key"):
        Packetizer(VideoConfig(encrypt=True, key=bytes(16)))


# -- fuzzing: what comes out is only ever what went in --------------------------------


def _valid_wire() -> tuple[list[bytes], set[bytes]]:
    p = Packetizer(CONFIGS["gf16-small-blocks"])
    aus = [os.urandom(n) for n in (10, 3000, 12_000)]
    wire = [d for n, au in enumerate(aus) for d in flat(p.packetize(au, pts_ns=n, user_flags=1))]
    return wire, set(aus)


VALID_WIRE, VALID_AUS = _valid_wire()


def _check_invariants(r: Reassembler, count: int) -> None:
    st_ = r.stats
    assert st_.datagrams == count
    assert st_.packets_received + st_.unauthentic + st_.oversize == count
    assert st_.packets_dropped + st_.replayed <= st_.packets_received
    for f in frames(r):
        assert bytes(f.data) in VALID_AUS  # never a frame nobody sent


@fuzz_settings
@given(st.lists(st.binary(max_size=1400), max_size=8))
def test_random_datagrams_are_counted_and_never_make_frames(batch: list[bytes]) -> None:
    r = Reassembler(CONFIGS["gf16-small-blocks"])
    deliver(r, batch)
    _check_invariants(r, len(batch))
    assert r.stats.frames_completed == 0


@fuzz_settings
@given(st.lists(mutated(VALID_WIRE), min_size=1, max_size=40))
def test_mutated_datagrams_give_only_authentic_frames(batch: list[bytes]) -> None:
    r = Reassembler(CONFIGS["gf16-small-blocks"])
    deliver(r, batch)
    _check_invariants(r, len(batch))


PLAIN = CONFIGS["gf8-plain"]
PLAIN_WIRE = flat(Packetizer(PLAIN).packetize(os.urandom(5000), pts_ns=0, user_flags=1))


@fuzz_settings
@given(st.lists(mutated(PLAIN_WIRE), min_size=1, max_size=10))
def test_mutated_plain_datagrams_never_escape(batch: list[bytes]) -> None:
    # Without encryption nothing is authenticated: a frame may be garbage, but nothing raises
    # and every datagram is accounted for.
    r = Reassembler(PLAIN)
    deliver(r, batch)
    st_ = r.stats
    assert st_.datagrams == len(batch) == st_.packets_received + st_.oversize
    for f in frames(r):
        assert len(f.data) <= PLAIN.max_frame_bytes
