"""Decoding on its own thread ("video-decode"): whole frames in, pictures out to the
session's video sink.

A frame that reaches the decoder out of sequence means one was skipped or lost: P-frames
after it would decode into garbage, so they are dropped until a keyframe arrives, and
a keyframe is requested (in base mode nobody can be asked: the picture waits for the
host's next keyframe, and ``waiting_for_keyframe`` says so).

The codec is the one the session negotiated, or, in base mode, the one the first access
unit with parameter sets shows (lumen_core.video.bitstream): an M3 host names none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

import av

from lumen_core.clock import ClockOffset
from lumen_core.net.handoff import Closed, FrameQueue
from lumen_core.net.worker import Worker
from lumen_core.video import FrameReady
from lumen_core.video.bitstream import detect_codec

from ..pipeline import Picture, Sink
from ..stats import FreezeMeter, HostTimes, Latency
from . import Decoder, open_decoder

log = logging.getLogger(__name__)

# While frames arrive that cannot be decoded, the keyframe asked for is asked for again
# this often: the first request, or the keyframe itself, may have been lost.
KEYFRAME_RETRY_S: Final = 0.25


class DecoderThread:
    def __init__(
        self,
        codec: str | None,
        frames: FrameQueue[FrameReady],
        clock: ClockOffset,
        request_keyframe: Callable[[], object],
        sink: Sink[Picture] | None = None,
        preference: str = "auto",
        host_times: HostTimes | None = None,
        *,
        waits_for_host_keyframe: bool = False,
    ) -> None:
        self.codec = codec
        self._preference = preference
        self._decoder: Decoder | None = open_decoder(codec, preference) if codec is not None else None
        self._frames = frames
        self._clock = clock
        self._request_keyframe = request_keyframe
        self._sink = sink
        self.host_times = host_times or HostTimes()
        self.waits_for_host_keyframe = waits_for_host_keyframe
        self._worker = Worker("video-decode", self._run, wake=frames.close)
        self.backend = self._probing()
        self.received = 0
        self.decoded = 0
        self.dropped = 0  # waiting for a keyframe
        self.errors = 0
        self.waiting_for_keyframe = True
        self.last_decoded: int | None = None
        self.decode_time = Latency()
        self.reassembled_latency = Latency()  # capture -> frame whole on the client
        self.decoded_latency = Latency()  # capture -> picture out of the decoder
        self.freezes = FreezeMeter()

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def join(self) -> None:
        self._worker.join()

    def _open(self, frame: FrameReady) -> bool:
        """Open the decoder for the codec the bitstream shows; False until one does."""
        codec = detect_codec(frame.data)
        if codec is None:
            return False
        self.codec = codec
        self._decoder = open_decoder(codec, self._preference)
        self.backend = self._probing()
        log.info("the stream is %s (read from its parameter sets)", codec)
        return True

    def _run(self) -> None:
        last_index: int | None = None
        asked = 0.0
        while True:
            try:
                frame = self._frames.take()
            except Closed:
                return
            if frame is None:
                continue
            self._arrived(frame)
            in_sequence = last_index is not None and frame.frame_index == (last_index + 1) & 0xFFFFFFFF
            last_index = frame.frame_index
            if not frame.keyframe and (self.waiting_for_keyframe or not in_sequence):
                now = time.monotonic()
                if not self.waiting_for_keyframe or now - asked >= KEYFRAME_RETRY_S:
                    asked = now
                    self._request_keyframe()
                self.waiting_for_keyframe = True
                self.dropped += 1
                continue
            if self._decoder is None and not self._open(frame):
                self.dropped += 1
                continue
            self.waiting_for_keyframe = False
            self._decode(frame)

    def _arrived(self, frame: FrameReady) -> None:
        """Latency up to the whole frame, for every frame, decodable or not."""
        capture_ns = frame.pts_ns - self._clock.offset_ns  # the host's wall clock -> ours
        self.received += 1
        self.reassembled_latency.add(frame.completed_ns - capture_ns)
        self.host_times.frame(frame.frame_index, frame.completed_ns - capture_ns)

    def _decode(self, frame: FrameReady) -> None:
        assert self._decoder is not None
        started = time.monotonic_ns()
        try:
            pictures = self._decoder.decode(frame.data)
        except av.FFmpegError as exc:
            log.warning("decoder error (%s); asking for a keyframe", exc)
            self.errors += 1
            self.waiting_for_keyframe = True
            self._request_keyframe()
            return
        done = time.monotonic_ns()
        capture_ns = frame.pts_ns - self._clock.offset_ns
        for picture in pictures:
            self.freezes.frame(done / 1e9)
            self.decoded += 1
            self.last_decoded = frame.frame_index
            self.decode_time.add(done - started)
            self.decoded_latency.add(done - capture_ns)
            if self.decoded == 1:
                self.backend = self._decoder.in_use()
                log.info("decoding with %s", self.backend)
            if self._sink is not None:
                self._sink.push(Picture(picture, capture_ns, frame.frame_index, done))

    def _probing(self) -> str:
        """The backend until the first picture says what really decodes."""
        if self._decoder is None or self._decoder.device is None:
            return "software"
        return f"{self._decoder.device} (probing)"
