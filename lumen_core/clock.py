"""The offset between the host's wall clock (the clock of every pts) and the client's.

From a Ping sent at client time t0 and its Pong received at t1 carrying the host's wall
clock h: RTT = t1 - t0, and host clock - client clock = h - (t0 + t1) / 2. Of the recent
samples, the one with the smallest RTT wins (its midpoint guess is the tightest).
Without Pongs (base mode, whose host cannot answer pings) the offset is whatever the
caller seeds it with: the client's own wall-clock offset, which is right only when host
and client share a machine, as M3's latency figures assume.
"""

from __future__ import annotations

from collections import deque
from typing import Final

SAMPLES_KEPT: Final = 16


class ClockOffset:
    """One writer, any readers: the session adds samples on its own thread, and each add
    publishes the best sample as one immutable tuple, so decoders and the overlay read
    it from theirs without a lock (an attribute read sees the old tuple or the new one)."""

    def __init__(self, seed_ns: int = 0) -> None:
        self._samples: deque[tuple[int, int]] = deque(maxlen=SAMPLES_KEPT)  # (rtt, offset)
        self._seed_ns = seed_ns
        self._best: tuple[int, int] | None = None

    def add(self, sent_ns: int, peer_ns: int, received_ns: int) -> None:
        self._samples.append((received_ns - sent_ns, peer_ns - (sent_ns + received_ns) // 2))
        self._best = min(self._samples)

    @property
    def measured(self) -> bool:
        return self._best is not None

    @property
    def offset_ns(self) -> int:
        """Host clock minus client clock: subtract it from a pts to get client time."""
        best = self._best
        return best[1] if best is not None else self._seed_ns

    @property
    def rtt_ns(self) -> int | None:
        best = self._best
        return best[0] if best is not None else None
