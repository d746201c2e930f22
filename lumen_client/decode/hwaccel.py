"""Hardware decode through FFmpeg's hwaccel (VAAPI, CUDA), in PyAV: the pictures come
back in system memory (NV12), which the presenter uploads as they are."""

from __future__ import annotations

from typing import Final

import av
from av.codec.hwaccel import HWAccel
from av.video.codeccontext import VideoCodecContext

from .software import low_delay

# Tried in this order, as moonlight-qt does on Linux.
HARDWARE: Final = ("vaapi", "cuda")


class HwaccelDecoder:
    def __init__(self, name: str, device: str) -> None:
        """Raises av.FFmpegError, OSError or ValueError when the device does not open."""
        ctx = av.CodecContext.create(name, "r", hwaccel=HWAccel(device_type=device))
        assert isinstance(ctx, VideoCodecContext)
        low_delay(ctx)
        self._ctx = ctx
        self.device: str | None = device

    def decode(self, data: bytes | bytearray) -> list[av.VideoFrame]:
        # PyAV's stub says bytes; Packet takes any buffer (the reassembler's bytearray, uncopied).
        return self._ctx.decode(av.Packet(data))  # type: ignore[arg-type]

    def in_use(self) -> str:
        # FFmpeg falls back to software when the device cannot take the stream.
        if self._ctx.is_hwaccel:
            return f"{self.device} (hardware)"
        return f"software ({self.device} fell back)"
