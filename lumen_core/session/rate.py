"""The host's rate control (extended mode), sans-IO: the client's reports in, the
encoder's bitrate and the FEC percent out.

Every StatsReport (twice a second) carries how many video packets the host had
sent by then (the stream_seq span) and how many came, and how far the last interval's
frames were delayed beyond the path's least (a queue building). Between two reports:

- a queue delay over QUEUE_DELAY_S is congestion: the bitrate drops to 85 %;
- otherwise libwebrtc's loss rule: under 2 % loss +8 % (up to the session's bitrate),
  2-10 % hold, over 10 % times (1 - 0.5 x loss), never below MIN_KBPS;
- FEC follows loss that is not congestion (no queue behind it): the smallest percent
  at which a block of the stream's mean size is lost less than once in
  1 / BLOCK_LOSS_TARGET blocks, each datagram lost independently at the loss rate
  (binomial). That rate follows a rise at once and a fall slowly, since one quiet half
  second of a lossy path is chance, not a healed path. Up 40 points a report at most,
  never under the Welcome's percent, stepping down slowly once the loss is gone. Under
  congestion more parity would only deepen the queue, so FEC does not grow.

A fixed rule such as 3 x loss + 10 points is not enough for big frames: at 5 % loss a
35-shard block with 25 % parity (9 shards) is lost once in 20 000, a frame a run of
five minutes at 60 fps, and each costs a keyframe's worth of frozen picture.

A decrease is not followed by an increase within HOLD_AFTER_DECREASE_S: the loss a
decrease answered takes a report or two to clear.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Final

from ..fec.engine import parity_count

MIN_KBPS: Final = 500
QUEUE_DELAY_S: Final = 0.020
HOLD_AFTER_DECREASE_S: Final = 1.0
MIN_PACKETS: Final = 30  # an interval with fewer says nothing about loss
MAX_FEC_PERCENT: Final = 100
FEC_STEP_UP: Final = 40
FEC_STEP_DOWN: Final = 5
# Loss with less queue delay than this is the path's own, not a bottleneck's.
RANDOM_LOSS_DELAY_S: Final = 0.008
# A change the encoder is told about: at least this big, unless it reaches a bound.
MIN_CHANGE: Final = 0.05
HISTORY_KEPT: Final = 1000
# One block in this many may be lost to independent loss: a frame every half hour at
# 60 fps with one block a frame.
BLOCK_LOSS_TARGET: Final = 1e-5
# Each report, the loss FEC is sized for falls at most to this share of itself (the rest
# from the new interval): half-life about 1.5 s at two reports a second.
FEC_LOSS_KEPT: Final = 0.8
DEFAULT_BLOCK_SHARDS: Final = 32  # before the host has said what its blocks are


def block_loss(k: int, m: int, loss: float) -> float:
    """How likely a block of k data and m recovery shards is lost: more than m of its
    k + m datagrams lost, each independently with probability ``loss``."""
    if loss <= 0.0:
        return 0.0
    if loss >= 1.0:
        return 1.0
    n, ratio = k + m, loss / (1 - loss)
    term = (1 - loss) ** n  # P(none lost), then P(x lost) for x = 1..m
    kept = term
    for x in range(m):
        term *= (n - x) / (x + 1) * ratio
        kept += term
    return max(0.0, 1.0 - kept)


def parity_percent(k: int, loss: float, target: float = BLOCK_LOSS_TARGET) -> int:
    """The smallest percent (at most MAX_FEC_PERCENT) whose ``ceil(k * percent / 100)``
    recovery shards keep a block of k data shards' loss at ``target`` or below."""
    k = max(1, k)
    most = parity_count(k, MAX_FEC_PERCENT)
    if block_loss(k, most, loss) > target:
        return MAX_FEC_PERCENT
    low, high = 0, most  # block_loss falls as m grows: the least m that meets the target
    while low < high:
        mid = (low + high) // 2
        if block_loss(k, mid, loss) <= target:
            high = mid
        else:
            low = mid + 1
    return 100 * (low - 1) // k + 1 if low else 0  # the least percent that gives m = low


@dataclass(frozen=True, slots=True)
class RateDecision:
    bitrate_kbps: int
    fec_percent: int
    reason: str
    loss: float


