"""The video plane: packetize -> impair -> reassemble, tampering, replay, loss handling."""

from __future__ import annotations

import os
import random

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.errors import ProtocolError
from lumen_core.video import FrameReady, KeyframeNeeded, Packetizer, Reassembler, parse_header
from lumen_core.video.header import HEADER_SIZE, MAX_FRAME_SIZE, block_span
from lumen_core.video.packetizer import SealedBlock, parity_count

KEY = bytes(range(16))
MS = 1_000_000


def events(r: Reassembler) -> list[object]:
    out = []
    while (ev := r.next_event()) is not None:
        out.append(ev)
    return out


def frames(r: Reassembler) -> list[FrameReady]:
    return [e for e in events(r) if isinstance(e, FrameReady)]


def deliver(r: Reassembler, datagrams: list[bytes], now_ns: int = 0) -> None:
    for d in datagrams:
        r.receive_datagram(d, now_ns)


def flat(blocks: list[SealedBlock]) -> list[bytes]:
    return [bytes(d) for b in blocks for d in b.datagrams()]


@pytest.mark.parametrize("size", [1, 2, 347, 1352, 1353, 100_000, 1_000_000, 3_000_000])
def test_round_trip_sizes(size: int) -> None:
    p, r = Packetizer(KEY), Reassembler(KEY)
    frame = os.urandom(size)
    blocks = p.packetize(frame, keyframe=True, pts_ns=42)
    for b in blocks:
        assert len(b.buffer) == b.count * b.datagram_size  # equal sizes: GSO-ready
        assert b.datagram_size <= 1400
    deliver(r, flat(blocks), now_ns=5)
    [ev] = frames(r)
    assert ev.data == frame and ev.keyframe and ev.pts_ns == 42 and ev.frame_index == 0
    assert not ev.recovered
    assert r.stats.frames_complete == 1 and r.stats.frames_lost == 0


def test_lower_max_datagram_is_respected() -> None:
    p, r = Packetizer(KEY, max_datagram=576), Reassembler(KEY)
    frame = os.urandom(50_000)
    blocks = p.packetize(frame, keyframe=True, pts_ns=0)
    assert max(b.datagram_size for b in blocks) <= 576
    deliver(r, flat(blocks))
    assert frames(r)[0].data == frame


@st.composite
def impaired_stream(draw: st.DrawFn) -> tuple[list[bytes], list[bytes], int]:
    """Frames, and their datagrams after loss within each block's parity, reordering
    and duplication."""
    parity = draw(st.sampled_from([10, 20, 50]))
    max_data_shards = draw(st.integers(4, 100))
    p = Packetizer(KEY, parity_percent=parity, max_data_shards=max_data_shards, max_datagram=400)
    rng = random.Random(draw(st.integers(0, 2**32)))
    sizes = draw(st.lists(st.integers(1, 40_000), min_size=1, max_size=4))
    frames_sent, wire = [], []
    for n, size in enumerate(sizes):
        frame = rng.randbytes(size)
        frames_sent.append(frame)
        dgrams: list[bytes] = []
        for block in p.packetize(frame, keyframe=(n == 0), pts_ns=n):
            shards = [bytes(d) for d in block.datagrams()]
            m = parse_header(shards[0]).m
            lost = set(rng.sample(range(len(shards)), rng.randint(0, m)))
            dgrams += [d for i, d in enumerate(shards) if i not in lost]
        dgrams += rng.sample(dgrams, rng.randint(0, min(5, len(dgrams))))  # duplicates
        rng.shuffle(dgrams)  # reordering within a frame
        wire += dgrams
    return frames_sent, wire, parity


@settings(max_examples=120, deadline=None)
@given(impaired_stream())
def test_loss_within_parity_reordering_and_duplication_give_back_exact_frames(
    stream: tuple[list[bytes], list[bytes], int],
) -> None:
    sent, wire, _ = stream
    r = Reassembler(KEY)
    deliver(r, wire)
    got = frames(r)
    assert [f.data for f in got] == sent
    assert [f.frame_index for f in got] == list(range(len(sent)))
    assert r.stats.frames_lost == 0 and r.stats.inconsistent == 0


