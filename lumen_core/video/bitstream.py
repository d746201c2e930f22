"""What an Annex-B access unit says about itself: its codec, and whether it is a keyframe.

A base-mode session (an M3 host) announces no codec: M3's host sends HEVC, but a client
cannot know that a given host is M3's, so it reads the first access unit. Each NAL unit
follows a start code (00 00 01, or 00 00 00 01)::

    H.264 NAL header (1 byte)          HEVC NAL header (2 bytes)
    +---+-----+---------+              +---+-----------+----------+-----+
    | F | NRI | type(5) |              | F | type (6)  | layer (6)| TID |
    +---+-----+---------+              +---+-----------+----------+-----+

Parameter sets decide it: an HEVC VPS/SPS/PPS (types 32-34) has a two-byte header with
layer 0 and temporal id 1 (``40 01``, ``42 01``, ``44 01``); an H.264 SPS/PPS (types 7, 8)
has NRI > 0. M3's hosts put them in-band at every keyframe.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

H264_IDR: Final = 5
H264_SPS: Final = 7
H264_PPS: Final = 8
HEVC_IRAP: Final = range(16, 24)  # BLA, IDR, CRA and reserved IRAP types
HEVC_VPS: Final = 32
HEVC_SPS: Final = 33
HEVC_PPS: Final = 34
# Parameter sets come first; no need to look through a whole keyframe's slices.
SCAN_LIMIT: Final = 4096


def nal_headers(au: bytes | bytearray | memoryview, limit: int = SCAN_LIMIT) -> Iterator[tuple[int, int]]:
    """(first, second) header bytes of each NAL unit that starts in the first ``limit`` bytes."""
    data = bytes(au[: limit + 5])
    pos = data.find(b"\x00\x00\x01")
    while 0 <= pos < limit:
        start = pos + 3
        if start + 1 < len(data):
            yield data[start], data[start + 1]
        pos = data.find(b"\x00\x00\x01", start)


def detect_codec(au: bytes | bytearray | memoryview) -> str | None:
    """"hevc", "h264", or None if the access unit carries no parameter set to tell."""
    for first, second in nal_headers(au):
        if first & 0x80:
            continue  # forbidden bit: not a NAL header
        if (first >> 1) & 0x3F in (HEVC_VPS, HEVC_SPS, HEVC_PPS) and first & 1 == 0 and second == 0x01:
            return "hevc"
        if first & 0x1F in (H264_SPS, H264_PPS) and first & 0x60:
            return "h264"
    return None


def is_keyframe(au: bytes | bytearray | memoryview, codec: str) -> bool:
    """True if the access unit holds an IDR (H.264) or IRAP (HEVC) picture."""
    for first, _ in nal_headers(au):
        if codec == "hevc" and (first >> 1) & 0x3F in HEVC_IRAP:
            return True
        if codec == "h264" and first & 0x1F == H264_IDR:
            return True
    return False
