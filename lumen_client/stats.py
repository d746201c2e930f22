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
    """Splits capture -> reassembled into the host's share and the network's, per frame.

    The host's processing time (capture to the video plane, extended mode's frame-timing
    datagram) and the frame itself travel apart: the datagram is sent after the frame's
    last packet, so it usually lands second. Whichever of the two arrives second records
    the frame's split; an unmatched one waits among the last MAX_HOST_TIMES.
    """

    def __init__(self) -> None:
        self._times: OrderedDict[int, int] = OrderedDict()  # frame_index -> host us
        self._frames: OrderedDict[int, int] = OrderedDict()  # frame_index -> reassembled ns
        self._lock = threading.Lock()
        self.host = Latency()  # capture -> handed to the video plane (encode and hand-off)
        self.network = Latency()  # handed to the video plane -> frame whole on the client
        self.queue = QueueDelay()

    def put(self, frame_index: int, host_us: int) -> None:
        """The host's time for a frame (event loop thread)."""
        with self._lock:
            reassembled = self._frames.pop(frame_index, None)
            if reassembled is None:
                self._remember(self._times, frame_index, host_us)
                return
        self._record(host_us, reassembled)

    def frame(self, frame_index: int, reassembled_ns: int) -> None:
        """A frame was whole ``reassembled_ns`` after its capture (decoder thread)."""
        with self._lock:
            host_us = self._times.pop(frame_index, None)
            if host_us is None:
                self._remember(self._frames, frame_index, reassembled_ns)
                return
        self._record(host_us, reassembled_ns)

    def _record(self, host_us: int, reassembled_ns: int) -> None:
        self.host.add(host_us * 1000)
        self.network.add(reassembled_ns - host_us * 1000)
        self.queue.add(reassembled_ns - host_us * 1000)

    @staticmethod
    def _remember(table: OrderedDict[int, int], key: int, value: int) -> None:
        table[key] = value
        while len(table) > MAX_HOST_TIMES:
            table.popitem(last=False)


# Freezes as WebRTC counts them (its "freezeCount"): a gap between two shown frames of at
# least max(3 x the average frame interval, the average + 150 ms). The average is over the
# last FREEZE_WINDOW intervals that were not freezes themselves.
FREEZE_WINDOW: Final = 30
FREEZE_MIN_EXTRA_S: Final = 0.150
MAX_FREEZES_KEPT: Final = 256


class FreezeMeter:
    """Inter-frame gaps of the decoded pictures, fed with the time of each (seconds)."""

    def __init__(self) -> None:
        self._last: float | None = None
        self._first: float | None = None
        self._intervals: deque[float] = deque(maxlen=FREEZE_WINDOW)
        self._sum = 0.0
        self._lock = threading.Lock()
        self.freezes: deque[tuple[float, float]] = deque(maxlen=MAX_FREEZES_KEPT)  # (start, duration)
        self.count = 0
        self.total_s = 0.0

    def frame(self, now: float) -> None:
        with self._lock:
            last, self._last = self._last, now
            if last is None:
                self._first = now
                return
            gap = now - last
            intervals = self._intervals
            if len(intervals) >= 3:
                average = self._sum / len(intervals)
                if gap >= max(3 * average, average + FREEZE_MIN_EXTRA_S):
                    self.count += 1
                    self.total_s += gap
                    self.freezes.append((last, gap))
                    return
            if len(intervals) == intervals.maxlen:
                self._sum -= intervals[0]
            intervals.append(gap)
            self._sum += gap

    def summary(self, now: float) -> dict[str, object]:
        with self._lock:
            span = now - self._first if self._first is not None else 0.0
            return {
                "count": self.count,
                "per_minute": round(self.count * 60 / span, 2) if span > 0 else 0.0,
                "mean_s": round(self.total_s / self.count, 3) if self.count else 0.0,
                "longest_s": round(max((d for _, d in self.freezes), default=0.0), 3),
                "total_s": round(self.total_s, 3),
                "freezes": [[round(start - self._first, 3), round(d, 3)] for start, d in self.freezes]
                if self._first is not None else [],
            }


# Intervals whose medians make the path's baseline: the least of the last half minute.
QUEUE_BASELINE_INTERVALS: Final = 30


class QueueDelay:
    """How much longer than the path's least the frames of the last interval took on
    the network: the median of the interval, less the lowest median of recent ones.
    A queue building at a bottleneck shows here before loss does."""

    def __init__(self) -> None:
        self._samples: list[int] = []
        self._medians: deque[int] = deque(maxlen=QUEUE_BASELINE_INTERVALS)
        self._lock = threading.Lock()

    def add(self, ns: int) -> None:
        with self._lock:
            self._samples.append(ns)

    def interval_us(self) -> int | None:
        """Close the interval: its queue delay in us (None if no frame was timed)."""
        with self._lock:
            samples, self._samples = self._samples, []
        if not samples:
            return None
        median = int(np.median(samples))
        self._medians.append(median)
        return max(0, median - min(self._medians)) // 1000
