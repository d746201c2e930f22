"""The host-minus-client clock offset from Ping/Pong samples: the tightest sample wins."""

from __future__ import annotations

from lumen_core.clock import SAMPLES_KEPT, ClockOffset


def test_without_samples_the_seed_is_the_offset() -> None:
    clock = ClockOffset(seed_ns=123)
    assert not clock.measured and clock.offset_ns == 123 and clock.rtt_ns is None


def test_the_midpoint_of_the_smallest_rtt_wins() -> None:
    clock = ClockOffset(seed_ns=5)
    clock.add(sent_ns=1000, peer_ns=10_500, received_ns=2000)  # rtt 1000, offset 9000
    assert clock.measured and (clock.rtt_ns, clock.offset_ns) == (1000, 9000)
    clock.add(sent_ns=5000, peer_ns=99_999, received_ns=9000)  # a slow sample: ignored
    assert (clock.rtt_ns, clock.offset_ns) == (1000, 9000)
    clock.add(sent_ns=20_000, peer_ns=29_150, received_ns=20_300)  # tighter: it wins
    assert (clock.rtt_ns, clock.offset_ns) == (300, 9000)


def test_only_recent_samples_count() -> None:
    clock = ClockOffset()
    clock.add(0, 50, 10)  # the best ever, then pushed out by later ones
    for i in range(SAMPLES_KEPT):
        clock.add(1000 * i, 1000 * i + 7_000, 1000 * i + 100)
    assert clock.rtt_ns == 100 and clock.offset_ns == 6950
