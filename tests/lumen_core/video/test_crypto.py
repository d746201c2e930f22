"""The video plane's AEAD: the C module against cryptography byte for byte, open_run and the
replay window's run path."""

from __future__ import annotations

import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from video_wire import gro_batches

from lumen_core.video import Packetizer, Reassembler, VideoConfig
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
from lumen_core.video.header import FLAGS_OFFSET, HEADER_SIZE, build_packets

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
