"""Datagrams -> whole access units: the client's side of the video plane, sans-IO.

Drive it like aioquic's QuicConnection: ``receive_datagram(data, now_ns)`` for every
datagram from the video socket (``receive_segments`` for a GRO read), then drain
``next_event()``. Nothing a peer sends can raise out of either.

Rules (LUMEN-M3-WIRE.md §5.5; M3's counters keep M3's names and meaning):

1. Open: an encrypted datagram that is too short or does not authenticate is dropped
   and counted only in ``unauthentic`` (M3 counts nothing). Every other packet counts in
   ``packets_received`` and ``bytes_received`` (its whole plaintext length).
2. Check the header; a packet that breaks a rule is dropped (``packets_dropped``): at
   least 40 bytes, magic 0xC9, shard_bytes = the Welcome's P, at least 40 + P bytes
   (trailing bytes are ignored), 1 <= k <= D, 1 <= k + m <= the largest block's, shard
   index < k + m, 1 <= block_count <= the most a 64 MiB frame needs, block index <
   block_count, frame_bytes <= 64 MiB. lumen is stricter than M3 in one way, as the
   protocol allows: the geometry must be the one the packetization rules give for
   frame_bytes (block_count, and k of each block), so data shard s of a frame always
   lands at byte s*P of it.
3. Window: the newest frame_index is tracked wrap-aware (newer = ``(idx - newest) mod
   2^32`` in 1..2^31-1); pending frames more than WINDOW_FRAMES behind it are pruned
   (``frames_dropped``). A packet of a frame that far behind, or of one already emitted
   (remembered for the same window), is dropped (``packets_dropped``).
4. Replays (lumen's rule, encrypted streams): a seq already used is ignored and counted
   in ``replayed``. Placed here, it changes none of M3's counters: M3 ignores the same
   datagram as a duplicate shard or a shard of a finished block.
5. Geometry: the first packet of a frame fixes block_count, frame_bytes, pts_ns and
   user_flags; a later one with another block_count or frame_bytes is dropped
   (``packets_dropped``). The first packet of a block fixes its (k, m); one that
   disagrees is dropped. A duplicate shard, or one for a block already rebuilt, is
   ignored, uncounted.
6. A block is decoded as soon as any k of its k + m shards are in (FEC only when a data
   shard is missing: ``fec_recovered_shards``). A frame is emitted when every block is
   done: FrameReady, possibly out of frame order; nothing waits for older frames (the
   client's reorder.FrameOrder puts them back in order). A data shard that FEC rebuilt
   and that arrives after all was reordered, not lost: ``late_shards`` counts it.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from ..errors import FecError
from ..fec import FecEngine, engine_for
from .config import MAX_DATAGRAM, VideoConfig
from .crypto import (
    CLIENT,
    FORGED,
    NATIVE_NAME,
    OTHER,
    OVERHEAD,
    AuthError,
    Buffer,
    Opener,
    ReplayWindow,
    native_run_length,
)
from .header import FLAGS_OFFSET, HEADER_SIZE, MAGIC, RECEIVED, USER_SOF, write_headers

# M3's reorder window: frames this far behind the newest are given up.
WINDOW_FRAMES: Final = 16
# A GRO read holds at most 64 datagrams (the kernel's GSO limit on the sender).
RUN_MAX: Final = 64
_WRAP: Final = 0xFFFFFFFF
_HALF: Final = 0x80000000


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameReady:
    """A whole access unit, ready for the decoder."""

    frame_index: int
    data: bytearray  # handed over, not copied: the reassembler keeps no reference
    pts_ns: int  # the host's wall clock (UNIX-epoch ns), from the frame's first packet
    user_flags: int
    first_datagram_ns: int  # receiver clock
    completed_ns: int  # receiver clock
    recovered_shards: int  # data shards rebuilt by FEC

    @property
    def keyframe(self) -> bool:
        return bool(self.user_flags & USER_SOF)


@dataclass(slots=True)
class ReceiverStats:
    # M3's client counters (lumen-core Session::stats), same rules:
    frames_completed: int = 0
    frames_dropped: int = 0  # pending frames given up: fell out of the window
    packets_received: int = 0
    packets_dropped: int = 0  # broke a header rule, too old, or after their frame was done
    fec_recovered_shards: int = 0
    bytes_received: int = 0
    # lumen's:
    datagrams: int = 0  # everything the socket gave, whatever it was
    datagram_bytes: int = 0
    unauthentic: int = 0  # too short to be sealed, or failed authentication
    oversize: int = 0  # longer than the 2048 bytes a video datagram may have
    replayed: int = 0
    frames_recovered: int = 0  # emitted frames that needed FEC
    late_shards: int = 0  # data shards FEC had rebuilt that arrived after all: reordered, not lost
    packets_expected: int = 0  # stream_seq from the first packet seen to the newest: what the host sent
    run_packets: int = 0  # taken a run at a time by receive_segments' fast path


@dataclass(slots=True)
class _Block:
    k: int
    m: int
    received: int = 0
    present: bytearray = field(default_factory=bytearray)  # one flag per shard index
    recovery: dict[int, bytes] = field(default_factory=dict)  # wire index -> shard
    done: bool = False


@dataclass(slots=True)
class _Frame:
    block_count: int
    frame_bytes: int
    pts_ns: int
    user_flags: int
    first_ns: int
    buf: bytearray  # every data shard at its place: shard s at s * P
    blocks: list[_Block | None]
    remaining: int
    recovered: int = 0
    rebuilt: list[int] = field(default_factory=list)  # block * D + index of each data shard FEC rebuilt


def _newer(a: int, b: int) -> bool:
    return 0 < ((a - b) & _WRAP) < _HALF


class Reassembler:
    def __init__(
        self, config: VideoConfig, *, engine: FecEngine | None = None, native_aead: bool | None = None
    ) -> None:
        self.config = config.validate()
        self._engine = engine or engine_for(config.scheme)
        self._opener = Opener(config.key, config.salt, CLIENT, native=native_aead) if config.encrypt else None
        # The C module checks runs of headers too, when it is used for the AEAD.
        self._native_runs = self._opener is not None and self._opener.name == NATIVE_NAME
        self._replay = ReplayWindow()
        p = config.shard_payload
        self._p = p
        self._d = config.max_data_per_block
        self._max_total = config.max_total_shards
        self._max_blocks = config.max_blocks
        self._max_frame = config.max_frame_bytes
        self._frames: dict[int, _Frame] = {}
        # Emitted frames (at most WINDOW_FRAMES + 1: pruned with the window), each with the
        # data shards FEC rebuilt, as block * D + index: one of them arriving now was late.
        self._emitted: dict[int, frozenset[int]] = {}
        self._newest: int | None = None
        self._stream_top: int | None = None
        self._scratch = bytearray(MAX_DATAGRAM)
        self._scratch_view = memoryview(self._scratch)
        # The GRO path's buffers: the plaintexts of a run, and the headers it must carry.
        self._datagram_size = config.datagram_size
        self._packet_size = config.datagram_size - OVERHEAD
        self._run_buffer = bytearray(RUN_MAX * self._packet_size)
        self._run_view = memoryview(self._run_buffer)
        self._run_packets = np.frombuffer(self._run_buffer, dtype=np.uint8).reshape(RUN_MAX, self._packet_size)
        self._expected = np.empty((RUN_MAX, HEADER_SIZE), dtype=np.uint8)
        self._steps = np.arange(RUN_MAX, dtype=np.uint32)
        self._run_words = (np.frombuffer(self._run_buffer, dtype="<u4").reshape(RUN_MAX, self._packet_size // 4)
                           if self._packet_size % 4 == 0 else None)
        self._events: deque[FrameReady] = deque()
        self.stats = ReceiverStats()

    @property
    def engine_name(self) -> str:
        return self._engine.name

    @property
    def aead_name(self) -> str:
        return self._opener.name if self._opener is not None else "none (plain video)"

    def next_event(self) -> FrameReady | None:
        return self._events.popleft() if self._events else None

    # -- input ---------------------------------------------------------------

    def receive_segments(self, buffer: Buffer, segment_size: int, now_ns: int) -> None:
        """A GRO read: datagrams of ``segment_size`` bytes back to back (the last may be
        shorter). The same as receive_datagram for each, in order, only faster.

        A host sends a frame's datagrams back to back, so a read holds runs of
        consecutive seqs: each run is opened by one call into a scratch buffer, and
        its decrypted headers are compared, all at once, with the headers that must
        follow the first (stream_seq and shard_index one up each time, nothing else
        different but the informational flags). A run of data shards goes into the
        frame with one copy; a run after its block or frame is done is counted as the
        rules count it. Everything else (a frame's or block's first packet, recovery
        shards still needed, replays, anything unexpected) takes the rules one packet
        at a time, from the plaintext already opened.
        """
        view = memoryview(buffer)
        total = len(view)
        if total == 0:
            return
        if segment_size <= 0:
            segment_size = total
        whole = (total // segment_size) * segment_size
        if self._opener is None or segment_size != self._datagram_size or whole < 2 * segment_size:
            whole = 0
        pos = 0
        while pos < whole:
            count = min(RUN_MAX, (whole - pos) // segment_size)
            pos += self._open_run(view[pos : pos + count * segment_size], count, now_ns) * segment_size
        for tail in range(pos, total, segment_size):
            self.receive_datagram(view[tail : tail + segment_size], now_ns)

    def _open_run(self, view: memoryview, count: int, now_ns: int) -> int:
        """Open up to ``count`` datagrams whose seqs follow the first's; how many it took."""
        assert self._opener is not None
        st, size, psize = self.stats, self._datagram_size, self._packet_size
        first_seq = int.from_bytes(view[:8], "big")
        status = self._opener.open_run(view, size, first_seq, self._run_view[: count * psize])
        stop = status.find(OTHER)
        if stop < 0:
            stop = count
        st.datagrams += stop
        st.datagram_bytes += stop * size
        j = 0
        while j < stop:
            if status[j] == FORGED:
                st.unauthentic += 1
                j += 1
                continue
            opened = status.find(FORGED, j, stop)
            taken = self._run(j, (stop if opened < 0 else opened) - j, first_seq + j, now_ns)
            if taken == 0:
                st.packets_received += 1
                st.bytes_received += psize
                self._receive_packet(self._run_view[j * psize : (j + 1) * psize], first_seq + j, now_ns)
                taken = 1
            j += taken
        return stop

    def _run(self, j: int, avail: int, seq: int, now_ns: int) -> int:
        """Take packets j.. of the run buffer (``avail`` authentic ones from there) if they
        are shards of one block that the rules treat alike; how many it took (0: none)."""
        if avail < 2 or seq <= self._replay.top:
            return 0  # a lone packet, or seqs the replay window must judge one by one
        packets, p, d = self._run_packets, self._p, self._d
        (_pts_ns, index, stream_seq, frame_bytes, _user_flags, b, blocks, k, m, i, shard_bytes, magic) = (
            RECEIVED.unpack_from(self._run_buffer, j * self._packet_size))
        if (not self._geometry_ok(frame_bytes, b, blocks, k, m, i, shard_bytes, magic)
                or self._newest is None or _newer(index, self._newest)):
            return 0
        # How many of the packets carry exactly the headers that follow this one's.
        run = self._following(j, min(avail, k + m - i))
        self._saw_stream((stream_seq + run - 1) & _WRAP)
        st = self.stats
        if ((self._newest - index) & _WRAP) > WINDOW_FRAMES or index in self._emitted:
            st.packets_received += run
            st.bytes_received += run * self._packet_size
            st.packets_dropped += run
            st.run_packets += run
            rebuilt = self._emitted.get(index)
            if rebuilt and i < k:
                st.late_shards += len(rebuilt.intersection(range(b * d + i, b * d + min(k, i + run))))
            return run
        frame = self._frames.get(index)
        if frame is None or frame.block_count != blocks or frame.frame_bytes != frame_bytes:
            return 0
        block = frame.blocks[b]
        if block is None or block.m != m:
            return 0
        if not block.done:
            # The block completes at the run's end at the latest: after it, M3's rules ignore.
            run = min(run, k - block.received, k - i if i < k else run)
            held = block.present.find(1, i, i + run)
            if held >= 0:
                run = held - i
            if run < 1:
                return 0
            if i < k:
                dest = np.frombuffer(frame.buf, dtype=np.uint8, count=run * p, offset=(b * d + i) * p)
                dest.reshape(run, p)[:] = packets[j : j + run, HEADER_SIZE:]
                del dest  # no export of the frame's buffer may outlive this: it is trimmed on emission
            else:  # recovery shards the block needs: kept until it can be rebuilt
                for t in range(run):
                    block.recovery[i + t] = packets[j + t, HEADER_SIZE:].tobytes()
            block.present[i : i + run] = b"\x01" * run
            block.received += run
        self._replay.accept_run(seq, run)
        st.packets_received += run
        st.bytes_received += run * self._packet_size
        st.run_packets += run
        if not block.done and block.received >= k:
            self._finish_block(index, frame, b, block, now_ns)
        return run

    def receive_datagram(self, data: Buffer, now_ns: int) -> None:
        st = self.stats
        st.datagrams += 1
        st.datagram_bytes += len(data)
        if len(data) > MAX_DATAGRAM:
            st.oversize += 1
            return
        seq = None
        if self._opener is not None:
            size = len(data) - OVERHEAD
            if size < 0:
                st.unauthentic += 1
                return
            packet = self._scratch_view[:size]
            try:
                seq, _ = self._opener.open(data, packet)
            except AuthError:
                st.unauthentic += 1
                return
        else:
            packet = memoryview(data)
        st.packets_received += 1
        st.bytes_received += len(packet)
        self._receive_packet(packet, seq, now_ns)

    def _receive_packet(self, packet: memoryview, seq: int | None, now_ns: int) -> None:
        st = self.stats
        p = self._p
        if len(packet) < HEADER_SIZE:
            st.packets_dropped += 1
            return
        (pts_ns, index, stream_seq, frame_bytes, user_flags, b, blocks, k, m, i, shard_bytes, magic) = (
            RECEIVED.unpack_from(packet))
        if len(packet) < HEADER_SIZE + p or not self._geometry_ok(frame_bytes, b, blocks, k, m, i, shard_bytes, magic):
            st.packets_dropped += 1
            return
        self._saw_stream(stream_seq)
        if self._newest is None or _newer(index, self._newest):
            self._newest = index
            self._prune()
        if ((self._newest - index) & _WRAP) > WINDOW_FRAMES or index in self._emitted:
            st.packets_dropped += 1
            if self._emitted.get(index) and b * self._d + i in self._emitted[index]:
                st.late_shards += 1
            return
        if seq is not None:
            if not self._replay.check(seq):
                st.replayed += 1
                return
            self._replay.accept(seq)
        frame = self._frames.get(index)
        if frame is None:
            frame = self._frames[index] = _Frame(
                block_count=blocks, frame_bytes=frame_bytes, pts_ns=pts_ns, user_flags=user_flags,
                first_ns=now_ns, buf=bytearray(max(1, -(-frame_bytes // p)) * p), blocks=[None] * blocks,
                remaining=blocks,
            )
        elif frame.block_count != blocks or frame.frame_bytes != frame_bytes:
            st.packets_dropped += 1
            return
        block = frame.blocks[b]
        if block is None:
            block = frame.blocks[b] = _Block(k, m, present=bytearray(k + m))
        elif block.m != m:  # k follows from the frame's geometry, checked above
            st.packets_dropped += 1
            return
        if block.done or block.present[i]:
            return
        block.present[i] = 1
        block.received += 1
        shard = packet[HEADER_SIZE : HEADER_SIZE + p]
        if i < k:
            off = (b * self._d + i) * p
            frame.buf[off : off + p] = shard
        else:
            block.recovery[i] = bytes(shard)
        if block.received >= k:
            self._finish_block(index, frame, b, block, now_ns)

    def _saw_stream(self, stream_seq: int) -> None:
        """Track the newest stream_seq: how many packets the host has sent so far."""
        top = self._stream_top
        if top is None:
            self._stream_top = stream_seq
            self.stats.packets_expected = 1
            return
        ahead = (stream_seq - top) & _WRAP
        if 0 < ahead < _HALF:
            self.stats.packets_expected += ahead
            self._stream_top = stream_seq

    def _geometry_ok(self, frame_bytes: int, b: int, blocks: int, k: int, m: int, i: int, shard_bytes: int,
                     magic: int) -> bool:
        """M3's header rules (§5.5 step 2), then lumen's stricter one: the block count and
        each block's k are what §5.4 gives for frame_bytes, nothing else."""
        p, d = self._p, self._d
        if (
            magic != MAGIC or shard_bytes != p or not 1 <= k <= d or k + m > self._max_total or i >= k + m
            or not 1 <= blocks <= self._max_blocks or b >= blocks or frame_bytes > self._max_frame
        ):
            return False
        total = max(1, -(-frame_bytes // p))
        return blocks == -(-total // d) and k == min(d, total - b * d)

    def _following(self, j: int, count: int) -> int:
        """How many of the ``count`` packets from j of the run buffer carry the headers
        that follow packet j's in its block: stream_seq and shard_index one up each
        time, nothing else different but the informational flags byte."""
        if native_run_length is not None and self._native_runs:
            size = self._packet_size
            return int(native_run_length(self._run_view[j * size : (j + count) * size], size, count))
        words = self._run_words
        if words is None:  # packets not 4-byte aligned: compare bytes
            expected = self._expected[:count]
            packets = self._run_packets
            write_headers(expected, packets[j, :HEADER_SIZE].tobytes(),
                          int.from_bytes(packets[j, 12:16], "little"), int.from_bytes(packets[j, 32:34], "little"))
            same = (packets[j : j + count, :FLAGS_OFFSET] == expected[:, :FLAGS_OFFSET]).all(axis=1)
        else:
            # The header as ten little-endian u32 words: 3 is stream_seq, 8 is shard_index
            # (low half) and shard_bytes, 9 ends with the flags byte.
            rows = words[j : j + count, :10]
            diff = rows - rows[0]
            steps = self._steps[:count]
            diff[:, 3] -= steps
            diff[:, 8] -= steps
            diff[:, 9] = (rows[:, 9] ^ rows[0, 9]) & 0x00FFFFFF
            same = ~diff.any(axis=1)
        return count if same.all() else int(same.argmin())

    # -- internals -----------------------------------------------------------

    def _finish_block(self, index: int, frame: _Frame, b: int, block: _Block, now_ns: int) -> None:
        missing = block.k - sum(block.present[: block.k])
        if missing:
            base = b * self._d
            frame.rebuilt.extend(base + i for i in range(block.k) if not block.present[i])
            if not self._rebuild(frame, b, block):
                # Only a missing GF16 binding gets here (k valid shards always decode):
                # the block can never be rebuilt, and its frame falls out of the window.
                block.done = True
                return
            frame.recovered += missing
            self.stats.fec_recovered_shards += missing
        block.done = True
        block.recovery.clear()
        frame.remaining -= 1
        if frame.remaining == 0:
            self._emit(index, frame, now_ns)

    def _rebuild(self, frame: _Frame, b: int, block: _Block) -> bool:
        """Write the block's missing data shards into the frame; False if FEC cannot."""
        k, p = block.k, self._p
        rows = np.frombuffer(frame.buf, dtype=np.uint8, count=k * p, offset=b * self._d * p).reshape(k, p)
        try:
            self._engine.rebuild(k, block.m, rows, block.present, block.recovery)
        except FecError:
            return False
        finally:
            del rows  # no export of the frame's buffer may outlive this: it is trimmed on emission
        return True

    def _emit(self, index: int, frame: _Frame, now_ns: int) -> None:
        del self._frames[index]
        self._emitted[index] = frozenset(frame.rebuilt)
        st = self.stats
        st.frames_completed += 1
        st.frames_recovered += frame.recovered > 0
        data = frame.buf
        del data[frame.frame_bytes :]  # the last shard's zero padding
        self._events.append(FrameReady(
            frame_index=index, data=data, pts_ns=frame.pts_ns, user_flags=frame.user_flags,
            first_datagram_ns=frame.first_ns, completed_ns=now_ns, recovered_shards=frame.recovered,
        ))

    def _prune(self) -> None:
        """Forget what fell more than WINDOW_FRAMES behind the newest frame."""
        newest = self._newest
        assert newest is not None
        for index in [i for i in self._frames if ((newest - i) & _WRAP) > WINDOW_FRAMES]:
            del self._frames[index]
            self.stats.frames_dropped += 1
        self._emitted = {i: r for i, r in self._emitted.items() if ((newest - i) & _WRAP) <= WINDOW_FRAMES}
