"""FFmpeg's software decoders, through PyAV: what every machine has."""

from __future__ import annotations

import av
from av.video.codeccontext import VideoCodecContext


def low_delay(ctx: VideoCodecContext) -> None:
    """Pictures out as soon as they are decoded: low-delay flags, slice threads only
    (frame threading would hold pictures back)."""
    ctx.flags |= av.codec.context.Flags.low_delay
    ctx.thread_type = "SLICE"


class SoftwareDecoder:
    device: str | None = None

    def __init__(self, name: str) -> None:
        ctx = av.CodecContext.create(name, "r")
        assert isinstance(ctx, VideoCodecContext)
        low_delay(ctx)
        self._ctx = ctx

    def decode(self, data: bytes | bytearray) -> list[av.VideoFrame]:
        # PyAV's stub says bytes; Packet takes any buffer (the reassembler's bytearray, uncopied).
        return self._ctx.decode(av.Packet(data))  # type: ignore[arg-type]

    def in_use(self) -> str:
        return "software"
