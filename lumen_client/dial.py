"""Dialling a host: QUIC attempts started beside a stalled one, the first to connect wins.

A QUIC handshake whose first packets are lost waits out probe timeouts that double each
time (aioquic starts at 0.2 s: probes at 0.2, 0.6, 1.4, 3.0, 6.2 s), so on a lossy path a
single attempt can spend most of a connect window waiting for its next probe. A new
connection starts with fresh timers from a fresh port. It is started *beside* the waiting
attempt, never instead of it, because that one may be a packet away from finishing; the
first handshake to complete wins and the others are closed before anything is said on
them. On a clean path the first attempt completes in one round trip and no other starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

# When each attempt starts, in seconds from the first. Spread out rather than every
# probe: a host slow to answer (a busy CPU) is not handed a pile of handshakes at once.
ATTEMPTS_AT_S: Final = (0.0, 1.5, 3.5, 6.0)

P = TypeVar("P")


class DialTimeout(Exception):
    """No attempt completed its handshake within the window."""

    def __init__(self, attempts: int) -> None:
        super().__init__(f"{attempts} attempts, none connected")
        self.attempts = attempts


@dataclass
class Dialled(Generic[P]):
    """The connection that won, and how many attempts it took."""

    protocol: P
    attempts: int
    context: AbstractAsyncContextManager[P]
    losers: asyncio.Task[None]  # the other attempts, closing

    async def close(self) -> None:
        await self.context.__aexit__(None, None, None)
        await self.losers


async def dial(
    open_attempt: Callable[[], AbstractAsyncContextManager[P]],
    window_s: float,
    attempts_at_s: Sequence[float] = ATTEMPTS_AT_S,
) -> Dialled[P]:
    """Connect through ``open_attempt()`` (an unentered ``aioquic.asyncio.connect``, say),
    starting another at each of ``attempts_at_s`` still inside ``window_s`` until one
    connects. An attempt that fails outright (the host closed it, the network is
    unreachable) ends the dial with its error: a host that answers "no" is not asked
    again. Raises DialTimeout when the window ends first."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    give_up = start + window_s
    starts = [start + offset for offset in attempts_at_s if offset < window_s] or [start]
    pending: dict[asyncio.Task[P], AbstractAsyncContextManager[P]] = {}
    finished: list[asyncio.Task[P]] = []  # in the order they completed
    attempts = 0
    try:
        while True:
            while starts and starts[0] <= loop.time():
                starts.pop(0)
                context = open_attempt()
                task = asyncio.ensure_future(context.__aenter__())
                task.add_done_callback(finished.append)
                pending[task] = context
                attempts += 1
            if loop.time() >= give_up:
                raise DialTimeout(attempts)
            wake = min(starts[0], give_up) if starts else give_up
            await asyncio.wait(pending, timeout=wake - loop.time(), return_when=asyncio.FIRST_COMPLETED)
            # Done callbacks run in completion order: the first here is the first to connect.
            winner = next((task for task in finished if task.exception() is None), None)
            if winner is not None:
                context = pending.pop(winner)
                # Closing takes QUIC's closing period: the winner does not wait for it.
                return Dialled(winner.result(), attempts, context, asyncio.ensure_future(_abandon(pending)))
            if finished:  # none connected: the first to fail says why
                error = finished[0].exception()
                assert error is not None
                raise error
    except BaseException:
        await asyncio.shield(_abandon(pending))
        raise


async def _abandon(attempts: dict[asyncio.Task[P], AbstractAsyncContextManager[P]]) -> None:
    """Close attempts that did not win: cancelled mid-handshake, or connected too late."""
    for task in attempts:
        task.cancel()
    for task, context in attempts.items():
        try:
            await task
        except (asyncio.CancelledError, Exception):
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # this cleanup itself was cancelled (the loop is ending)
            continue  # it never connected, and cancelling it closed it
        await context.__aexit__(None, None, None)
