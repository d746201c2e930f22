"""The reassembler, sans-IO: loss within recovery, reordering, duplicates, replays and forgeries
give back exactly the frames sent (or count why not), and GRO batches give exactly what single
datagrams give, on the C fast path and without it."""

from __future__ import annotations

import os
import random
from dataclasses import asdict, replace

import numpy as np
import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st
from video_wire import CONFIGS, M3, deliver, flat, frames, gro_batches, packets

from lumen_core.video import PacketHeader, Packetizer, Reassembler, VideoConfig
from lumen_core.video.config import MAX_DATAGRAM
from lumen_core.video.crypto import native_available
from lumen_core.video.header import FLAGS_OFFSET, HEADER_SIZE, parse_header, write_headers


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


BATCH_KEY = bytes(range(16))


needs_native = pytest.mark.skipif(
    not native_available(),
    reason="lumen_core.video._gcm is not built (pip found no C compiler or OpenSSL headers)",
)


BOTH = [pytest.param(True, marks=needs_native, id="native"), pytest.param(False, id="cryptography")]


@st.composite
def impaired_wire(draw: st.DrawFn) -> tuple[VideoConfig, list[bytes]]:
    """The datagrams of a few frames in send order (runs intact), then impaired: loss,
    loss beyond the recovery shards, tampered datagrams, duplicates, old datagrams
    replayed, garbage, and a little reordering."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    config = VideoConfig(scheme=draw(st.sampled_from([0, 1])), percent=draw(st.sampled_from([0, 10, 20, 50])),
                         max_data_per_block=draw(st.integers(5, 100)),  # 64 MiB in <= 65535 blocks
                         shard_payload=draw(st.sampled_from([256, 258, 1200])), key=BATCH_KEY)  # 258: unaligned
    p = Packetizer(config)
    wire: list[bytes] = []
    for n in range(draw(st.integers(1, 5))):
        for blk in p.packetize(rng.randbytes(draw(st.integers(0, 60_000))), pts_ns=n, user_flags=1):
            wire += [bytes(d) for d in blk.datagrams()]
    out: list[bytes] = []
    for d in wire:
        roll = rng.random()
        if roll < 0.05:
            continue  # lost
        if roll < 0.08:
            bad = bytearray(d)
            bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
            out.append(bytes(bad))
            continue
        out.append(d)
        if roll < 0.10:
            out.append(d)  # duplicate
        elif roll < 0.11 and out:
            out.append(rng.choice(out[: max(1, len(out) - 50)]))  # an old one, replayed
        elif roll < 0.12:
            out.append(rng.randbytes(len(d)))  # garbage of the same size
    for _ in range(rng.randint(0, 3) if out else 0):
        i = rng.randrange(len(out))
        j = min(len(out) - 1, i + rng.randint(1, 80))
        out[i], out[j] = out[j], out[i]
    return config, out


def _events(r: Reassembler) -> list[tuple[int, bytes, int, int]]:
    return [(e.frame_index, bytes(e.data), e.pts_ns, e.recovered_shards) for e in iter(r.next_event, None)]


@pytest.mark.parametrize("native", BOTH)
@settings(max_examples=150, deadline=None)
@given(case=impaired_wire(), cut=st.integers(0, 2**32))
def test_gro_batches_give_exactly_what_single_datagrams_give(native: bool, case: tuple[VideoConfig, list[bytes]],
                                                             cut: int) -> None:
    config, wire = case
    one, batched = Reassembler(config, native_aead=native), Reassembler(config, native_aead=native)
    for d in wire:
        one.receive_datagram(d, 0)
    for buf, size in gro_batches(wire, random.Random(cut)):
        batched.receive_segments(buf, size, 0)
    assert _events(batched) == _events(one)
    assert asdict(batched.stats) == asdict(one.stats) | {"run_packets": batched.stats.run_packets}


@pytest.mark.parametrize("native", BOTH)
@pytest.mark.parametrize("scheme", [0, 1])
def test_clean_batches_take_the_run_path(native: bool, scheme: int) -> None:
    # Not a timing test: the run path is what makes batches cheap, so show it is taken.
    config = VideoConfig(scheme=scheme, max_data_per_block=200, key=BATCH_KEY)
    p, r = Packetizer(config), Reassembler(config, native_aead=native)
    aus = [os.urandom(size) for size in (300_000, 1500, 80_000)]
    datagrams = 0
    for au in aus:
        for blk in p.packetize(au, pts_ns=0, user_flags=1):
            datagrams += blk.count
            for buf, size in gro_batches([bytes(d) for d in blk.datagrams()], random.Random(0)):
                r.receive_segments(buf, size, 0)
    assert [bytes(e.data) for e in iter(r.next_event, None)] == aus
    # One by one: only each block's first packet, and each run's first after a cut.
    assert r.stats.run_packets >= 0.8 * datagrams, r.stats


CONFIG = VideoConfig(percent=25, max_data_per_block=6, shard_payload=256, key=BATCH_KEY)
VALID_BATCHES = [bytes(blk.buffer) for n, size in enumerate((10, 3000, 12_000))
                 for blk in Packetizer(CONFIG).packetize(os.urandom(size), pts_ns=n, user_flags=1)]


SEGMENT_SIZES = st.one_of(st.sampled_from([-5, 0, CONFIG.datagram_size]), st.integers(1, 2000))


@fuzz_settings
@given(st.binary(max_size=5000), SEGMENT_SIZES)
def test_random_batches_are_counted_segment_by_segment(data: bytes, size: int) -> None:
    r = Reassembler(CONFIG)
    r.receive_segments(data, size, 0)
    step = size if size > 0 else len(data)
    assert r.stats.datagrams == (-(-len(data) // step) if data else 0)
    assert r.stats.frames_completed == 0


@fuzz_settings
@given(st.lists(mutated(VALID_BATCHES), min_size=1, max_size=3), SEGMENT_SIZES)
def test_mutated_batches_are_counted_and_never_forge_a_frame(batches: list[bytes], size: int) -> None:
    r = Reassembler(CONFIG)
    for b in batches:
        r.receive_segments(b, size, 0)
    st_ = r.stats
    assert st_.packets_received + st_.unauthentic + st_.oversize == st_.datagrams
    assert all(len(e.data) in (10, 3000, 12_000) for e in iter(r.next_event, None))


def _numpy_run_length(buf: bytes, size: int, count: int) -> int:
    rows = np.frombuffer(buf, dtype=np.uint8, count=count * size).reshape(count, size)
    expected = np.empty((count, HEADER_SIZE), dtype=np.uint8)
    write_headers(expected, rows[0, :HEADER_SIZE].tobytes(), int.from_bytes(rows[0, 12:16], "little"),
                  int.from_bytes(rows[0, 32:34], "little"))
    same = (rows[:, :FLAGS_OFFSET] == expected[:, :FLAGS_OFFSET]).all(axis=1)
    return count if same.all() else int(same.argmin())


@needs_native
@settings(max_examples=300, deadline=None)
@given(count=st.integers(1, 64), seq=st.integers(0, 2**32 - 1), shard=st.integers(0, 65535 - 64),
       poke=st.lists(st.tuples(st.integers(0, 63), st.integers(0, 39), st.integers(1, 255)), max_size=3),
       size=st.sampled_from([40, 41, 1240]))
def test_the_c_run_check_agrees_with_numpy(count: int, seq: int, shard: int, poke: list[tuple[int, int, int]],
                                           size: int) -> None:
    from lumen_core.video._gcm import run_length

    template = PacketHeader(pts_ns=7, frame_index=3, stream_seq=seq, frame_bytes=1000, user_flags=1, block_index=0,
                            block_count=1, data_shards=60, recovery_shards=4, shard_index=shard,
                            shard_bytes=1200).encode()
    rows = np.zeros((count, size), dtype=np.uint8)
    write_headers(rows, template, seq, shard)
    for row, byte, xor in poke:  # a header that differs somewhere (flags byte 39 allowed)
        rows[row % count, byte] ^= xor
    buf = rows.tobytes()
    assert run_length(buf, size, count) == _numpy_run_length(buf, size, count)
