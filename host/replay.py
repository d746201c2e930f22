"""``--replay FILE``: a stream encoded once, sent again and again at the frame rate.

The host then costs next to nothing (no capture, no encoder), so a client on the same
machine has the CPU to itself, as it would with a remote host: what ``bench gui``
measures the screen path against. The file is an H.264 or HEVC elementary stream
(Annex B, as ``ffmpeg -f h264`` writes it) that starts with a keyframe; it loops, and a
keyframe request restarts it from that keyframe. Every frame is stamped when it is
sent: capture -> presented then covers the network, decode and presentation.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import av
from av.video.codeccontext import VideoCodecContext

from lumen_core.net.video import EncodedFrame
from lumen_core.video.bitstream import detect_codec, is_keyframe

from .video import UnencodedPipeline


class ReplayError(Exception):
    """The file cannot be replayed; the message says why, for a person."""


@dataclass(frozen=True)
class Recording:
    codec: str  # "h264" or "hevc"
    frames: list[tuple[bytes, bool]]  # access units and whether each is a keyframe
    width: int
    height: int


def load_recording(path: Path) -> Recording:
    """The access units of ``path``, split by FFmpeg's parser."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ReplayError(f"cannot read {path}: {exc.strerror or exc}") from None
    codec = detect_codec(data[:4096])
    if codec is None:
        raise ReplayError(f"{path} is not an H.264 or HEVC elementary stream (no parameter sets at its start)")
    # FFmpeg's parsers and decoders are named as lumen's codecs are.
    parser, probe = av.CodecContext.create(codec, "r"), av.CodecContext.create(codec, "r")
    assert isinstance(probe, VideoCodecContext)
    try:
        units = [bytes(p) for p in parser.parse(data)] + [bytes(p) for p in parser.parse(None)]
        pictures = probe.decode(av.Packet(units[0])) + probe.decode(None) if units else []
    except av.FFmpegError as exc:
        raise ReplayError(f"{path}: {exc}") from None
    frames = [(unit, is_keyframe(unit, codec)) for unit in units if unit]
    if not frames or not frames[0][1] or not pictures:
        raise ReplayError(f"{path} does not start with a keyframe that decodes")
    picture = pictures[0]
    return Recording(codec, frames, picture.width, picture.height)


class ReplayPipeline(UnencodedPipeline):
    """The host's video pipeline for a recording: what VideoPipeline is for an encoder."""

    def __init__(self, recording: Recording, fps: int, sink: Callable[[EncodedFrame], None],
                 wall_offset_ns: int) -> None:
        super().__init__("video-replay")
        self._recording = recording
        self._interval_ns = 1_000_000_000 // max(1, fps)
        self._sink = sink
        self._wall_offset_ns = wall_offset_ns
        self._restart = False
        self.encoder_name = f"none (replaying {recording.codec}, {len(recording.frames)} frames)"

    def request_keyframe(self) -> None:
        """Any thread: the next frame sent is the recording's first, a keyframe."""
        self._restart = True

    def _run(self) -> None:
        frames = self._recording.frames
        due = time.monotonic_ns()
        position = 0
        while not self._worker.stopped:
            now = time.monotonic_ns()
            if now < due:
                self._worker.wait((due - now) / 1e9)
                continue
            due = max(due + self._interval_ns, now - self._interval_ns)  # late: skip the slot, as the encoder does
            if self._restart or position == len(frames):
                self._restart = False
                position = 0
            data, keyframe = frames[position]
            position += 1
            capture_ns = time.monotonic_ns()
            self.frames += 1
            self.keyframes += keyframe
            self._sink(EncodedFrame(data=data, keyframe=keyframe, pts_ns=capture_ns + self._wall_offset_ns,
                                    capture_ns=capture_ns))
