"""The host's video pipelines, each on one thread paced to the frame rate:

- ``VideoPipeline``: a source draws pictures, an encoder compresses them, the video
  plane's sender takes the access units ("video-encode");
- ``SyntheticPipeline``: lumen M3's synthetic source, for interoperability checks: raw
  64 KiB test frames (no codec) that an M3 client verifies byte for byte ("m3-synthetic").

Every frame carries two times: ``pts_ns``, the host's wall clock at capture (what the
video header carries, as M3's host does), and ``capture_ns``, the monotonic clock (for
the host's own processing time). One offset, fixed at start, maps one to the other.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Protocol

import av
import numpy as np
from av.video.codeccontext import VideoCodecContext
from av.video.frame import PictureType

from lumen_core.net.video import EncodedFrame
from lumen_core.net.worker import Worker

from .pattern import PatternSource

log = logging.getLogger(__name__)

# Hardware encoders first; the first that opens wins. libx264/libx265 always open.
ENCODERS = {
    "h264": ("h264_nvenc", "h264_vaapi", "h264_qsv", "libx264"),
    "hevc": ("hevc_nvenc", "hevc_vaapi", "hevc_qsv", "libx265"),
}
# Encode times kept for the stats (a few seconds at 60 fps).
ENCODE_TIMES_KEPT = 1024


class VideoSource(Protocol):
    width: int
    height: int

    def grab(self, number: int, pts_ns: int) -> av.VideoFrame: ...

    def close(self) -> None: ...


class PatternVideo:
    """The synthetic test pattern (pattern.py): its band carries frame number and pts."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self._pattern = PatternSource(width, height)

    def grab(self, number: int, pts_ns: int) -> av.VideoFrame:
        planes = self._pattern.frame(number, pts_ns)
        frame = av.VideoFrame.from_ndarray(planes.reshape(self.height * 3 // 2, self.width), format="yuv420p")
        frame.colorspace = av.video.reformatter.Colorspace.ITU709
        frame.color_range = av.video.reformatter.ColorRange.MPEG
        return frame

    def close(self) -> None:
        pass


class ScreenVideo:
    """The X11 screen through FFmpeg's x11grab (needs DISPLAY)."""

    def __init__(self, width: int, height: int, fps: int) -> None:
        display = os.environ.get("DISPLAY")
        if not display:
            raise RuntimeError("--source screen needs an X display (DISPLAY is not set)")
        self.width, self.height = width, height
        self._container = av.open(display, format="x11grab",
                                  options={"framerate": str(fps), "video_size": f"{width}x{height}", "draw_mouse": "1"})
        self._frames = self._container.decode(video=0)

    def grab(self, number: int, pts_ns: int) -> av.VideoFrame:
        frame = next(self._frames)
        return frame.reformat(format="yuv420p", width=self.width, height=self.height)

    def close(self) -> None:
        self._container.close()


@dataclass(frozen=True)
class EncoderSettings:
    codec: str
    width: int
    height: int
    fps: int
    bitrate_kbps: int
    # The longest run without an IDR. Extended-mode clients ask for one after a loss,
    # so 10 s; an M3 client cannot, so it gets one every 2 s to recover from.
    gop_s: float = 10.0
    max_kbps: int = 0  # the most the rate control may ask (0: bitrate_kbps)

    def __post_init__(self) -> None:
        if not self.max_kbps:
            object.__setattr__(self, "max_kbps", self.bitrate_kbps)


def open_encoder(settings: EncoderSettings, candidates: Sequence[str] | None = None) -> tuple[VideoCodecContext, str]:
    """The first encoder of ``candidates`` (default: ENCODERS) that opens, configured for zero latency."""
    errors = []
    for name in candidates or ENCODERS[settings.codec]:
        try:
            ctx = av.CodecContext.create(name, "w")
        except (av.FFmpegError, ValueError) as exc:
            errors.append(f"{name}: {exc}")
            continue
        assert isinstance(ctx, VideoCodecContext)  # every name in ENCODERS is a video encoder
        ctx.width, ctx.height = settings.width, settings.height
        ctx.pix_fmt = "yuv420p"
        ctx.time_base = Fraction(1, settings.fps)
        ctx.framerate = Fraction(settings.fps, 1)
        ctx.bit_rate = settings.bitrate_kbps * 1000
        ctx.max_b_frames = 0
        # Say what the pictures are (BT.709, limited range) in the stream's VUI, so the
        # client converts with the right matrix rather than guessing from the size.
        ctx.colorspace, ctx.color_primaries, ctx.color_trc, ctx.color_range = 1, 1, 1, 1
        ctx.gop_size = max(1, round(settings.fps * settings.gop_s))
        if name == "libx264":
            # VBV on (its ceiling the session's bitrate, half a second deep: keyframes stay
            # whole) is what lets x264 take a lower bitrate between frames.
            ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "forced-idr": "1",
                           "maxrate": f"{settings.max_kbps}k", "bufsize": f"{settings.max_kbps // 2}k"}
        elif name == "libx265":
            ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "x265-params": "log-level=error"}
        elif name.endswith("_nvenc"):
            ctx.options = {"preset": "p1", "tune": "ull", "zerolatency": "1", "forced-idr": "1"}
        try:
            ctx.open()
        except (av.FFmpegError, OSError, ValueError) as exc:
            errors.append(f"{name}: {exc}")
            continue
        return ctx, name
    raise RuntimeError("no usable encoder: " + "; ".join(errors))


