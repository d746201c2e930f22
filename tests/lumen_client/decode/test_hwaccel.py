"""The hardware codec paths: NVENC / VAAPI / QSV encode and CUDA / VAAPI decode.

They run where the machine has such a device and are skipped, with the reason, where it
has none (the PyPI wheel of PyAV carries CUDA and NVENC but not VAAPI). The software
paths they fall back to are exercised by test_pattern.py and every streaming test.
"""

from __future__ import annotations

import av
import pytest
from lumen_host.video import ENCODERS, EncoderSettings, PatternVideo, open_encoder

from lumen_client.decode import Decoder, open_decoder
from lumen_core.band import read_band

SIZE = (1280, 720)
PRESENTABLE = ("yuv420p", "yuvj420p", "nv12")  # what the GL presenter uploads without converting


def _stamps(count: int) -> list[tuple[int, int]]:
    return [(n, 1_000_000_000 * 3600 + n * 16_666_667) for n in range(count)]


def _hardware_encoder() -> tuple[av.CodecContext, str]:
    hardware = [name for name in ENCODERS["h264"] if not name.startswith("lib")]
    try:
        return open_encoder(EncoderSettings("h264", *SIZE, 60, 8000), hardware)
    except RuntimeError as exc:
        pytest.skip(f"no hardware H.264 encoder opens here ({exc})")


def _hardware_decoder() -> tuple[Decoder, str]:
    decoder = open_decoder("h264", "hardware")
    if decoder.device is None:
        pytest.skip(f"no hardware decode device opens here (FFmpeg offers {av.codec.hwaccel.hwdevices_available()})")
    return decoder, decoder.device


def _roundtrip(encoder: av.CodecContext, decoder: Decoder) -> tuple[list[tuple[int, int]], set[str]]:
    source = PatternVideo(*SIZE)
    stamps = _stamps(60)
    seen, formats = [], set()
    for n, capture_ns in stamps:
        frame = source.grab(n, capture_ns)
        frame.pts = n
        for packet in encoder.encode(frame):
            for picture in decoder.decode(bytes(packet)):
                formats.add(picture.format.name)
                seen.append(read_band(picture.to_ndarray(format="gray")))
    assert seen == stamps[: len(seen)]
    return seen, formats


def test_hardware_encoder_makes_a_stream_software_decodes() -> None:
    encoder, name = _hardware_encoder()
    decoder = open_decoder("h264", "software")
    seen, _ = _roundtrip(encoder, decoder)
    # Zero latency: at most a frame or two held back by the encoder.
    assert len(seen) >= 58, f"{name} returned {len(seen)} of 60 pictures"


def test_hardware_decoder_decodes_on_the_device() -> None:
    decoder, device = _hardware_decoder()
    encoder, _ = open_encoder(EncoderSettings("h264", *SIZE, 60, 8000), ["libx264"])
    seen, formats = _roundtrip(encoder, decoder)
    assert decoder.in_use() == f"{device} (hardware)", f"{device} accepted the stream but decoded in software"
    assert len(seen) >= 58
    assert formats <= set(PRESENTABLE), f"pictures arrive as {formats}, the presenter would convert them"
