"""Extension blocks (LMNX) on Hello and Welcome: round trips, unknown fields skipped, malformed
fields refused by name, and fuzzing."""

from __future__ import annotations

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given

from lumen_core.control import HelloExtension, WelcomeExtension, decode_block, encode_block
from lumen_core.errors import ProtocolError


def test_extension_blocks_round_trip_and_skip_unknown_fields() -> None:
    ext = HelloExtension(codecs=bytes([2, 1]), client_name="Pat's laptop", bitrate_kbps=50_000, audio_channels=2,
                         client_key=bytes(range(32)), pair=bytes(33))
    block = encode_block(ext)
    assert block[:5] == b"LMNX\x02"
    assert decode_block(block, HelloExtension) == (2, ext) and ext.codec_names == ("hevc", "h264")
    with_unknown = block + b"\xfe\x03\x00abc"  # a field of a later version
    assert decode_block(with_unknown, HelloExtension) == (2, ext)
    assert decode_block(b"", HelloExtension) is None and decode_block(b"LMNX", HelloExtension) is None
    assert decode_block(b"\x00\x01\x02\x03\x04", HelloExtension) is None  # not ours: M3 ignores it too
    wext = WelcomeExtension(codec=1, host_name="den", bitrate_kbps=20_000, audio_channels=2)
    assert decode_block(encode_block(wext, 3), WelcomeExtension) == (3, wext)


@pytest.mark.parametrize(("fields", "why"), [
    (b"", "HelloExtension.codecs is missing"),
    (b"\x01\x00\x00", "HelloExtension.codecs: value out of range"),
    (b"\x01\x01\x00\x01\x01\x01\x00\x02", "HelloExtension.codecs appears twice"),
    (b"\x01\x01\x00\x01\x03\x02\x00\x01\x00", "HelloExtension.bitrate_kbps: 2 bytes for a u32"),
    (b"\x01\x01\x00\x01\x03\x04\x00\x01\x00\x00\x00", "HelloExtension.bitrate_kbps: value out of range"),
    (b"\x01\x01\x00\x01\x02\x02\x00\xff\xfe", "HelloExtension.client_name: not UTF-8"),
    (b"\x01\x01\x00\x01\x04", "HelloExtension: truncated field header"),
    (b"\x01\x09\x00\x01", "HelloExtension: field 1 runs past the end"),
])
def test_malformed_extension_fields_are_refused_by_name(fields: bytes, why: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_block(b"LMNX\x01" + fields, HelloExtension)
    assert str(raised.value) == why


def test_encoders_refuse_what_decoders_would() -> None:
    with pytest.raises(ValueError, match="codecs"):
        encode_block(HelloExtension(codecs=b""))
    with pytest.raises(ValueError, match="version"):
        encode_block(HelloExtension(codecs=b"\x01"), 0)


BLOCKS = [encode_block(HelloExtension(codecs=b"\x01\x02", client_name="x", bitrate_kbps=1000)),
          encode_block(WelcomeExtension(codec=2, host_name="h"))]


@fuzz_settings
@given(mutated(BLOCKS))
def test_mutated_blocks_are_refused_or_decode_canonically(data: bytes) -> None:
    for cls in (HelloExtension, WelcomeExtension):
        try:
            decoded = decode_block(data, cls)  # type: ignore[type-var]
        except ProtocolError:
            continue
        if decoded is not None:
            version, ext = decoded
            assert decode_block(encode_block(ext, version), cls) == (version, ext)  # type: ignore[type-var]