class Pipeline(Protocol):
    """Where a session's encoded frames come from: an encoder (VideoPipeline), M3's
    synthetic frames, or a recording (replay.py). Frames go to the sink it was given."""

    encoder_name: str
    frames: int
    keyframes: int

    def start(self) -> None: ...

    def request_keyframe(self) -> None:
        """Any thread: the next frame should be a keyframe."""
        ...

    def set_bitrate(self, kbps: int) -> None:
        """Any thread: encode at ``kbps`` from the next frame on (where it can)."""
        ...

    def stop(self) -> None: ...

    def join(self) -> None: ...

    def encode_p50_ms(self) -> float: ...


class VideoPipeline:
    """Source -> encoder -> ``sink``, one frame per 1/fps, on thread "video-encode"."""

    def __init__(
        self, source: VideoSource, settings: EncoderSettings, sink: Callable[[EncodedFrame], None],
        wall_offset_ns: int, encoders: Sequence[str] | None = None,
    ) -> None:
        self._source = source
        self._wall_offset_ns = wall_offset_ns
        self._settings = settings
        self._sink = sink
        self._encoder: VideoCodecContext | None
        self._encoder, self.encoder_name = open_encoder(settings, encoders)
        self._keyframe = threading.Event()
        self._keyframe.set()  # the first frame is an IDR anyway; say so to the packetizer
        self._bitrate_kbps: int | None = None  # a change for the encode thread to make
        self._worker = Worker("video-encode", self._run)
        self.frames = 0
        self.keyframes = 0
        self.encode_ns: deque[int] = deque(maxlen=ENCODE_TIMES_KEPT)

    def start(self) -> None:
        self._worker.start()

    def request_keyframe(self) -> None:
        """Any thread: the next frame is encoded as an IDR."""
        self._keyframe.set()

    def set_bitrate(self, kbps: int) -> None:
        """Any thread: encode at ``kbps`` from the next frame on."""
        self._bitrate_kbps = kbps

    def _apply_bitrate(self, kbps: int) -> None:
        """libx264 takes a new bitrate between frames (its VBV is on: see open_encoder);
        other encoders are opened again at it, which costs a keyframe."""
        self._settings = replace(self._settings, bitrate_kbps=kbps)
        if self.encoder_name == "libx264" and self._encoder is not None:
            self._encoder.bit_rate = kbps * 1000
            return
        self._encoder, self.encoder_name = open_encoder(self._settings, (self.encoder_name,))
        self._keyframe.set()

    def stop(self) -> None:
        self._worker.stop()

    def join(self) -> None:
        self._worker.join()
        self._source.close()
        # The encoder's own threads (x264's) end when its context is freed, not whenever
        # the session's objects are collected.
        self._encoder = None

    def encode_p50_ms(self) -> float:
        return float(np.percentile(self.encode_ns, 50)) / 1e6 if self.encode_ns else 0.0

    def _run(self) -> None:
        interval_ns = 1_000_000_000 // self._settings.fps
        due = time.monotonic_ns()
        number = 0
        while not self._worker.stopped:
            now = time.monotonic_ns()
            if now < due:
                self._worker.wait((due - now) / 1e9)
                continue
            # A late frame is not made up for: skip to the next slot (latency over rate).
            due = max(due + interval_ns, now - interval_ns)
            capture_ns = time.monotonic_ns()
            pts_ns = capture_ns + self._wall_offset_ns
            frame = self._source.grab(number, pts_ns)
            frame.pts = number
            kbps, self._bitrate_kbps = self._bitrate_kbps, None
            if kbps is not None and kbps != self._settings.bitrate_kbps:
                self._apply_bitrate(kbps)
            idr = self._keyframe.is_set()
            if idr:
                self._keyframe.clear()
                frame.pict_type = PictureType.I
            started = time.monotonic_ns()
            assert self._encoder is not None  # freed only by join, after this loop
            packets = self._encoder.encode(frame)
            self.encode_ns.append(time.monotonic_ns() - started)
            number += 1
            data = b"".join(bytes(p) for p in packets)
            if not data:
                continue
            keyframe = any(p.is_keyframe for p in packets)
            self.frames += 1
            self.keyframes += keyframe
            self._sink(EncodedFrame(data=data, keyframe=keyframe, pts_ns=pts_ns, capture_ns=capture_ns))


