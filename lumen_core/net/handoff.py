"""The one-slot handoff between pipeline threads: latest frame wins.

A producer ``put``s; if the slot still holds an item nobody took, the new one replaces
it and the old one is counted as skipped. The consumer is woken only when the slot goes
from empty to full (scrcpy's frame_buffer). Latency can never pile up in it.
"""

from __future__ import annotations

import threading
from typing import Generic, TypeVar

T = TypeVar("T")


class Closed(Exception):
    """The slot was closed: the consumer should stop."""


class LatestSlot(Generic[T]):
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._item: T | None = None
        self._full = False
        self._closed = False
        self.skipped = 0

    def put(self, item: T) -> bool:
        """Hand ``item`` over; True if it replaced one that was never taken."""
        with self._cond:
            replaced = self._full
            if replaced:
                self.skipped += 1
            self._item, self._full = item, True
            if not replaced:
                self._cond.notify()
            return replaced

    def take(self, timeout_s: float | None = None) -> T | None:
        """The newest item, waiting up to ``timeout_s``; None on timeout; Closed if closed."""
        with self._cond:
            if not self._full and not self._closed:
                self._cond.wait(timeout_s)
            if self._full:
                item, self._item, self._full = self._item, None, False
                return item
            if self._closed:
                raise Closed
            return None

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
