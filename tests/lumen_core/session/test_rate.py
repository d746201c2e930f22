"""The host's rate control, sans-IO: reports in, decisions out, a fake clock."""

from __future__ import annotations

from math import comb

import pytest

from lumen_core.fec.engine import parity_count
from lumen_core.session.rate import BLOCK_LOSS_TARGET, MIN_KBPS, RateController, block_loss, parity_percent


def feed(rc: RateController, intervals: list[tuple[float, int]], start: float = 0.0,
         block_shards: int | None = None) -> list[int]:
    """(loss, queue delay us) per one-second report, 20 blocks of ``block_shards`` data
    shards sent in each; the bitrate after each."""
    sent = received = 0
    rc.report(sent, received, 0, start)
    blocks = (0, 0)
    out = []
    for n, (loss, delay) in enumerate(intervals, 1):
        sent += 1000
        received += round(1000 * (1 - loss))
        if block_shards is not None:
            blocks = (blocks[0] + 20, blocks[1] + 20 * block_shards)
        rc.report(sent, received, delay, start + n, blocks if block_shards is not None else None)
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


@pytest.mark.parametrize(("k", "m", "loss"), [(1, 2, 0.05), (35, 7, 0.05), (35, 11, 0.05), (100, 30, 0.1),
                                              (200, 55, 0.2), (10, 0, 0.01), (4, 4, 0.5)])
def test_block_loss_is_the_binomial_tail(k: int, m: int, loss: float) -> None:
    n = k + m
    exact = sum(comb(n, x) * loss**x * (1 - loss) ** (n - x) for x in range(m + 1, n + 1))
    assert block_loss(k, m, loss) == pytest.approx(exact, rel=1e-6, abs=1e-15)
    assert block_loss(k, m, 0.0) == 0.0 and block_loss(k, m, 1.0) == 1.0


@pytest.mark.parametrize("k", [1, 3, 10, 35, 120, 200])
@pytest.mark.parametrize("loss", [0.001, 0.02, 0.05, 0.1, 0.25])
def test_parity_percent_is_the_least_that_meets_the_target(k: int, loss: float) -> None:
    percent = parity_percent(k, loss)
    capped = percent == 100 and block_loss(k, parity_count(k, 100), loss) > BLOCK_LOSS_TARGET
    assert capped or block_loss(k, parity_count(k, percent), loss) <= BLOCK_LOSS_TARGET
    assert percent == 0 or block_loss(k, parity_count(k, percent - 1), loss) > BLOCK_LOSS_TARGET


def test_fec_grows_with_random_loss_but_not_with_congestion() -> None:
    rc = RateController(10_000, 20, now=0.0)
    feed(rc, [(0.05, 0)], block_shards=35)
    # 3 x loss + 10 would give 25 %: 9 shards, a block in 20 000 lost. This is 1 in 100 000.
    assert rc.fec_percent == parity_percent(35, 0.05) == 29  # 11 shards
    feed(rc, [(0.0, 0)] * 5, start=5, block_shards=35)
    assert rc.fec_percent == 20  # stepping down, never below the Welcome's
    rc = RateController(10_000, 20, now=0.0)
    feed(rc, [(0.3, 80_000)] * 3)
    assert rc.fec_percent == 20 and rc.bitrate_kbps == round(10_000 * 0.85 ** 3)
    feed(rc, [(0.0, 0)], start=5)
    assert rc.fec_loss == 0.0 and rc.fec_percent == 20  # congestion's loss is not remembered as the path's


def test_a_quiet_interval_of_a_lossy_path_keeps_most_of_the_parity() -> None:
    rc = RateController(20_000, 20, now=0.0)
    feed(rc, [(0.06, 0), (0.06, 0), (0.03, 0)], block_shards=35)
    assert rc.fec_loss == pytest.approx(0.8 * 0.06 + 0.2 * 0.03, abs=1e-3)
    assert rc.fec_percent == parity_percent(35, rc.fec_loss) > parity_percent(35, 0.03)


def test_the_block_size_sets_the_percent() -> None:
    small, big = RateController(20_000, 0, now=0.0), RateController(20_000, 0, now=0.0)
    feed(small, [(0.05, 0)] * 3, block_shards=5)  # 40 points a report at most
    feed(big, [(0.05, 0)] * 3, block_shards=150)
    assert small.fec_percent == parity_percent(5, 0.05) == 81  # 5 recovery shards for 5
    assert big.fec_percent == parity_percent(150, 0.05) < 20


def test_reports_without_counts_or_with_too_few_packets_change_nothing() -> None:
    rc = RateController(10_000, 20, now=0.0)
    assert rc.report(None, None, None, 1.0) is None
    assert rc.report(0, 0, 0, 1.0) is None and rc.report(10, 0, 0, 2.0) is None
    assert rc.bitrate_kbps == 10_000 and list(rc.history) == []
