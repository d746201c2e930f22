"""The handoffs between pipeline threads: the newest-picture slot and the decoder's
bounded frame queue."""

from __future__ import annotations

import threading

import pytest

from lumen_core.net.handoff import Closed, FrameQueue, LatestSlot


def test_latest_slot_keeps_only_the_newest() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.take(0.01) is None
    assert not slot.put(1)
    assert slot.put(2)  # 1 was never taken
    assert slot.take() == 2 and slot.skipped == 1
    woke: list[int | None] = []
    t = threading.Thread(target=lambda: woke.append(slot.take(5)))
    t.start()
    slot.put(3)  # before or after the take begins to wait: the taker gets it either way
    t.join(5)
    assert woke == [3]
    slot.close()
    with pytest.raises(Closed):
        slot.take()


def test_frame_queue_keeps_the_chain_and_bounds_it() -> None:
    queue: FrameQueue[int] = FrameQueue(limit=3)
    for n in range(3):
        assert queue.put(n) == 0
    assert [queue.take(0), queue.take(0)] == [0, 1]  # a burst waits its turn, in order
    assert queue.put(3) == 0 and queue.put(4) == 0
    assert queue.put(5) == 3 and queue.skipped == 3  # three behind, no keyframe: the decoder lost its place
    assert queue.put(6) == 0 and queue.put(7, keyframe=True) == 2  # a keyframe supersedes what waits
    assert queue.take(0) == 7 and queue.take(0.01) is None
    queue.close()
    with pytest.raises(Closed):
        queue.take()


def test_the_slot_calls_on_filled_only_from_empty_to_full() -> None:
    filled: list[int] = []
    slot: LatestSlot[int] = LatestSlot(on_filled=lambda: filled.append(1))
    slot.put(1)
    slot.put(2)  # replaces 1: the consumer was told already
    assert len(filled) == 1 and slot.poll() == 2 and slot.poll() is None
    slot.put(3)
    assert len(filled) == 2 and (slot.received, slot.skipped) == (3, 1)

