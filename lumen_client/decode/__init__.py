"""Video decoders: backends behind one small interface, tried in order (moonlight-qt's
renderers): VAAPI, then CUDA (hwaccel.py), then software (software.py). The decode
thread (thread.py) drives whichever opened.

PyAV can accept a hardware device and still decode in software (PyPI wheels have no
VAAPI), so a backend says what it really used once it has decoded a picture.
"""

from __future__ import annotations

import logging
from typing import Final, Protocol

import av

from .hwaccel import HARDWARE, HwaccelDecoder
from .software import SoftwareDecoder

log = logging.getLogger(__name__)

# FFmpeg's decoder for each codec lumen/1 names.
DECODERS: Final = {"h264": "h264", "hevc": "hevc", "av1": "libdav1d"}


class Decoder(Protocol):
    device: str | None  # the hardware device it was given (None: software)

    def decode(self, data: bytes | bytearray) -> list[av.VideoFrame]:
        """The pictures one access unit gives (av.FFmpegError on a broken one)."""
        ...

    def in_use(self) -> str:
        """What decodes, for the stats: "software", "vaapi (hardware)", or a fallback."""
        ...


def open_decoder(codec: str, preference: str = "auto") -> Decoder:
    """The first backend that opens for ``codec``: hardware first unless ``preference``
    is "software"; "hardware" warns when it has to fall back."""
    name = DECODERS[codec]
    if preference in ("auto", "hardware"):
        for device in HARDWARE:
            if device not in av.codec.hwaccel.hwdevices_available():
                continue
            try:
                return HwaccelDecoder(name, device)
            except (av.FFmpegError, OSError, ValueError) as exc:  # CUDA with no driver: PermissionError
                log.info("%s decode unavailable: %s", device, exc)
        if preference == "hardware":
            log.warning("no hardware decoder could be opened; decoding in software")
    return SoftwareDecoder(name)


__all__ = ["DECODERS", "Decoder", "open_decoder"]