def test_loss_beyond_parity_drops_frame_and_requests_keyframe() -> None:
    p, r = Packetizer(KEY, parity_percent=20), Reassembler(KEY, keyframe_interval_ns=100 * MS)
    f0, f1, f2, f3 = (os.urandom(30_000) for _ in range(4))
    deliver(r, flat(p.packetize(f0, keyframe=True, pts_ns=0)), 0)
    blocks = p.packetize(f1, keyframe=False, pts_ns=1)
    dgrams = flat(blocks)
    m = parse_header(dgrams[0]).m
    deliver(r, dgrams[m + 1 :], 1 * MS)  # one shard more than parity can cover
    assert [e.frame_index for e in frames(r)] == [0]  # type: ignore[attr-defined]
    deliver(r, flat(p.packetize(f2, keyframe=False, pts_ns=2)), 2 * MS)
    evs = events(r)
    assert evs == [KeyframeNeeded(last_frame=0)]  # f1 lost, f2 undecodable without it
    assert r.stats.frames_lost == 1 and r.stats.frames_dropped == 1 and r.stats.keyframe_requests == 1
    deliver(r, flat(p.packetize(f3, keyframe=True, pts_ns=3)), 3 * MS)
    [ev] = events(r)
    assert isinstance(ev, FrameReady) and ev.data == f3 and ev.keyframe


def test_fec_recovery_is_reported() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY)
    frame = os.urandom(20_000)
    dgrams = flat(p.packetize(frame, keyframe=True, pts_ns=0))
    deliver(r, dgrams[1:])
    [ev] = frames(r)
    assert ev.data == frame and ev.recovered and r.stats.frames_recovered == 1


def test_keyframe_requests_are_rate_limited_and_repeated_while_waiting() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY, keyframe_interval_ns=100 * MS, frame_timeout_ns=50 * MS)
    p.packetize(b"x" * 500, keyframe=True, pts_ns=0)  # frame 0 never arrives
    for n in range(1, 6):
        deliver(r, flat(p.packetize(b"y" * 500, keyframe=False, pts_ns=n)), n * MS)
    assert r.stats.keyframe_requests == 1 and r.stats.frames_dropped == 5
    assert sum(isinstance(e, KeyframeNeeded) for e in events(r)) == 1
    assert r.get_timer() == 1 * MS + 100 * MS
    r.handle_timer(101 * MS)
    assert events(r) == [KeyframeNeeded(last_frame=None)]
    assert r.stats.keyframe_requests == 2


def test_incomplete_frame_times_out() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY, frame_timeout_ns=50 * MS)
    deliver(r, flat(p.packetize(os.urandom(500), keyframe=True, pts_ns=0)), 0)
    frames(r)
    dgrams = flat(p.packetize(os.urandom(9000), keyframe=False, pts_ns=1))
    deliver(r, dgrams[:2], 10 * MS)
    assert r.get_timer() == 60 * MS
    r.handle_timer(59 * MS)
    assert events(r) == []
    r.handle_timer(60 * MS)
    assert events(r) == [KeyframeNeeded(last_frame=0)]
    assert r.stats.frames_lost == 1
    deliver(r, dgrams[2:], 61 * MS)  # the rest arrives too late
    assert r.stats.late == len(dgrams) - 2 and events(r) == []


def test_newer_frame_completing_first_makes_older_stale() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY)
    a = flat(p.packetize(os.urandom(5000), keyframe=True, pts_ns=0))
    b = flat(p.packetize(os.urandom(5000), keyframe=True, pts_ns=1))
    deliver(r, a[:1] + b)
    assert [f.frame_index for f in frames(r)] == [1]
    deliver(r, a[1:])
    assert r.stats.frames_lost == 1 and r.stats.late == len(a) - 1 and frames(r) == []


def test_pending_frames_are_bounded() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY, max_pending_frames=4)
    for n in range(10):
        dgrams = flat(p.packetize(os.urandom(5000), keyframe=True, pts_ns=n))
        deliver(r, dgrams[:1])  # never completes
    assert len(r._frames) <= 4
    assert r.stats.frames_lost == 6


def test_tampered_header_and_payload_are_rejected() -> None:
    p = Packetizer(KEY)
    frame = os.urandom(3000)
    dgrams = flat(p.packetize(frame, keyframe=True, pts_ns=0))
    for pos in (2, 5, 14, 20, 28, HEADER_SIZE, HEADER_SIZE + 100, len(dgrams[0]) - 1):
        r = Reassembler(KEY)
        bad = bytearray(dgrams[0])
        bad[pos] ^= 0x01
        r.receive_datagram(bytes(bad), 0)
        assert r.stats.forged + r.stats.malformed + r.stats.inconsistent == 1, pos
        assert frames(r) == []


