"""The host's test pattern: its band survives the real encoder and decoder."""

from __future__ import annotations

import av
import pytest
from lumen_host.pattern import BAR_RGB, PatternSource, bar_centres, rgb_to_ycbcr709
from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

from lumen_core.band import read_band


@pytest.mark.parametrize("size", [(640, 360), (1280, 720), (256, 144)])
def test_band_survives_x264_at_a_low_bitrate(size: tuple[int, int]) -> None:
    width, height = size
    encoder, _ = open_encoder(EncoderSettings("h264", width, height, 60, 1000), ["libx264"])
    decoder = av.CodecContext.create("h264", "r")
    source = PatternVideo(width, height)
    stamps = [(n, 1_000_000_000 * 3600 + n * 16_666_667) for n in range(30)]
    seen = []
    for n, capture_ns in stamps:
        frame = source.grab(n, capture_ns)
        frame.pts = n
        for packet in encoder.encode(frame):
            for picture in decoder.decode(av.Packet(bytes(packet))):
                luma = picture.to_ndarray(format="gray")
                seen.append(read_band(luma))
    assert seen == stamps[: len(seen)] and len(seen) >= 25


def test_pattern_bars_are_the_documented_colours() -> None:
    source = PatternSource(640, 360)
    planes = source.frame(0, 0)
    luma = planes[: 640 * 360].reshape(360, 640)
    for (x, y), rgb in zip(bar_centres(640, 360), BAR_RGB, strict=True):
        assert luma[y, x] == rgb_to_ycbcr709(*rgb)[0]


def test_pattern_refuses_tiny_or_odd_sizes() -> None:
    for size in ((200, 144), (256, 100), (641, 360)):
        with pytest.raises(ValueError):
            PatternSource(*size)
