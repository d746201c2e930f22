"""The host's rate control, sans-IO: reports in, decisions out, a fake clock."""

from __future__ import annotations

from lumen_core.session.rate import MIN_KBPS, RateController


def feed(rc: RateController, intervals: list[tuple[float, int]], start: float = 0.0) -> list[int]:
    """(loss, queue delay us) per one-second report; the bitrate after each."""
    sent = received = 0
    rc.report(sent, received, 0, start)
    out = []
    for n, (loss, delay) in enumerate(intervals, 1):
        sent += 1000
        received += round(1000 * (1 - loss))
        rc.report(sent, received, delay, start + n)
        out.append(rc.bitrate_kbps)
    return out


def test_heavy_loss_cuts_the_rate_as_libwebrtc_does_and_a_clean_path_brings_it_back() -> None:
    rc = RateController(10_000, 20, now=0.0)
    rates = feed(rc, [(0.5, 0)] * 3 + [(0.0, 0)] * 15)
    assert rates[:3] == [7500, 5625, 4219]  # x (1 - 0.5 x 50 %) each time
    assert rates[3] == 4556  # +8 % once the hold after a decrease is over
    assert rates[-1] == 10_000 and max(rates) == 10_000  # +8 % a report, never past the session's bitrate


def test_moderate_loss_holds_and_small_loss_is_not_a_reason_to_slow_down() -> None:
    rc = RateController(10_000, 20, now=0.0)
    assert feed(rc, [(0.05, 0)] * 5) == [10_000] * 5
    assert feed(rc, [(0.3, 0)] * 30 + [(0.05, 0)] * 3, start=10) [-1] >= MIN_KBPS


def test_fec_grows_with_random_loss_but_not_with_congestion() -> None:
    rc = RateController(10_000, 20, now=0.0)
    feed(rc, [(0.10, 0)])
    assert rc.fec_percent == 40  # 3 x 10 % + 10
    feed(rc, [(0.0, 0)] * 5, start=5)
    assert rc.fec_percent == 20  # stepping down, never below the Welcome's
    rc = RateController(10_000, 20, now=0.0)
    feed(rc, [(0.3, 80_000)] * 3)
    assert rc.fec_percent == 20 and rc.bitrate_kbps == round(10_000 * 0.85 ** 3)


def test_reports_without_counts_or_with_too_few_packets_change_nothing() -> None:
    rc = RateController(10_000, 20, now=0.0)
    assert rc.report(None, None, None, 1.0) is None
    assert rc.report(0, 0, 0, 1.0) is None and rc.report(10, 0, 0, 2.0) is None
    assert rc.bitrate_kbps == 10_000 and list(rc.history) == []