def test_tampered_shard_does_not_poison_the_frame() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY)
    frame = os.urandom(3000)
    dgrams = flat(p.packetize(frame, keyframe=True, pts_ns=0))
    bad = bytearray(dgrams[0])
    bad[HEADER_SIZE + 3] ^= 0xFF
    deliver(r, [bytes(bad), *dgrams])
    assert r.stats.forged == 1 and frames(r)[0].data == frame


def test_wrong_key_is_rejected() -> None:
    p, r = Packetizer(bytes(16)), Reassembler(KEY)
    deliver(r, flat(p.packetize(os.urandom(3000), keyframe=True, pts_ns=0)))
    assert r.stats.forged == r.stats.datagrams and frames(r) == []


def test_replayed_datagrams_are_rejected() -> None:
    p, r = Packetizer(KEY), Reassembler(KEY)
    a = flat(p.packetize(os.urandom(3000), keyframe=True, pts_ns=0))
    deliver(r, a[:1] * 3)
    deliver(r, a[1:])
    deliver(r, a)  # the whole frame again, after it was released
    assert len(frames(r)) == 1
    assert r.stats.frames_complete == 1
    k = parse_header(a[0]).k
    # two copies, the parity the frame did not need, and the whole frame again
    assert r.stats.redundant + r.stats.replayed == 2 + (len(a) - k) + len(a)


def test_opener_refuses_a_replay_even_when_it_authenticates() -> None:
    from lumen_core.video.crypto import Opener, ReplayError

    dgram = flat(Packetizer(KEY).packetize(os.urandom(100), keyframe=True, pts_ns=0))[0]
    opener = Opener(KEY)
    seq = parse_header(dgram).seq
    assert opener.open(seq, dgram)
    with pytest.raises(ReplayError):
        opener.open(seq, dgram)


def test_replay_window_refuses_what_it_cannot_remember() -> None:
    from lumen_core.video.crypto import ReplayWindow

    w = ReplayWindow(size=64)
    for seq in (5, 3, 70, 200):
        assert w.check(seq)
        w.accept(seq)
        assert not w.check(seq)
    assert not w.check(100)  # behind the window: refused even if never seen
    assert w.check(199) and w.check(137)
    assert not w.check(136)


def test_block_span_covers_the_frame_exactly() -> None:
    for size in (1, 7, 1000, 999_999):
        for count in range(1, 9):
            spans = [block_span(size, count, b) for b in range(count)]
            assert sum(n for _, n in spans) == size
            assert all(spans[i][0] + spans[i][1] == spans[i + 1][0] for i in range(count - 1) if spans[i + 1][1])


def test_packetizer_refuses_bad_frames_and_settings() -> None:
    p = Packetizer(KEY)
    with pytest.raises(ValueError):
        p.packetize(b"", keyframe=True, pts_ns=0)
    with pytest.raises(ValueError):
        p.packetize(bytes(MAX_FRAME_SIZE + 1), keyframe=True, pts_ns=0)
    with pytest.raises(ValueError):
        Packetizer(KEY, max_datagram=100)
    with pytest.raises(ValueError):
        Packetizer(b"short")
    assert parity_count(10, 20) == 2 and parity_count(1, 20) == 1 and parity_count(250, 20) == 5


def _valid_video_datagrams() -> list[bytes]:
    p = Packetizer(KEY, max_data_shards=4)
    out: list[bytes] = []
    for n, size in enumerate((10, 3000, 9000)):
        out += flat(p.packetize(os.urandom(size), keyframe=n == 0, pts_ns=n))
    return out


VALID = _valid_video_datagrams()


@fuzz_settings
@given(st.binary(max_size=1600))
def test_random_bytes_never_escape_the_reassembler(data: bytes) -> None:
    r = Reassembler(KEY)
    r.receive_datagram(data, 0)
    assert r.stats.malformed + r.stats.forged + r.stats.inconsistent == 1
    try:
        parse_header(data)
    except ProtocolError:
        pass


@fuzz_settings
@given(st.lists(mutated(VALID), min_size=1, max_size=3))
def test_mutated_datagrams_never_escape_the_reassembler(batch: list[bytes]) -> None:
    r = Reassembler(KEY)
    for d in batch:
        r.receive_datagram(d, 0)
    r.handle_timer(10**12)
    while r.next_event() is not None:
        pass
    for d in batch:
        try:
            hdr = parse_header(d)
        except ProtocolError:
            continue
        assert hdr.k >= 1 and hdr.shard_index < hdr.k + hdr.m and hdr.block_index < hdr.block_count
