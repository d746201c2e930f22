"""Real encoder output for decoder tests: the host's test pattern through libx264."""

from __future__ import annotations

from lumen_host.video import EncoderSettings, PatternVideo, open_encoder


def pattern_access_units(count: int, size: tuple[int, int] = (320, 180)) -> list[bytes]:
    """``count`` frames of the pattern, each stamped with frame n and pts 1_000_000 + n."""
    encoder, _ = open_encoder(EncoderSettings("h264", *size, 30, 1000), ["libx264"])
    source, out = PatternVideo(*size), []
    for n in range(count):
        frame = source.grab(n, 1_000_000 + n)
        frame.pts = n
        out += [bytes(p) for p in encoder.encode(frame)]
    return out
