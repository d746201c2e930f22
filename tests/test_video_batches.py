"""The video plane's fast paths: the C AEAD module against cryptography, GRO batches
against datagram-by-datagram delivery, and the FEC and replay-window shortcuts they use."""

from __future__ import annotations

import os
import random
from dataclasses import asdict

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st
from test_video import events, frames

from lumen_core.video import Packetizer, Reassembler, parse_header
from lumen_core.video.crypto import (
    FORGED,
    OPENED,
    OTHER,
    AuthError,
    Opener,
    ReplayError,
    ReplayWindow,
    Sealer,
    native_available,
)
from lumen_core.video.header import HEADER, HEADER_SIZE, TAG_SIZE, write_headers
from lumen_core.video.packetizer import SealedBlock

KEY = bytes(range(16))
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
    native, fallback = Packetizer(KEY, native_aead=True), Packetizer(KEY, native_aead=False)
    assert native.aead_name != fallback.aead_name
    for size in (1, 1352, 1353, 200_000):
        frame = os.urandom(size)
        a = native.packetize(frame, keyframe=True, pts_ns=size, host_us=7)
        b = fallback.packetize(frame, keyframe=True, pts_ns=size, host_us=7)
        assert [blk.buffer for blk in a] == [blk.buffer for blk in b]


@needs_native
@pytest.mark.parametrize("sealer_native", [True, False])
def test_each_implementation_opens_what_the_other_sealed(sealer_native: bool) -> None:
    p = Packetizer(KEY, native_aead=sealer_native)
    r = Reassembler(KEY, native_aead=not sealer_native)
    frame = os.urandom(150_000)
    blocks = p.packetize(frame, keyframe=True, pts_ns=0)
    deliver_batches(r, blocks)
    [ev] = frames(r)
    assert ev.data == frame and r.stats.forged == 0


def test_headers_written_per_block_are_the_ones_packed_per_datagram() -> None:
    import numpy as np

    fields = [1, 1, 74, 15, 0, 9, 200_000, 1, 2, 0, 0, 123456789, 4321]
    rows = np.zeros((89, HEADER_SIZE + 5), dtype=np.uint8)
    write_headers(rows, HEADER.pack(*fields), 1000, 0)
    for i in range(89):
        fields[4], fields[9] = 1000 + i, i
        assert rows[i, :HEADER_SIZE].tobytes() == HEADER.pack(*fields)
    assert not rows[:, HEADER_SIZE:].any()


# -- the C module's own contract -------------------------------------------------------


@needs_native
def test_native_module_refuses_sizes_that_do_not_add_up() -> None:
    from lumen_core.video._gcm import AesGcm

    aead = AesGcm(KEY)
    with pytest.raises(ValueError):
        AesGcm(b"short")
    with pytest.raises(ValueError):
        aead.seal_many(bytearray(100), 100, HEADER_SIZE, bytes(47), 0)  # shard is 48 bytes
    with pytest.raises(ValueError):
        aead.seal_many(bytearray(150), 100, HEADER_SIZE, bytes(48), 0)  # not whole datagrams
    with pytest.raises(OverflowError):
        aead.seal_many(bytearray(200), 100, HEADER_SIZE, bytes(96), 2**64 - 1)  # seq would wrap
    with pytest.raises(ValueError):
        aead.open_into(0, bytes(HEADER_SIZE + TAG_SIZE - 1), HEADER_SIZE, bytearray(0))
    with pytest.raises(ValueError):
        aead.open_into(0, bytes(100), HEADER_SIZE, bytearray(10))
    with pytest.raises(BufferError):
        aead.open_into(0, bytes(100), HEADER_SIZE, bytes(48))  # read-only
    with pytest.raises(TypeError):
        aead.open(0, bytes(100))
    assert aead.open(0, bytes(100), HEADER_SIZE) is None  # not sealed: refused, not raised


@pytest.mark.parametrize("native", BOTH)
def test_open_run_stops_at_the_first_unexpected_header(native: bool) -> None:
    import numpy as np

    sealer, opener = Sealer(KEY, native=native), Opener(KEY, native=native)
    count, shard = 6, 100
    size = HEADER_SIZE + shard + TAG_SIZE
    buf = bytearray(count * size)
    rows = np.frombuffer(buf, dtype=np.uint8).reshape(count, size)
    write_headers(rows, HEADER.pack(1, 0, 6, 0, 0, 0, 600, 0, 1, 0, 0, 0, 0), sealer.reserve(count), 0)
    shards = os.urandom(count * shard)
    sealer.seal_many(buf, size, shards, 0)
    expected = rows[:, :HEADER_SIZE].copy()
    buf[1 * size + HEADER_SIZE + 5] ^= 1  # datagram 1: tampered shard
    expected[3, 30] ^= 1  # datagram 3: not the header the caller expects
    out = bytearray(count * shard)
    status = opener.open_run(buf, size, expected.tobytes(), 0, out)
    assert list(status) == [OPENED, FORGED, OPENED, OTHER, OTHER, OTHER]
    assert out[:shard] == shards[:shard] and out[2 * shard : 3 * shard] == shards[2 * shard : 3 * shard]
    assert out[3 * shard :] == bytes(3 * shard)  # left alone
    # Seqs 0 and 2 are taken; 1 (forged) and 3.. (not looked at) are not.
    with pytest.raises(ReplayError):
        opener.open(2, buf[2 * size : 3 * size])
    with pytest.raises(AuthError):  # past the replay check: seq 1 was never accepted
        opener.open(1, buf[size : 2 * size])
    assert opener.open(3, buf[3 * size : 4 * size]) == shards[3 * shard : 4 * shard]
    with pytest.raises(ValueError):
        opener.open_run(buf, size, expected.tobytes(), 0, out)  # seqs no longer fresh