class RateController:
    def __init__(self, max_kbps: int, base_fec_percent: int, now: float) -> None:
        self.max_kbps = max_kbps
        self.started = now
        self.base_fec = base_fec_percent
        self.target_kbps = float(max_kbps)
        self.bitrate_kbps = max_kbps  # what the encoder was last told
        self.fec_percent = base_fec_percent
        self._last = (0, 0)  # the first report's loss is over the session so far
        self._last_decrease = now - HOLD_AFTER_DECREASE_S
        self.loss = 0.0
        self.fec_loss = 0.0  # the loss the FEC is sized for
        self.block_shards = DEFAULT_BLOCK_SHARDS
        self._last_blocks = (0, 0)
        # (time, kbps, fec %, reason), each change; a session of months keeps the latest.
        self.history: deque[tuple[float, int, int, str]] = deque(maxlen=HISTORY_KEPT)

    def pace_bps(self, ceiling_bps: int) -> int:
        """How fast a frame's datagrams should leave: the configured ceiling while the
        path takes the whole bitrate; once the rate control has backed off, twice the
        stream's rate with its FEC, so a keyframe does not overflow the bottleneck's
        queue that the back-off was about (the frames behind it wait their turn)."""
        if self.bitrate_kbps >= self.max_kbps:
            return ceiling_bps
        return min(ceiling_bps, int(2 * self.bitrate_kbps * 1000 * (1 + self.fec_percent / 100)))

    def report(self, expected: int | None, received: int | None, queue_delay_us: int | None,
               now: float, blocks: tuple[int, int] | None = None) -> RateDecision | None:
        """A client report: the decision if the bitrate or FEC changes, else None.
        ``blocks``: the FEC blocks and data shards the host has sent so far, whose mean
        since the last report sizes the FEC."""
        if blocks is not None:
            last_blocks, self._last_blocks = self._last_blocks, blocks
            count = blocks[0] - last_blocks[0]
            if count > 0:
                self.block_shards = max(1, round((blocks[1] - last_blocks[1]) / count))
        if expected is None or received is None:
            return None
        last, self._last = self._last, (expected, received)
        sent, came = expected - last[0], received - last[1]
        if sent < MIN_PACKETS:
            return None
        self.loss = loss = min(1.0, max(0.0, 1 - came / sent))
        congested = queue_delay_us is not None and queue_delay_us / 1e6 > QUEUE_DELAY_S
        reason = "clean path"
        if congested:
            self.target_kbps *= 0.85
            self._last_decrease = now
            reason = f"queue delay {(queue_delay_us or 0) / 1000:.0f} ms"
        elif loss > 0.10:
            self.target_kbps *= 1 - 0.5 * loss
            self._last_decrease = now
            reason = f"loss {loss:.0%}"
        elif loss >= 0.02:
            reason = f"loss {loss:.0%}: holding"
        elif now - self._last_decrease >= HOLD_AFTER_DECREASE_S:
            self.target_kbps *= 1.08
        self.target_kbps = min(float(self.max_kbps), max(float(MIN_KBPS), self.target_kbps))
        # Only loss with no queue behind it is the path's own: parity then helps. Loss at
        # a full queue is congestion, and more parity would only deepen it.
        random_loss = queue_delay_us is not None and queue_delay_us / 1e6 < RANDOM_LOSS_DELAY_S
        seen = loss if random_loss else 0.0
        self.fec_loss = max(seen, FEC_LOSS_KEPT * self.fec_loss + (1 - FEC_LOSS_KEPT) * seen)
        wanted = max(self.base_fec, parity_percent(self.block_shards, self.fec_loss))
        if wanted > self.fec_percent:
            if random_loss:
                self.fec_percent = min(wanted, self.fec_percent + FEC_STEP_UP)
        elif not congested:
            self.fec_percent = max(wanted, self.fec_percent - FEC_STEP_DOWN)  # down slowly: loss comes in bursts
        kbps = round(self.target_kbps)
        bound = kbps in (self.max_kbps, MIN_KBPS)
        changed_rate = kbps != self.bitrate_kbps and (bound or abs(kbps - self.bitrate_kbps) >= MIN_CHANGE *
                                                      self.bitrate_kbps)
        changed_fec = self.fec_percent != (self.history[-1][2] if self.history else self.base_fec)
        if not (changed_rate or changed_fec):
            return None
        if changed_rate:
            self.bitrate_kbps = kbps
        self.history.append((now, self.bitrate_kbps, self.fec_percent, reason))
        return RateDecision(self.bitrate_kbps, self.fec_percent, reason, loss)
