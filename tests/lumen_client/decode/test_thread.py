"""The decode thread: frames in from the receiver's queue, pictures out to the sink; a gap
drops what cannot decode until a keyframe and asks for one; base mode's codec is read from
the stream."""

from __future__ import annotations

import threading

from encoded import pattern_access_units

from lumen_client.decode.thread import DecoderThread
from lumen_client.pipeline import Each, Picture
from lumen_core.band import read_band
from lumen_core.clock import ClockOffset
from lumen_core.net.handoff import FrameQueue
from lumen_core.video import FrameReady
from lumen_core.video.header import USER_KEYFRAME, USER_PICTURE

UNITS = pattern_access_units(12)  # one keyframe, then P-frames (libx264, no B-frames here)


def ready(index: int, unit: int | None = None) -> FrameReady:
    """Frame ``index`` carrying the pattern's access unit ``unit`` (the same by default)."""
    unit = index if unit is None else unit
    flags = USER_KEYFRAME if unit == 0 else USER_PICTURE
    return FrameReady(frame_index=index, data=bytearray(UNITS[unit]), pts_ns=1_000_000 + index, user_flags=flags,
                      first_datagram_ns=0, completed_ns=2_000_000 + index, recovered_shards=0)


def run(codec: str | None, indices: list[int], then_keyframe: int | None = None,
        ) -> tuple[DecoderThread, list[Picture], int]:
    """Decode ``indices`` (then a keyframe numbered ``then_keyframe``) and wait for the last picture."""
    frames: FrameQueue[FrameReady] = FrameQueue()
    pictures: list[Picture] = []
    requests: list[int] = []
    done = threading.Event()

    def shown(picture: Picture) -> None:
        pictures.append(picture)
        if picture.frame_index == (indices[-1] if then_keyframe is None else then_keyframe):
            done.set()

    thread = DecoderThread(codec, frames, ClockOffset(), lambda: requests.append(1), Each(shown), "software")
    thread.start()
    for i in indices:
        frames.put(ready(i), keyframe=i == 0)
    if then_keyframe is not None:
        frames.put(ready(then_keyframe, unit=0))  # not flagged to the queue: it would drop what waits
    assert done.wait(10), "the last picture never came"
    thread.stop()
    thread.join()
    return thread, pictures, len(requests)


def test_frames_in_order_become_pictures_with_their_band_and_latency() -> None:
    thread, pictures, requests = run("h264", list(range(12)))
    assert [p.frame_index for p in pictures] == list(range(12)) and requests == 0
    assert read_band(pictures[3].frame.to_ndarray(format="gray")) == (3, 1_000_003)
    assert (thread.received, thread.decoded, thread.dropped, thread.errors) == (12, 12, 0, 0)
    assert thread.reassembled_latency.percentiles_ms()["samples"] == 12  # type: ignore[index]


def test_a_gap_drops_the_frames_after_it_and_asks_for_a_keyframe() -> None:
    thread, pictures, requests = run("h264", [0, 1, 2, 4, 5, 6], then_keyframe=7)
    assert [p.frame_index for p in pictures] == [0, 1, 2, 7] and requests >= 1  # the keyframe heals it
    assert thread.dropped == 3 and not thread.waiting_for_keyframe


def test_without_a_negotiated_codec_the_stream_says_which() -> None:
    thread, pictures, _ = run(None, list(range(4)))
    assert thread.codec == "h264" and len(pictures) == 4