@settings(max_examples=300, deadline=None)
@given(st.integers(-1, 10_000), st.integers(1, 5000), st.binary(min_size=1, max_size=64))
def test_accept_run_is_accept_for_each_opened_seq(top: int, gap: int, opened: bytes) -> None:
    opened = bytes(b % 3 for b in opened)  # FORGED, OPENED or OTHER
    one, bulk = ReplayWindow(size=256), ReplayWindow(size=256)
    if top >= 0:
        one.accept(top)
        bulk.accept(top)
    first = top + gap
    for i, s in enumerate(opened):
        if s == OPENED:
            one.accept(first + i)
    bulk.accept_run(first, opened)
    assert bulk.top == one.top
    assert bulk._seen == one._seen


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


def deliver_batches(r: Reassembler, blocks: list[SealedBlock]) -> None:
    for blk in blocks:
        for buf, size in gro_batches([bytes(d) for d in blk.datagrams()], random.Random(0)):
            r.receive_segments(buf, size, 0)


@st.composite
def impaired_wire(draw: st.DrawFn) -> list[bytes]:
    """The datagrams of a few frames in send order (runs intact), then impaired: loss,
    loss beyond parity, forged and tampered datagrams, duplicates, old datagrams
    replayed, garbage, and a little reordering."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    p = Packetizer(KEY, parity_percent=draw(st.sampled_from([0, 10, 20, 50])),
                   max_data_shards=draw(st.integers(2, 100)), max_datagram=draw(st.sampled_from([300, 1400])))
    wire: list[bytes] = []
    for n in range(draw(st.integers(1, 5))):
        size = draw(st.integers(1, 60_000))
        for blk in p.packetize(rng.randbytes(size), keyframe=rng.random() < 0.5, pts_ns=n):
            wire += [bytes(d) for d in blk.datagrams()]
    out: list[bytes] = []
    for d in wire:
        roll = rng.random()
        if roll < 0.05:
            continue  # lost
        if roll < 0.08:
            bad = bytearray(d)
            bad[rng.randrange(len(bad))] ^= 1 << rng.randrange(8)
            out.append(bytes(bad))  # tampered (header or shard)
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
    return out


@pytest.mark.parametrize("native", BOTH)
@settings(max_examples=150, deadline=None)
@given(wire=impaired_wire(), cut=st.integers(0, 2**32))
def test_gro_batches_give_exactly_what_single_datagrams_give(native: bool, wire: list[bytes], cut: int) -> None:
    one, batched = Reassembler(KEY, native_aead=native), Reassembler(KEY, native_aead=native)
    for d in wire:
        one.receive_datagram(d, 0)
    for buf, size in gro_batches(wire, random.Random(cut)):
        batched.receive_segments(buf, size, 0)
    assert events(batched) == events(one)
    assert asdict(batched.stats) == asdict(one.stats)


@pytest.mark.parametrize("native", BOTH)
def test_clean_batches_take_the_run_path(native: bool) -> None:
    # Not a timing test: the run path is what makes batches cheap, so prove it is taken.
    p, r = Packetizer(KEY), Reassembler(KEY, native_aead=native)
    calls = 0
    single = r.receive_datagram

    def counting(data: bytes | memoryview, now_ns: int) -> None:
        nonlocal calls
        calls += 1
        single(data, now_ns)

    r.receive_datagram = counting  # type: ignore[method-assign]
    frame = os.urandom(200_000)
    blocks = p.packetize(frame, keyframe=True, pts_ns=0)
    deliver_batches(r, blocks)
    assert frames(r)[0].data == frame
    datagrams = sum(b.count for b in blocks)
    # One by one: each block's first datagram and its padded last data shard.
    assert calls <= 2 * len(blocks) and r.stats.datagrams == datagrams


def _valid_batches() -> list[bytes]:
    p = Packetizer(KEY, max_data_shards=6)
    out = []
    for n, size in enumerate((10, 3000, 12_000)):
        for blk in p.packetize(os.urandom(size), keyframe=n == 0, pts_ns=n):
            out.append(bytes(blk.buffer))
    return out


VALID_BATCHES = _valid_batches()
# The datagram size of each block (k + m equal datagrams).
VALID_SIZES = sorted({len(b) // (parse_header(b).k + parse_header(b).m) for b in VALID_BATCHES})


# Segment sizes: nonsense, and anything from a lone header up (tinier ones only make
# the same test slower: every segment is then malformed on its own).
SEGMENT_SIZES = st.one_of(st.sampled_from([-5, 0]), st.integers(HEADER_SIZE, 2000))


@fuzz_settings
@given(st.binary(max_size=5000), SEGMENT_SIZES)
def test_random_batches_never_escape_the_reassembler(data: bytes, size: int) -> None:
    r = Reassembler(KEY)
    r.receive_segments(data, size, 0)
    if data:
        step = size if size > 0 else len(data)
        assert r.stats.datagrams == -(-len(data) // step)


@fuzz_settings
@given(
    st.lists(mutated(VALID_BATCHES), min_size=1, max_size=3),
    st.one_of(st.sampled_from(VALID_SIZES), SEGMENT_SIZES),
)
def test_mutated_batches_never_escape_the_reassembler(batches: list[bytes], size: int) -> None:
    r = Reassembler(KEY)
    for b in batches:
        r.receive_segments(b, size, 0)
    r.handle_timer(10**12)
    events(r)
