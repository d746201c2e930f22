"""Reading an access unit's NAL headers: which codec a stream is and whether a frame is a
keyframe, on real encoder output and on bytes that only look like a stream."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
from fuzzing import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from lumen_core.video.bitstream import SCAN_LIMIT, detect_codec, is_keyframe, nal_headers

H264_SPS_PPS_IDR = b"\x00\x00\x00\x01\x67\x42" + b"\x00\x00\x01\x68\xce" + b"\x00\x00\x01\x65\x88"
HEVC_VPS_IDR = b"\x00\x00\x00\x01\x40\x01\x0c" + b"\x00\x00\x01\x26\x01\xaf"  # VPS, then IDR_W_RADL (19)


def encoded(codec: str, frames: int) -> list[bytes]:
    encoder = av.CodecContext.create(codec, "w")
    encoder.width, encoder.height, encoder.pix_fmt = 64, 64, "yuv420p"
    encoder.time_base = Fraction(1, 30)
    encoder.options = {"g": "30", "bf": "0"}
    out = []
    for i in range(frames):
        frame = av.VideoFrame.from_ndarray(np.full((64, 64, 3), i * 20, dtype=np.uint8), format="rgb24")
        frame.pts = i
        out += [bytes(p) for p in encoder.encode(frame.reformat(format="yuv420p"))]
    out += [bytes(p) for p in encoder.encode(None)]
    return out


def test_hand_made_access_units() -> None:
    assert list(nal_headers(H264_SPS_PPS_IDR)) == [(0x67, 0x42), (0x68, 0xCE), (0x65, 0x88)]
    assert detect_codec(H264_SPS_PPS_IDR) == "h264" and is_keyframe(H264_SPS_PPS_IDR, "h264")
    assert detect_codec(HEVC_VPS_IDR) == "hevc" and is_keyframe(HEVC_VPS_IDR, "hevc")
    assert not is_keyframe(b"\x00\x00\x01\x41\x9a", "h264")  # a P slice
    assert detect_codec(b"\x00\x00\x01\x41\x9a") is None  # no parameter set: cannot tell
    assert detect_codec(b"\x00\x00\x01\xe7\x42") is None  # forbidden bit set: not a NAL header


def test_x264s_output_is_h264_with_a_keyframe_first() -> None:
    aus = encoded("libx264", 5)
    assert detect_codec(aus[0]) == "h264" and is_keyframe(aus[0], "h264")
    assert [is_keyframe(au, "h264") for au in aus[1:]] == [False] * (len(aus) - 1)


def test_only_the_first_scan_limit_bytes_are_read() -> None:
    late = bytes(SCAN_LIMIT) + H264_SPS_PPS_IDR
    assert list(nal_headers(late)) == [] and detect_codec(late) is None


@fuzz_settings
@given(st.binary(max_size=200), st.sampled_from(["h264", "hevc"]))
def test_any_bytes_are_a_codec_or_none_and_a_yes_or_no(data: bytes, codec: str) -> None:
    assert detect_codec(data) in (None, "h264", "hevc")
    assert is_keyframe(data, codec) in (True, False)
    assert all(0 <= a < 256 and 0 <= b < 256 for a, b in nal_headers(data))
