"""The one-slot handoff between pipeline threads: latest frame wins.

A producer ``put``s; if the slot still holds an item nobody took, the new one replaces
it and the old one is counted as skipped. The consumer is woken only when the slot goes
from empty to full (scrcpy's frame_buffer). Latency can never pile up in it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class Closed(Exception):
    """The slot was closed: the consumer should stop."""


class _Handoff(Generic[T]):
    """What both handoffs share: one condition, a consumer that waits in ``take``, and
    ``close`` to wake it for good. Subclasses say when an item is ready and which."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._closed = False
        self.skipped = 0

    def _ready(self) -> bool:
        raise NotImplementedError

    def _pop(self) -> T:
        raise NotImplementedError

    def poll(self) -> T | None:
        """The next item if one is ready, without waiting (a consumer on an event loop)."""
        with self._cond:
            return self._pop() if self._ready() else None

    def take(self, timeout_s: float | None = None) -> T | None:
        """The next item, waiting up to ``timeout_s``; None on timeout; Closed if closed."""
        with self._cond:
            if not self._ready() and not self._closed:
                self._cond.wait(timeout_s)
            if self._ready():
                return self._pop()
            if self._closed:
                raise Closed
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


class LatestSlot(_Handoff[T]):
    """``on_filled`` is called (on the producer's thread, outside the lock) each time the
    slot goes from empty to full: a consumer that is not a thread (the GL window, woken
    through Qt) is told then, and only then."""

    def __init__(self, on_filled: Callable[[], None] | None = None) -> None:
        super().__init__()
        self._item: T | None = None
        self._full = False
        self._on_filled = on_filled
        self.received = 0

    def put(self, item: T) -> bool:
        """Hand ``item`` over; True if it replaced one that was never taken."""
        with self._cond:
            replaced = self._full
            self.received += 1
            if replaced:
                self.skipped += 1
            self._item, self._full = item, True
            if not replaced:
                self._cond.notify()
        if not replaced and self._on_filled is not None:
            self._on_filled()
        return replaced

    def _ready(self) -> bool:
        return self._full

    def _pop(self) -> T:
        item, self._item, self._full = self._item, None, False
        return cast(T, item)  # full: the slot holds a T (which may itself be None)


# Compressed frames waiting for the decoder: 16, as lumen M3's own connector queues. A
# decoder that keeps up holds none; one stalled for a moment (a pause of the whole
# process) catches up at decode speed (a few ms a frame) instead of losing every frame
# up to the next keyframe, which an M3 host never sends on request.
MAX_QUEUED_FRAMES = 16


class FrameQueue(_Handoff[T]):
    """The handoff from the reassembler to the decoder: oldest first, never more than
    ``MAX_QUEUED_FRAMES``.

    Unlike pictures, compressed frames are a chain: replacing one that was not decoded
    corrupts every frame up to the next keyframe. So frames that arrive together (a
    burst) wait their turn. Latency stays bounded: a keyframe makes every older queued
    frame worthless, and they are dropped (so a queued keyframe is always first); a full
    queue drops everything, and the decoder waits for a keyframe. Drops are counted in
    ``skipped``.
    """

    def __init__(self, limit: int = MAX_QUEUED_FRAMES) -> None:
        super().__init__()
        self._items: deque[T] = deque()
        self._limit = limit

    def put(self, item: T, *, keyframe: bool = False) -> int:
        """Queue ``item``; how many older frames it made the queue drop."""
        with self._cond:
            dropped = 0
            if keyframe or len(self._items) >= self._limit:
                dropped = len(self._items)
                self._items.clear()
            self.skipped += dropped
            self._items.append(item)
            self._cond.notify()
            return dropped

    def _ready(self) -> bool:
        return bool(self._items)

    def _pop(self) -> T:
        return self._items.popleft()
