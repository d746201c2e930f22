"""The decoder backends behind one interface: the order they are tried in, what each
says it used, and what a broken access unit does (a typed error, nothing else)."""

from __future__ import annotations

import av
import pytest
from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

from lumen_client.decode import open_decoder
from lumen_client.decode.software import SoftwareDecoder
from lumen_core.band import read_band


def _access_units(count: int) -> list[bytes]:
    encoder, _ = open_encoder(EncoderSettings("h264", 320, 180, 30, 1000), ["libx264"])
    source, out = PatternVideo(320, 180), []
    for n in range(count):
        frame = source.grab(n, 1_000_000 + n)
        frame.pts = n
        out += [bytes(p) for p in encoder.encode(frame)]
    return out


def test_software_is_what_software_asks_for_and_decodes_the_pattern() -> None:
    decoder = open_decoder("h264", "software")
    assert isinstance(decoder, SoftwareDecoder) and decoder.device is None
    pictures = [p for unit in _access_units(10) for p in decoder.decode(unit)]
    assert len(pictures) >= 9 and decoder.in_use() == "software"
    assert read_band(pictures[0].to_ndarray(format="gray")) == (0, 1_000_000)


def test_auto_falls_back_to_software_where_no_device_opens() -> None:
    decoder = open_decoder("h264", "auto")
    if decoder.device is not None:
        pytest.skip(f"this machine decodes on {decoder.device}: test_hwaccel.py covers it")
    assert decoder.in_use() == "software"  # FFmpeg lists devices (cuda here) that do not open


def test_a_broken_access_unit_is_an_ffmpeg_error() -> None:
    decoder = open_decoder("h264", "software")
    units = _access_units(2)
    with pytest.raises(av.FFmpegError):
        for _ in range(3):  # the parser may hold back the first bytes; garbage after a header fails
            decoder.decode(units[0][:40] + bytes(range(256)) * 8)
    assert [p for p in decoder.decode(units[0])], "a keyframe after the error decodes again"
