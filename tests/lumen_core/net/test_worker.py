"""The Worker every pipeline thread runs on: started, stopped through its event and its
wake, joined."""

from __future__ import annotations

import threading

from lumen_core.net.handoff import Closed, FrameQueue
from lumen_core.net.worker import Worker


def test_a_worker_stops_its_loop_and_wakes_what_it_waits_on() -> None:
    queue: FrameQueue[int] = FrameQueue()
    got: list[int] = []
    ended = threading.Event()

    def loop() -> None:
        try:
            while not worker.stopped:
                item = queue.take()  # blocks: only the wake gets it out
                if item is not None:
                    got.append(item)
        except Closed:
            pass
        ended.set()

    worker = Worker("test-worker", loop, wake=queue.close)
    worker.start()
    queue.put(1)
    assert worker.alive and worker.name == "test-worker"
    worker.stop()
    worker.join(5)
    assert ended.is_set() and not worker.alive and got in ([], [1])
    Worker("never-started", loop).join()  # joins at once
