"""The client's latency statistics: percentiles of bounded samples, the host/network split
whichever half arrives first, WebRTC's freeze rule, and the queue delay over the baseline."""

from __future__ import annotations

from lumen_client.stats import MAX_HOST_TIMES, MAX_SAMPLES, FreezeMeter, HostTimes, Latency, QueueDelay


def test_percentiles_of_the_newest_samples() -> None:
    latency = Latency()
    assert latency.percentiles_ms() is None
    for ms in range(1, 101):
        latency.add(ms * 1_000_000)
    assert latency.percentiles_ms() == {"p50": 50.5, "p95": 95.05, "p99": 99.01, "samples": 100}
    for _ in range(MAX_SAMPLES):
        latency.add(7_000_000)
    assert latency.percentiles_ms() == {"p50": 7.0, "p95": 7.0, "p99": 7.0, "samples": MAX_SAMPLES}


def test_a_frames_split_is_recorded_whichever_half_comes_second() -> None:
    times = HostTimes()
    times.put(1, host_us=3000)  # the timing first
    times.frame(1, reassembled_ns=5_000_000)
    times.frame(2, reassembled_ns=9_000_000)  # the frame first
    times.put(2, host_us=4000)
    assert times.host.percentiles_ms()["samples"] == 2  # type: ignore[index]
    assert times.network.percentiles_ms() == {"p50": 3.5, "p95": 4.85, "p99": 4.97, "samples": 2}


def test_unmatched_halves_are_forgotten_beyond_the_bound() -> None:
    times = HostTimes()
    for i in range(MAX_HOST_TIMES + 10):
        times.put(i, host_us=1000)
    times.frame(0, reassembled_ns=2_000_000)  # its timing fell off: this waits instead
    times.frame(MAX_HOST_TIMES + 9, reassembled_ns=2_000_000)
    assert times.host.percentiles_ms()["samples"] == 1  # type: ignore[index]


def test_a_gap_of_three_intervals_and_150_ms_more_is_a_freeze() -> None:
    meter = FreezeMeter()
    t = 0.0
    for _ in range(10):
        meter.frame(t)
        t += 1 / 60
    meter.frame(t + 0.100)  # 117 ms: three intervals, but not average + 150 ms
    t += 0.100
    meter.frame(t + 0.400)  # a 400 ms gap: a freeze
    t += 0.400
    summary = meter.summary(t)
    assert summary["count"] == 1 and summary["longest_s"] == 0.4 and summary["total_s"] == 0.4
    assert summary["freezes"] == [[round(t - 0.4, 3), 0.4]]
    assert FreezeMeter().summary(1.0) == {"count": 0, "per_minute": 0.0, "mean_s": 0.0, "longest_s": 0.0,
                                          "total_s": 0.0, "freezes": []}


def test_the_queue_delay_is_the_median_over_the_least_recent_median() -> None:
    queue = QueueDelay()
    assert queue.interval_us() is None
    for ns in (10_000_000, 11_000_000, 12_000_000):
        queue.add(ns)
    assert queue.interval_us() == 0  # the first interval is the baseline
    for ns in (14_000_000, 15_000_000, 30_000_000):
        queue.add(ns)
    assert queue.interval_us() == 4000  # median 15 ms over the 11 ms baseline
