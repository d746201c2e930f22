"""reorder.FrameOrder: frames back in order, waiting a bounded time for the missing one."""

from __future__ import annotations

from lumen_core.video.header import USER_KEYFRAME
from lumen_core.video.reassembler import FrameReady
from lumen_core.video.reorder import REORDER_WAIT_NS, FrameOrder

MS = 1_000_000


def f(index: int, keyframe: bool = False) -> FrameReady:
    return FrameReady(frame_index=index, data=bytearray(b"x"), pts_ns=0, user_flags=USER_KEYFRAME if keyframe else 1,
                      first_datagram_ns=0, completed_ns=0, recovered_shards=0)


def ids(frames: list[FrameReady]) -> list[int]:
    return [x.frame_index for x in frames]


def test_in_order_frames_pass_straight_through() -> None:
    order = FrameOrder()
    assert [ids(order.push(f(i, keyframe=i == 0), i * 16 * MS)) for i in range(5)] == [[0], [1], [2], [3], [4]]
    assert order.stats.in_order == 5 and order.deadline_ns() is None


def test_a_frame_whole_before_an_older_one_waits_for_it() -> None:
    order = FrameOrder()
    assert ids(order.push(f(0, keyframe=True), 0)) == [0]
    assert ids(order.push(f(2), 1 * MS)) == []
    assert order.deadline_ns() == 1 * MS + REORDER_WAIT_NS
    assert ids(order.push(f(1), 5 * MS)) == [1, 2]
    assert (order.stats.in_order, order.stats.reordered, order.stats.lost) == (2, 1, 0)


def test_a_missing_frame_is_given_up_after_the_wait_and_dropped_if_it_comes_later() -> None:
    order = FrameOrder()
    order.push(f(0, keyframe=True), 0)
    assert ids(order.push(f(2), 0)) == []
    assert ids(order.poll(REORDER_WAIT_NS - 1)) == []
    assert ids(order.poll(REORDER_WAIT_NS)) == [2]
    assert order.stats.lost == 1 and order.deadline_ns() is None
    assert ids(order.push(f(1), REORDER_WAIT_NS + MS)) == []
    assert order.stats.late == 1
    assert ids(order.push(f(3), REORDER_WAIT_NS + 2 * MS)) == [3]


def test_enough_newer_frames_end_the_wait_early() -> None:
    order = FrameOrder(max_frames=3)
    order.push(f(0, keyframe=True), 0)
    assert ids(order.push(f(2), 0)) == [] and ids(order.push(f(3), 0)) == []
    assert ids(order.push(f(4), 0)) == [2, 3, 4]
    assert order.stats.lost == 1


def test_a_keyframe_ends_the_wait_for_everything_older() -> None:
    order = FrameOrder()
    order.push(f(0, keyframe=True), 0)
    order.push(f(2), 0)
    order.push(f(3), 0)
    assert ids(order.push(f(5, keyframe=True), 0)) == [5]
    assert (order.stats.lost, order.stats.skipped) == (2, 2)  # 1 and 4 never came; 2 and 3 not needed
    assert ids(order.push(f(6), 0)) == [6]


def test_frame_indices_wrap() -> None:
    order = FrameOrder()
    order.push(f(0xFFFFFFFE, keyframe=True), 0)
    assert ids(order.push(f(0), 0)) == []
    assert ids(order.push(f(0xFFFFFFFF), 0)) == [0xFFFFFFFF, 0]


def test_a_frame_whole_before_the_first_keyframe_waits_for_it() -> None:
    order = FrameOrder()
    assert ids(order.push(f(1), 0)) == [] and ids(order.push(f(2), 0)) == []
    assert ids(order.push(f(0, keyframe=True), MS)) == [0, 1, 2]
    assert (order.stats.lost, order.stats.late) == (0, 0)
    started = FrameOrder()  # no keyframe in time: the oldest waiting goes first
    started.push(f(5), 0)
    assert ids(started.poll(REORDER_WAIT_NS)) == [5] and started.stats.lost == 0
