"""The video plane's fast paths: the C AEAD module against cryptography, open_run and the
replay window's run path, and GRO batches against datagram-by-datagram delivery."""

from __future__ import annotations

import os
import random
from dataclasses import asdict

import numpy as np
import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.video import PacketHeader, Packetizer, Reassembler, VideoConfig
from lumen_core.video.crypto import (
    CLIENT,
    FORGED,
    HOST,
    OPENED,
    OTHER,
    SEQ_SIZE,
    TAG_SIZE,
    Opener,
    ReplayWindow,
    Sealer,
    native_available,
)
from lumen_core.video.header import FLAGS_OFFSET, HEADER_SIZE, build_packets, write_headers

KEY = bytes(range(16))
SALT = b"lmn1"
needs_native = pytest.mark.skipif(
    not native_available(),
    reason="lumen_core.video._gcm is not built (pip found no C compiler or OpenSSL headers)",
)
BOTH = [pytest.param(True, marks=needs_native, id="native"), pytest.param(False, id="cryptography")]


def test_native_aead_is_built_where_required() -> None:
    # ./dev installs a compiler and OpenSSL's headers and sets this: there, a missing
    # module is a broken build, not a slower machine.
    if os.environ.get("LUMEN_REQUIRE_NATIVE_AEAD") != "1":
        pytest.skip("LUMEN_REQUIRE_NATIVE_AEAD is not set")
    assert native_available()


@needs_native
def test_both_aead_implementations_put_the_same_bytes_on_the_wire() -> None:
    config = VideoConfig(key=KEY)
    native, fallback = Packetizer(config, native_aead=True), Packetizer(config, native_aead=False)
    assert native.aead_name != fallback.aead_name
    for size in (0, 1, 1200, 1201, 200_000):
        au = os.urandom(size)
        a = native.packetize(au, pts_ns=size, user_flags=5)
        b = fallback.packetize(au, pts_ns=size, user_flags=5)
        assert [blk.buffer for blk in a] == [blk.buffer for blk in b]


@needs_native
@settings(max_examples=80, deadline=None)
@given(count=st.integers(1, 70), shard=st.sampled_from([2, 16, 1200, 1984]), short=st.integers(0, 3000),
       stream_seq=st.sampled_from([0, 7, 2**32 - 3, 2**40]), first_shard=st.integers(0, 200),
       first_flags=st.integers(0, 255), last_flags=st.integers(0, 255), first_seq=st.integers(0, 2**48))
def test_seal_packets_in_c_is_the_python_construction(count: int, shard: int, short: int, stream_seq: int,
                                                       first_shard: int, first_flags: int, last_flags: int,
                                                       first_seq: int) -> None:
    template = os.urandom(HEADER_SIZE)
    shards = os.urandom(max(0, count * shard - short))  # the last shards may be short or absent: zero-padded
    dgram = SEQ_SIZE + HEADER_SIZE + shard + TAG_SIZE
    out = []
    for native in (True, False):
        buf = bytearray(dgram * count)
        Sealer(KEY, SALT, HOST, native=native).seal_packets(buf, dgram, template, stream_seq, first_shard,
                                                            first_flags, last_flags, shards, first_seq)
        out.append(buf)
    assert out[0] == out[1]
    opener = Opener(KEY, SALT, CLIENT)
    packets = [opener.open(bytes(out[0][i * dgram : (i + 1) * dgram]))[1] for i in range(count)]
    expected = build_packets(template, stream_seq, first_shard, first_flags, last_flags, shards, count, shard)
    assert b"".join(p for p in packets if p is not None) == expected.tobytes()
    assert expected[0, FLAGS_OFFSET] & first_flags == first_flags
    assert int.from_bytes(expected[-1, 12:16], "little") == (stream_seq + count - 1) % 2**32


@needs_native
def test_seal_packets_refuses_what_does_not_add_up() -> None:
    from lumen_core.video._gcm import AesGcm

    aead, dgram = AesGcm(KEY, b"salt", b"tlas"), SEQ_SIZE + HEADER_SIZE + 16 + TAG_SIZE
    good = (bytearray(2 * dgram), dgram, bytes(HEADER_SIZE), 0, 0, 0, 0, bytes(32), 0)
    aead.seal_packets(*good)
    for at, bad in ((1, SEQ_SIZE + HEADER_SIZE + TAG_SIZE), (2, bytes(39)), (4, 65535), (5, 256), (6, -1),
                    (7, bytes(33)), (0, bytearray(dgram + 1))):
        with pytest.raises(ValueError):
            aead.seal_packets(*good[:at], bad, *good[at + 1 :])
    with pytest.raises(OverflowError):
        aead.seal_packets(*good[:8], 2**64 - 1)


@needs_native
@pytest.mark.parametrize("sealer_native", [True, False])
def test_each_implementation_opens_what_the_other_sealed(sealer_native: bool) -> None:
    config = VideoConfig(key=KEY)
    p = Packetizer(config, native_aead=sealer_native)
    r = Reassembler(config, native_aead=not sealer_native)
    au = os.urandom(150_000)
    for blk in p.packetize(au, pts_ns=0, user_flags=5):
        for buf, size in gro_batches([bytes(d) for d in blk.datagrams()], random.Random(0)):
            r.receive_segments(buf, size, 0)
    [ev] = list(iter(r.next_event, None))
    assert ev.data == au and r.stats.unauthentic == 0