SYNTHETIC_FRAME_BYTES = 65536
SYNTHETIC_INTERVAL_NS = 16_000_000  # M3's host sleeps 1000 // 60 ms after each frame


def synthetic_frame(index: int, length: int = SYNTHETIC_FRAME_BYTES) -> bytes:
    """M3's test frame: bytes 0..3 the index (u32 LE), byte i >= 4 is (index + i) mod 256."""
    body = bytes((index + i) & 0xFF for i in range(256)) * (length // 256 + 1)
    return (index & 0xFFFFFFFF).to_bytes(4, "little") + body[4:length]


class UnencodedPipeline:
    """What the pipelines that encode nothing share (M3's synthetic frames, a recording):
    one worker running ``_run``, no bitrate to change, no encode time."""

    encoder_name: str

    def __init__(self, thread_name: str) -> None:
        self._worker = Worker(thread_name, self._run)
        self.frames = 0
        self.keyframes = 0

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def join(self) -> None:
        self._worker.join()

    def set_bitrate(self, kbps: int) -> None:
        pass  # the frames were made already, at the size they have

    def encode_p50_ms(self) -> float:
        return 0.0


class SyntheticPipeline(UnencodedPipeline):
    """M3's synthetic source: ``frames`` raw test frames, one every 16 ms, each flagged
    as a keyframe (user_flags 0x05), then ``on_done``. Its Welcome announces ``frames``,
    so an M3 client checks every byte and stops after the last."""

    encoder_name = "none (M3 synthetic frames)"

    def __init__(self, frames: int, sink: Callable[[EncodedFrame], None], wall_offset_ns: int,
                 on_done: Callable[[], object]) -> None:
        super().__init__("m3-synthetic")
        self._count = frames
        self._sink = sink
        self._wall_offset_ns = wall_offset_ns
        self._on_done = on_done

    def request_keyframe(self) -> None:
        pass  # every synthetic frame stands alone

    def _run(self) -> None:
        for index in range(self._count):
            if self._worker.stopped:
                return
            data = synthetic_frame(index)
            capture_ns = time.monotonic_ns()  # at submit, as M3's synthetic source stamps it
            self._sink(EncodedFrame(data=data, keyframe=True, pts_ns=capture_ns + self._wall_offset_ns, chained=False,
                                    capture_ns=capture_ns))
            self.frames += 1
            self.keyframes += 1
            self._worker.wait(SYNTHETIC_INTERVAL_NS / 1e9)
        if not self._worker.stopped:
            self._on_done()
