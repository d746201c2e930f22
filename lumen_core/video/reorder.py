"""Whole frames back in frame order, sans-IO: a short wait for stragglers.

The reassembler emits a frame the moment it is whole, and with jitter or reordering a
newer frame can be whole first. A decoder fed out of order must treat the older frame
as lost (its P-frames would decode into garbage). So frames wait here, in order, for the
one that is missing, until whichever comes first: ``max_frames`` newer frames are
waiting, ``max_wait_ns`` has passed since the first of them came, or a keyframe
arrives (nothing older is needed after it). Then the missing frames are given up
(``lost``) and what waited goes on; one that turns up later is ``late`` and dropped.

Drive it with ``push(frame, now_ns)`` for each frame from the reassembler and
``poll(now_ns)`` when ``deadline_ns()`` passes; both return the frames to decode, oldest
first.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from .reassembler import FrameReady

# A few frames, or tens of milliseconds: what 20 ms of jitter needs, and a bound on what
# a really lost frame costs before the decoder hears of it.
REORDER_FRAMES: Final = 4
REORDER_WAIT_NS: Final = 40_000_000
_WRAP: Final = 0xFFFFFFFF
_HALF: Final = 0x80000000


@dataclass(slots=True)
class OrderStats:
    in_order: int = 0  # released as they came
    reordered: int = 0  # whole before an older frame, released once it came
    lost: int = 0  # never whole in time: given up
    late: int = 0  # whole after its turn was given up: dropped
    skipped: int = 0  # waiting when a newer keyframe came: not needed any more


class FrameOrder:
    def __init__(self, max_frames: int = REORDER_FRAMES, max_wait_ns: int = REORDER_WAIT_NS) -> None:
        self._max_frames = max_frames
        self._max_wait_ns = max_wait_ns
        self._next: int | None = None
        self._held: dict[int, FrameReady] = {}
        self._waiting_since: int | None = None  # when the first frame began waiting for a gap
        self.stats = OrderStats()

    def push(self, frame: FrameReady, now_ns: int) -> list[FrameReady]:
        index = frame.frame_index
        if self._next is None:
            if not frame.keyframe:
                # The stream starts at a keyframe: a frame whole before it waits for it too
                # (jitter can complete frame 1 before frame 0), within the same bounds.
                self._held[index] = frame
                if self._waiting_since is None:
                    self._waiting_since = now_ns
                return self.poll(now_ns)
            self._next = index
        ahead = (index - self._next) & _WRAP
        if ahead >= _HALF:
            self.stats.late += 1
            return []
        if frame.keyframe and ahead:
            self.stats.skipped += len(self._held)
            self.stats.lost += ahead - len(self._held)
            self._held.clear()
            self._next = index
            ahead = 0
        if ahead == 0:
            self.stats.in_order += 1
            self._next = (index + 1) & _WRAP
            return [frame, *self._release()]
        self._held[index] = frame
        if self._waiting_since is None:
            self._waiting_since = now_ns
        return self.poll(now_ns)

    def poll(self, now_ns: int) -> list[FrameReady]:
        out: list[FrameReady] = []
        while self._held and (len(self._held) >= self._max_frames or self._waited(now_ns)):
            ref = self._next if self._next is not None else next(iter(self._held))
            oldest = min(self._held, key=lambda i: (i - ref + _HALF) & _WRAP)
            if self._next is not None:
                self.stats.lost += (oldest - self._next) & _WRAP
            self._next = oldest
            self._waiting_since = now_ns if len(self._held) > 1 else None
            out.extend(self._release())
        return out

    def deadline_ns(self) -> int | None:
        return None if self._waiting_since is None else self._waiting_since + self._max_wait_ns

    def _waited(self, now_ns: int) -> bool:
        return self._waiting_since is not None and now_ns - self._waiting_since >= self._max_wait_ns

    def _release(self) -> list[FrameReady]:
        """The held frames that now follow in order."""
        out = []
        while self._next in self._held:
            out.append(self._held.pop(self._next))
            self.stats.reordered += 1
            self._next = (self._next + 1) & _WRAP
        if not self._held:
            self._waiting_since = None
        return out
