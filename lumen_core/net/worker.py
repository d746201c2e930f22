"""``Worker``: how every pipeline thread is named, started, told to stop and joined.

A worker runs one loop on a daemon thread. ``stop`` sets ``stopping`` (the loop checks it,
or sleeps on it with ``wait``) and calls ``wake``, for a loop blocked somewhere else (a
handoff it waits on, closed so that it raises ``Closed``). ``join`` waits for the loop to
return; a worker never started joins at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable


class Worker:
    def __init__(self, name: str, loop: Callable[[], None], *, wake: Callable[[], None] | None = None) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._wake = wake
        self._thread = threading.Thread(target=loop, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Any thread: ask the loop to return."""
        self.stopping.set()
        if self._wake is not None:
            self._wake()

    def join(self, timeout_s: float | None = None) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout_s)

    @property
    def stopped(self) -> bool:
        return self.stopping.is_set()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``, waking early when told to stop; True if stopping."""
        return self.stopping.wait(seconds)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
