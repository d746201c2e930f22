"""FFmpeg's software decoder: the pattern decodes with its band intact, and a broken access
unit is an FFmpeg error (nothing else) after which a keyframe decodes again."""

from __future__ import annotations

import av
import pytest
from encoded import pattern_access_units

from lumen_client.decode import open_decoder
from lumen_client.decode.software import SoftwareDecoder
from lumen_core.band import read_band


def test_software_is_what_software_asks_for_and_decodes_the_pattern() -> None:
    decoder = open_decoder("h264", "software")
    assert isinstance(decoder, SoftwareDecoder) and decoder.device is None
    pictures = [p for unit in pattern_access_units(10) for p in decoder.decode(unit)]
    assert len(pictures) >= 9 and decoder.in_use() == "software"
    assert read_band(pictures[0].to_ndarray(format="gray")) == (0, 1_000_000)


def test_a_broken_access_unit_is_an_ffmpeg_error() -> None:
    decoder = open_decoder("h264", "software")
    units = pattern_access_units(2)
    with pytest.raises(av.FFmpegError):
        for _ in range(3):  # the parser may hold back the first bytes; garbage after a header fails
            decoder.decode(units[0][:40] + bytes(range(256)) * 8)
    assert [p for p in decoder.decode(units[0])], "a keyframe after the error decodes again"
