"""Latency samples, and the host's per-frame processing times as they arrive."""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from typing import Final

import numpy as np

# Per-frame samples kept: a minute at 60 fps. Older ones fall off.
MAX_SAMPLES: Final = 4096
# Frame timings waiting for their frame: a second at 240 fps; frames decode within it.
MAX_HOST_TIMES: Final = 256


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


class HostTimes:
    """frame_index -> the host's capture-to-video-plane time (us), from the extended
    mode's frame-timing datagrams; the decoder takes each one for its frame."""

    def __init__(self) -> None:
        self._times: OrderedDict[int, int] = OrderedDict()
        self._lock = threading.Lock()

    def put(self, frame_index: int, host_us: int) -> None:
        with self._lock:
            self._times[frame_index] = host_us
            while len(self._times) > MAX_HOST_TIMES:
                self._times.popitem(last=False)

    def take(self, frame_index: int) -> int | None:
        with self._lock:
            return self._times.pop(frame_index, None)