@needs_native
def test_native_module_refuses_sizes_that_do_not_add_up() -> None:
    from lumen_core.video._gcm import AesGcm

    aead = AesGcm(KEY, b"salt", b"tlas")
    with pytest.raises(ValueError):
        AesGcm(b"short", b"salt", b"tlas")
    with pytest.raises(ValueError):
        AesGcm(KEY, b"sal", b"tlas")
    with pytest.raises(TypeError):
        AesGcm(KEY)
    with pytest.raises(ValueError):
        aead.seal_many(bytearray(100), 100, SEQ_SIZE, bytes(75), 0)  # a packet is 76 bytes
    with pytest.raises(ValueError):
        aead.seal_many(bytearray(150), 100, SEQ_SIZE, bytes(76), 0)  # not whole datagrams
    with pytest.raises(OverflowError):
        aead.seal_many(bytearray(200), 100, SEQ_SIZE, bytes(152), 2**64 - 1)  # seq would wrap
    with pytest.raises(ValueError):
        aead.open_into(0, bytes(SEQ_SIZE + TAG_SIZE - 1), SEQ_SIZE, bytearray(0))
    with pytest.raises(ValueError):
        aead.open_into(0, bytes(100), SEQ_SIZE, bytearray(10))
    with pytest.raises(BufferError):
        aead.open_into(0, bytes(100), SEQ_SIZE, bytes(76))  # read-only
    assert aead.open(0, bytes(100), SEQ_SIZE) is None  # not sealed: refused, not raised


@pytest.mark.parametrize("native", BOTH)
def test_open_run_stops_at_the_first_unexpected_seq(native: bool) -> None:
    sealer, opener = Sealer(KEY, SALT, HOST, native=native), Opener(KEY, SALT, CLIENT, native=native)
    plaintexts = [os.urandom(100) for _ in range(6)]
    wires = [bytearray(sealer.seal(p)) for p in plaintexts]
    wires[1][SEQ_SIZE + 5] ^= 1  # datagram 1: tampered
    wires[3] = bytearray(Sealer(KEY, SALT, HOST, native=native).seal(plaintexts[3]))  # seq 0, not 3
    out = bytearray(6 * 100)
    status = opener.open_run(b"".join(wires), len(wires[0]), 0, out)
    assert list(status) == [OPENED, FORGED, OPENED, OTHER, OTHER, OTHER]
    assert out[:100] == plaintexts[0] and out[200:300] == plaintexts[2]
    assert out[300:] == bytes(300)  # left alone


@settings(max_examples=300, deadline=None)
@given(st.integers(-1, 10_000), st.integers(1, 5000), st.integers(1, 64))
def test_accept_run_is_accept_for_each_seq(top: int, gap: int, count: int) -> None:
    one, bulk = ReplayWindow(size=256), ReplayWindow(size=256)
    if top >= 0:
        one.accept(top)
        bulk.accept(top)
    first = top + gap
    for i in range(count):
        one.accept(first + i)
    bulk.accept_run(first, count)
    assert bulk.top == one.top
    for seq in range(max(0, first - 300), first + count + 300):
        assert bulk.check(seq) == one.check(seq), seq


def test_replay_window_refuses_what_it_cannot_remember() -> None:
    w = ReplayWindow(size=8)
    for seq in (5, 3, 9):
        assert w.check(seq)
        w.accept(seq)
    assert not w.check(5) and not w.check(9) and w.check(4) and not w.check(1)  # 1 is below the window
    w.accept(100)
    assert not w.check(92) and w.check(93) and not w.check(100)
    with pytest.raises(ValueError):
        w.accept_run(50, 2)  # below the top


# -- GRO batches are datagrams delivered one by one ---------------------------------------


def gro_batches(datagrams: list[bytes], rng: random.Random) -> list[tuple[bytes, int]]:
    """What a GRO socket hands over: runs of equal-size datagrams (the last of a run may
    be shorter), at most 64 and 64 KB, cut at random places too."""
    out: list[tuple[bytes, int]] = []
    run: list[bytes] = []
    for d in datagrams:
        if run and (len(d) > len(run[0]) or len(run[-1]) < len(run[0]) or len(run) == 64
                    or (len(run) + 1) * len(run[0]) > 65535 or rng.random() < 0.05):
            out.append((b"".join(run), len(run[0])))
            run = []
        run.append(d)
    if run:
        out.append((b"".join(run), len(run[0])))
    return out


@st.composite
def impaired_wire(draw: st.DrawFn) -> tuple[VideoConfig, list[bytes]]:
    """The datagrams of a few frames in send order (runs intact), then impaired: loss,
    loss beyond the recovery shards, tampered datagrams, duplicates, old datagrams
    replayed, garbage, and a little reordering."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    config = VideoConfig(scheme=draw(st.sampled_from([0, 1])), percent=draw(st.sampled_from([0, 10, 20, 50])),
                         max_data_per_block=draw(st.integers(5, 100)),  # 64 MiB in <= 65535 blocks
                         shard_payload=draw(st.sampled_from([256, 258, 1200])), key=KEY)  # 258: unaligned
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
    config = VideoConfig(scheme=scheme, max_data_per_block=200, key=KEY)
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


CONFIG = VideoConfig(percent=25, max_data_per_block=6, shard_payload=256, key=KEY)
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
