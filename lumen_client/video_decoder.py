"""Decoding on its own thread ("video-decode"): whole frames in, pictures out.

Backends are tried in order, as moonlight-qt does: VAAPI, then CUDA, then software.
PyAV can accept a hardware device and still decode in software (PyPI wheels have no
VAAPI), so the backend in use is read back from the codec context after the first
picture, and that is what the stats report.

A frame that reaches the decoder out of sequence means one was skipped or lost: P-frames
after it would decode into garbage, so they are dropped until a keyframe arrives, and
a keyframe is requested (in base mode nobody can be asked: the picture waits for the
host's next keyframe, and ``waiting_for_keyframe`` says so).

The codec is the one the session negotiated, or, in base mode, the one the first access
unit with parameter sets shows (lumen_core.video.bitstream): an M3 host names none.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Final

import av
from av.codec.hwaccel import HWAccel

from lumen_core.clock import ClockOffset
from lumen_core.net.handoff import Closed, FrameQueue
from lumen_core.video import FrameReady
from lumen_core.video.bitstream import detect_codec

from .stats import FreezeMeter, HostTimes, Latency

log = logging.getLogger(__name__)

DECODERS: Final = {"h264": "h264", "hevc": "hevc", "av1": "libdav1d"}
# While frames arrive that cannot be decoded, the keyframe asked for is asked for again
# this often: the first request, or the keyframe itself, may have been lost.
KEYFRAME_RETRY_S: Final = 0.25
HARDWARE: Final = ("vaapi", "cuda")


def open_decoder(codec: str, preference: str = "auto") -> tuple[av.CodecContext, str | None]:
    """A codec context and the hardware device it was given (None: software)."""
    name = DECODERS[codec]
    if preference in ("auto", "hardware"):
        for device in HARDWARE:
            if device not in av.codec.hwaccel.hwdevices_available():
                continue
            try:
                ctx = av.CodecContext.create(name, "r", hwaccel=HWAccel(device_type=device))
            except (av.FFmpegError, OSError, ValueError) as exc:  # CUDA with no driver: PermissionError
                log.info("%s decode unavailable: %s", device, exc)
                continue
            _low_delay(ctx)
            return ctx, device
        if preference == "hardware":
            log.warning("no hardware decoder could be opened; decoding in software")
    ctx = av.CodecContext.create(name, "r")
    _low_delay(ctx)
    return ctx, None


def _low_delay(ctx: av.CodecContext) -> None:
    ctx.flags |= av.codec.context.Flags.low_delay
    ctx.thread_type = "SLICE"  # frame threading would hold pictures back


PictureSink = Callable[[av.VideoFrame, FrameReady], None]


class DecoderThread:
    def __init__(
        self,
        codec: str | None,
        frames: FrameQueue[FrameReady],
        clock: ClockOffset,
        request_keyframe: Callable[[], None],
        on_picture: PictureSink | None = None,
        preference: str = "auto",
        host_times: HostTimes | None = None,
        *,
        waits_for_host_keyframe: bool = False,
    ) -> None:
        self.codec = codec
        self._preference = preference
        self._ctx: av.CodecContext | None = None
        self._device: str | None = None
        if codec is not None:
            self._ctx, self._device = open_decoder(codec, preference)
        self._frames = frames
        self._clock = clock
        self._request_keyframe = request_keyframe
        self._on_picture = on_picture
        self.host_times = host_times or HostTimes()
        self.waits_for_host_keyframe = waits_for_host_keyframe
        self._thread = threading.Thread(target=self._run, name="video-decode", daemon=True)
        self.backend = "software" if self._device is None else f"{self._device} (probing)"
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
        self._thread.start()

    def stop(self) -> None:
        self._frames.close()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()

    def _open(self, frame: FrameReady) -> bool:
        """Open the decoder for the codec the bitstream shows; False until one does."""
        codec = detect_codec(frame.data)
        if codec is None:
            return False
        self.codec = codec
        self._ctx, self._device = open_decoder(codec, self._preference)
        self.backend = "software" if self._device is None else f"{self._device} (probing)"
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
            if self._ctx is None and not self._open(frame):
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
        assert self._ctx is not None
        started = time.monotonic_ns()
        try:
            pictures = self._ctx.decode(av.Packet(frame.data))
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
                self.backend = self._backend_in_use()
                log.info("decoding with %s", self.backend)
            if self._on_picture is not None:
                self._on_picture(picture, frame)

    def _backend_in_use(self) -> str:
        if self._device is None:
            return "software"
        if getattr(self._ctx, "is_hwaccel", False):
            return f"{self._device} (hardware)"
        return f"software ({self._device} fell back)"
