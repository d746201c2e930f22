"""Sealed datagrams -> whole frames (the client's side of the video plane), sans-IO.

Drive it like aioquic's QuicConnection: ``receive_datagram(data, now_ns)`` for every
datagram from the video socket, ``handle_timer(now_ns)`` when ``get_timer()`` says,
then drain ``next_event()``.

Theory of operation:
- A datagram is opened first (authenticated, replay-checked); anything that fails is
  counted by kind and dropped. Nothing a peer sends can raise out of receive_datagram.
- Shards collect per (frame, block). A block is rebuilt as soon as any k of its
  shards are in (FEC when a data shard is missing); a frame is released when all its
  blocks are rebuilt. The decoder never sees a partial frame.
- Frames are released in index order only. When frame F completes, every older frame
  still incomplete, and every index skipped entirely, is lost: its late shards are
  dropped on arrival. A frame that stays incomplete for ``frame_timeout_ns`` is lost too.
- After any loss the decoder's reference chain is broken, so non-key frames are
  dropped (counted) until a keyframe completes, and a KeyframeNeeded event is raised,
  repeated at most once per ``keyframe_interval_ns`` while the wait lasts.
- At most ``max_pending_frames`` incomplete frames are held; a new one beyond that
  abandons the oldest as lost. With MAX_FRAME_SIZE this bounds the memory a peer can pin.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

import numpy as np

from ..errors import FecError, ProtocolError
from ..fec import FecEngine, default_engine
from .crypto import OPENED, OTHER, AuthError, Buffer, Opener, ReplayError
from .header import (
    FLAG_KEYFRAME,
    HEADER_SIZE,
    TAG_SIZE,
    block_span,
    header_fields,
    write_headers,
)

DEFAULT_FRAME_TIMEOUT_NS: Final = 200_000_000
DEFAULT_KEYFRAME_INTERVAL_NS: Final = 250_000_000
# Eight frames in flight is >100 ms at 60 fps: anything older is lost for a live stream.
DEFAULT_MAX_PENDING_FRAMES: Final = 8
RECENTLY_LOST: Final = 64


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameReady:
    """A whole frame, ready for the decoder."""

    frame_index: int
    data: bytearray  # handed over, not copied: the reassembler keeps no reference
    keyframe: bool
    pts_ns: int  # host capture time, host clock
    host_us: int  # capture to packetization on the host
    first_datagram_ns: int  # receiver clock
    completed_ns: int  # receiver clock
    recovered: bool  # at least one data shard was rebuilt by FEC


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyframeNeeded:
    """The decoder needs an IDR: tell the host (control-stream KeyframeRequest)."""

    last_frame: int | None  # newest frame released, None if none yet


VideoEvent = FrameReady | KeyframeNeeded


@dataclass(slots=True)
class ReceiverStats:
    datagrams: int = 0
    bytes: int = 0
    malformed: int = 0  # not a lumen video datagram
    forged: int = 0  # failed authentication
    replayed: int = 0
    inconsistent: int = 0  # header contradicts itself or earlier shards of its frame
    late: int = 0  # for a frame already given up as lost
    redundant: int = 0  # parity for a frame already complete: normal, not an error
    frames_complete: int = 0
    frames_recovered: int = 0
    frames_lost: int = 0
    frames_dropped: int = 0  # complete but undecodable: waiting for a keyframe
    keyframe_requests: int = 0


@dataclass(slots=True)
class _Block:
    """Shards of one block. Whole data shards are decrypted straight into the frame
    buffer; parity shards and a last, padded data shard are kept in ``held``."""

    shape: tuple[int, int, int]  # k, m, shard length: every shard must agree
    start: int  # offset of the block in the frame
    length: int
    present: set[int] = field(default_factory=set)
    held: dict[int, bytes] = field(default_factory=dict)
    done: bool = False

    @property
    def k(self) -> int:
        return self.shape[0]

    @property
    def shard_len(self) -> int:
        return self.shape[2]

    def in_frame(self, i: int) -> int:
        """Bytes of data shard ``i`` that belong to the frame (short for the padded one)."""
        return max(0, min(self.shard_len, self.length - i * self.shard_len))


@dataclass(slots=True)
class _Frame:
    key: tuple[int, int, int, int, int]  # size, flags, pts_ns, block count, host_us: every shard must agree
    first_ns: int
    buf: bytearray
    view: memoryview
    blocks: list[_Block | None]
    remaining: int
    recovered: bool = False

    @property
    def keyframe(self) -> bool:
        return bool(self.key[1] & FLAG_KEYFRAME)


class Reassembler:
    def __init__(
        self,
        key: bytes,
        *,
        engine: FecEngine | None = None,
        frame_timeout_ns: int = DEFAULT_FRAME_TIMEOUT_NS,
        keyframe_interval_ns: int = DEFAULT_KEYFRAME_INTERVAL_NS,
        max_pending_frames: int = DEFAULT_MAX_PENDING_FRAMES,
        native_aead: bool | None = None,
    ) -> None:
        self._opener = Opener(key, native=native_aead)
        self._engine = engine or default_engine()
        self._frame_timeout_ns = frame_timeout_ns
        self._keyframe_interval_ns = keyframe_interval_ns
        self._max_pending = max_pending_frames
        self._frames: dict[int, _Frame] = {}
        self._last_done = -1  # newest frame index released or given up
        self._last_released: int | None = None
        self._need_keyframe = True
        self._last_request_ns: int | None = None
        self._events: deque[VideoEvent] = deque()
        # Only to tell late shards from redundant parity in the stats.
        self._recently_lost: deque[int] = deque(maxlen=RECENTLY_LOST)
        self.stats = ReceiverStats()

    # -- input ---------------------------------------------------------------

    def receive_datagram(self, data: Buffer, now_ns: int) -> None:
        # The hot path: tens of thousands of calls a second, so locals, not attributes.
        st = self.stats
        st.datagrams += 1
        st.bytes += len(data)
        try:
            fields = header_fields(data)
        except ProtocolError:
            st.malformed += 1
            return
        _, flags, k, m, seq, index, size, b, block_count, i, _, pts_ns, host_us = fields
        if index <= self._last_done:
            # Checked before the AEAD too: no work for shards nobody wants.
            if index in self._recently_lost:
                st.late += 1
            else:
                st.redundant += 1
            return
        # Nothing is created from a header until its datagram authenticates: forged
        # headers must not be able to evict frames or fix a block's shape.
        shard_len = len(data) - HEADER_SIZE - TAG_SIZE
        frame = self._frames.get(index)
        block = None
        if frame is not None:
            if frame.key != (size, flags, pts_ns, block_count, host_us):
                st.inconsistent += 1
                return
            block = frame.blocks[b]
        if block is None:
            start, length = block_span(size, block_count, b)
            if length == 0 or k * shard_len < length:
                st.inconsistent += 1
                return
        elif block.shape != (k, m, shard_len):
            st.inconsistent += 1
            return
        elif block.done or i in block.present:
            st.redundant += 1  # parity beyond what the block needed, or a duplicate sealed anew
            return
        try:
            if block is not None and i < k and (i + 1) * shard_len <= block.length:
                # A whole data shard of a known block: decrypt straight into the frame.
                off = block.start + i * shard_len
                self._opener.open(seq, data, frame.view[off : off + shard_len])  # type: ignore[union-attr]
                shard = None
            else:
                shard = self._opener.open(seq, data)
        except AuthError:
            st.forged += 1
            return
        except ReplayError:
            st.replayed += 1
            return
        if frame is None:
            frame = self._new_frame(index, (size, flags, pts_ns, block_count, host_us), now_ns)
        if block is None:
            block = frame.blocks[b] = _Block((k, m, shard_len), start, length)
        if shard is not None:
            if i < k and (i + 1) * shard_len <= block.length:
                off = block.start + i * shard_len
                frame.buf[off : off + shard_len] = shard
            else:
                block.held[i] = shard
        block.present.add(i)
        if len(block.present) >= k:
            self._block_complete(index, frame, block, now_ns)

    def receive_segments(self, buffer: Buffer, segment_size: int, now_ns: int) -> None:
        """A GRO read: datagrams of ``segment_size`` bytes back to back (the last may be
        shorter). The same as receive_datagram for each, in order, only faster.

        Consecutive data shards of a block arrive together (the host sends a block with
        one GSO send), so a run of them is checked and opened at once: one header is
        parsed and validated, the others must carry the headers that follow it (seq and
        shard index one up each time, nothing else different), and the run is opened
        straight into the frame by one call. Parity a finished block did not need, and
        the rest of a frame already released, are counted a run at a time, unopened,
        as receive_datagram would count them. Anything else (a block's first datagram,
        the padded last data shard, parity still needed, reordering, forgeries) goes
        through receive_datagram one by one.
        """
        view = memoryview(buffer)
        total = len(view)
        if segment_size <= 0:
            segment_size = total
        pos = 0
        while pos < total:
            taken = self._receive_run(view, pos, segment_size, now_ns) if total - pos >= 2 * segment_size else 0
            if taken == 0:
                self.receive_datagram(view[pos : pos + segment_size], now_ns)
                taken = 1
            pos += taken * segment_size

    def _receive_run(self, view: memoryview, pos: int, size: int, now_ns: int) -> int:
        """Take a run of datagrams starting at ``pos`` if it can; how many it took."""
        try:
            fields = header_fields(view[pos : pos + size])
        except ProtocolError:
            return 0
        _, flags, k, m, seq, index, frame_size, b, block_count, i, _, pts_ns, host_us = fields
        whole = (len(view) - pos) // size
        st = self.stats
        if index <= self._last_done:
            # The rest of a frame already released or lost: counted, never opened.
            return self._unopened(view, pos, size, min(whole, k + m - i), seq, i, late=index in self._recently_lost)
        frame = self._frames.get(index)
        if frame is None or frame.key != (frame_size, flags, pts_ns, block_count, host_us):
            return 0
        block = frame.blocks[b]
        shard_len = size - HEADER_SIZE - TAG_SIZE
        if block is None or block.shape != (k, m, shard_len):
            return 0
        if block.done:  # parity the block did not need
            return self._unopened(view, pos, size, min(whole, k + m - i), seq, i, late=False)
        # Whole data shards only, as they land side by side in the frame; and no more
        # than the block still needs, as receive_datagram would drop the rest unopened.
        count = min(whole, block.length // shard_len - i, k - len(block.present))
        if count < 2 or not self._opener.fresh(seq) or not block.present.isdisjoint(range(i, i + count)):
            return 0
        expected = self._expected_headers(view, pos, count, seq, i)
        off = block.start + i * shard_len
        status = self._opener.open_run(
            view[pos : pos + count * size], size, expected, seq, frame.view[off : off + count * shard_len]
        )
        # A datagram with another header ends the run; it and what follows go on alone.
        taken = status.find(OTHER)
        if taken < 0:
            taken = count
        opened = status.count(OPENED, 0, taken)
        st.datagrams += taken
        st.bytes += taken * size
        st.forged += taken - opened
        if opened == taken:
            block.present.update(range(i, i + taken))
        else:
            block.present.update(i + n for n in range(taken) if status[n] == OPENED)
        if len(block.present) >= k:
            self._block_complete(index, frame, block, now_ns)
        return taken

    @staticmethod
    def _expected_headers(view: memoryview, pos: int, count: int, seq: int, shard: int) -> np.ndarray:
        """The headers of ``count`` datagrams from ``pos`` on if they are the ones that
        follow it in its block: its own (seq ``seq``, shard ``shard``), with the next
        seqs and shard indices."""
        expected = np.empty((count, HEADER_SIZE), dtype=np.uint8)
        write_headers(expected, view[pos : pos + HEADER_SIZE], seq, shard)
        return expected

    def _unopened(self, view: memoryview, pos: int, size: int, count: int, seq: int, shard: int, *, late: bool) -> int:
        """Count, as late or redundant and without opening them, the datagrams from
        ``pos`` on (at most ``count``, at least 1) that carry the headers following the
        first one's in its block; how many that was."""
        taken = 1
        if count > 1:
            rows = np.frombuffer(view, dtype=np.uint8, count=count * size, offset=pos).reshape(count, size)
            same = (rows[:, :HEADER_SIZE] == self._expected_headers(view, pos, count, seq, shard)).all(axis=1)
            taken = count if same.all() else int(same.argmin())
        st = self.stats
        st.datagrams += taken
        st.bytes += taken * size
        if late:
            st.late += taken
        else:
            st.redundant += taken
        return taken

    def handle_timer(self, now_ns: int) -> None:
        expired = [i for i, f in self._frames.items() if now_ns - f.first_ns >= self._frame_timeout_ns]
        if expired:
            self._give_up_through(max(expired))
            self._want_keyframe(now_ns)
        elif self._need_keyframe and self._last_request_ns is not None:
            self._want_keyframe(now_ns)

    # -- output --------------------------------------------------------------

    def get_timer(self) -> int | None:
        deadlines = [f.first_ns + self._frame_timeout_ns for f in self._frames.values()]
        if self._need_keyframe and self._last_request_ns is not None:
            deadlines.append(self._last_request_ns + self._keyframe_interval_ns)
        return min(deadlines) if deadlines else None

    def next_event(self) -> VideoEvent | None:
        return self._events.popleft() if self._events else None

    # -- internals -----------------------------------------------------------

    def _new_frame(self, index: int, key: tuple[int, int, int, int, int], now_ns: int) -> _Frame:
        if len(self._frames) >= self._max_pending:
            self._give_up_through(min(self._frames))
            self._want_keyframe(now_ns)
        size, block_count = key[0], key[3]
        buf = bytearray(size)
        frame = _Frame(
            key=key, first_ns=now_ns, buf=buf, view=memoryview(buf),
            blocks=[None] * block_count, remaining=block_count,
        )
        self._frames[index] = frame
        return frame

    def _block_complete(self, index: int, frame: _Frame, block: _Block, now_ns: int) -> None:
        """``block`` has k shards: rebuild it, and release the frame if it was the last."""
        self._rebuild_block(frame, block)
        if frame.remaining == 0:
            self._complete(index, frame, now_ns)

    def _rebuild_block(self, frame: _Frame, block: _Block) -> None:
        k, m, size = block.shape
        start, view, present, held = block.start, frame.view, block.present, block.held
        if not present.issuperset(range(k)):
            # Survivors in pick order (ascending): whole data shards, which sit in the
            # frame buffer; then held ones (a padded last data shard, parity).
            rows = sorted(present)[:k]
            whole = [i for i in rows if i not in held]
            survivors = np.empty((k, size), dtype=np.uint8)
            if whole:
                in_frame = np.frombuffer(frame.buf, dtype=np.uint8, count=(block.length // size) * size, offset=start)
                survivors[: len(whole)] = in_frame.reshape(-1, size)[whole]
            for n, i in enumerate(rows[len(whole) :], len(whole)):
                survivors[n] = np.frombuffer(held[i], dtype=np.uint8)
            try:
                missing, rebuilt = self._engine.recover_rows(k, m, rows, survivors)
            except FecError:  # cannot happen for shapes header_fields admits
                self.stats.inconsistent += 1
                return
            held.update(zip(missing, rebuilt, strict=True))  # type: ignore[arg-type]
            frame.recovered = True
        # Rebuilt shards and a padded last data shard go into the frame now, trimmed.
        for i, row in held.items():
            n = block.in_frame(i) if i < k else 0
            if n:
                view[start + i * size : start + i * size + n] = memoryview(row)[:n]
        block.done = True
        held.clear()
        frame.remaining -= 1

    def _complete(self, index: int, frame: _Frame, now_ns: int) -> None:
        self._give_up_through(index - 1)
        del self._frames[index]
        self._last_done = index
        st = self.stats
        st.frames_complete += 1
        st.frames_recovered += frame.recovered
        keyframe = frame.keyframe
        if keyframe:
            self._need_keyframe = False
            self._last_request_ns = None
        elif self._need_keyframe:
            st.frames_dropped += 1
            self._want_keyframe(now_ns)
            return
        self._last_released = index
        frame.view.release()  # the buffer leaves with the event, free to resize
        self._events.append(
            FrameReady(
                frame_index=index, data=frame.buf, keyframe=keyframe,
                pts_ns=frame.key[2], host_us=frame.key[4], first_datagram_ns=frame.first_ns, completed_ns=now_ns,
                recovered=frame.recovered,
            )
        )

    def _give_up_through(self, index: int) -> None:
        """Everything up to ``index`` that is not done is lost."""
        if index <= self._last_done:
            return
        for i in [i for i in self._frames if i <= index]:
            del self._frames[i]
        self._recently_lost.extend(range(max(self._last_done + 1, index + 1 - RECENTLY_LOST), index + 1))
        self.stats.frames_lost += index - self._last_done
        self._last_done = index
        self._need_keyframe = True

    def _want_keyframe(self, now_ns: int) -> None:
        if self._last_request_ns is not None and now_ns - self._last_request_ns < self._keyframe_interval_ns:
            return
        self._last_request_ns = now_ns
        self.stats.keyframe_requests += 1
        self._events.append(KeyframeNeeded(last_frame=self._last_released))
