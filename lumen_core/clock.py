"""The offset between the host's wall clock (the clock of every pts) and the client's.

From a Ping sent at client time t0 and its Pong received at t1 carrying the host's wall
clock h: RTT = t1 - t0, and host clock - client clock = h - (t0 + t1) / 2. Of the recent
samples, the one with the smallest RTT wins (its midpoint guess is the tightest).
Without Pongs (base mode, whose host cannot answer pings) the offset is whatever the
caller seeds it with: the client's own wall-clock offset, which is right only when host
and client share a machine, as M3's latency figures assume.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Final

SAMPLES_KEPT: Final = 16


class ClockOffset:
    """Thread-safe: the session adds samples on its thread, decoders read the offset."""

    def __init__(self, seed_ns: int = 0) -> None:
        self._samples: deque[tuple[int, int]] = deque(maxlen=SAMPLES_KEPT)  # (rtt, offset)
        self._seed_ns = seed_ns
        self._lock = threading.Lock()

    def add(self, sent_ns: int, peer_ns: int, received_ns: int) -> None:
        rtt = received_ns - sent_ns
        with self._lock:
            self._samples.append((rtt, peer_ns - (sent_ns + received_ns) // 2))

    @property
    def measured(self) -> bool:
        with self._lock:
            return bool(self._samples)

    @property
    def offset_ns(self) -> int:
        """Host clock minus client clock: subtract it from a pts to get client time."""
        with self._lock:
            return min(self._samples)[1] if self._samples else self._seed_ns

    @property
    def rtt_ns(self) -> int | None:
        with self._lock:
            return min(self._samples)[0] if self._samples else None
