"""Latency samples and the client's end-of-session report."""

from __future__ import annotations

import threading
from collections import deque
from typing import Final

import numpy as np

# Per-frame samples kept: a minute at 60 fps. Older ones fall off.
MAX_SAMPLES: Final = 4096


class Latency:
    """Thread-safe samples of one latency, in ns."""

    def __init__(self) -> None:
        self._samples: deque[int] = deque(maxlen=MAX_SAMPLES)
        self._lock = threading.Lock()

    def add(self, ns: int) -> None:
        with self._lock:
            self._samples.append(ns)

    def percentiles_ms(self) -> dict[str, float] | None:
        with self._lock:
            if not self._samples:
                return None
            values = np.array(self._samples, dtype=np.float64) / 1e6
        p50, p95, p99 = np.percentile(values, [50, 95, 99])
        return {"p50": round(float(p50), 3), "p95": round(float(p95), 3), "p99": round(float(p99), 3),
                "samples": int(values.size)}


class ClockOffset:
    """Host clock minus client clock, from ping/pong: the sample with the smallest RTT
    of the recent ones wins (its midpoint guess is the tightest)."""

    def __init__(self, window: int = 16) -> None:
        self._samples: deque[tuple[int, int]] = deque(maxlen=window)  # (rtt, offset)
        self._lock = threading.Lock()

    def add(self, sent_ns: int, peer_ns: int, received_ns: int) -> None:
        rtt = received_ns - sent_ns
        with self._lock:
            self._samples.append((rtt, peer_ns - (sent_ns + received_ns) // 2))

    @property
    def offset_ns(self) -> int:
        with self._lock:
            return min(self._samples)[1] if self._samples else 0

    @property
    def rtt_ns(self) -> int | None:
        with self._lock:
            return min(self._samples)[0] if self._samples else None
