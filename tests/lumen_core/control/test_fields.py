"""Tagged fields, the encoding under every extension block and extended message, on a
table of its own: each kind's width, the rules for unknown, repeated and missing tags,
and what the encoder refuses before anything reaches the wire."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import pytest
from fuzzing import fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from lumen_core.control.fields import Field, Fields, between, decode_fields, encode_fields
from lumen_core.errors import ProtocolError


@dataclass(frozen=True)
class Sample(Fields):
    FIELDS: ClassVar[tuple[Field, ...]] = (
        Field(1, "count", "u16", check=between(1, 1000)),
        Field(2, "flag", "bool", required=False),
        Field(3, "name", "str", required=False, limit=4),
        Field(4, "key", "bytes", required=False, exact=2),
        Field(5, "big", "u64", required=False),
    )
    count: int
    flag: bool | None = None
    name: str | None = None
    key: bytes | None = None
    big: int | None = None


def test_each_kind_is_its_width_little_endian_and_optional_fields_are_left_out() -> None:
    assert encode_fields(Sample(count=0x0102)) == b"\x01\x02\x00\x02\x01"
    full = Sample(count=7, flag=True, name="dén", key=b"\xaa\xbb", big=2**64 - 1)
    wire = encode_fields(full)
    assert wire == (b"\x01\x02\x00\x07\x00" b"\x02\x01\x00\x01" b"\x03\x04\x00d\xc3\xa9n"
                    b"\x04\x02\x00\xaa\xbb" b"\x05\x08\x00" + b"\xff" * 8)
    assert decode_fields(Sample, wire) == full


def test_fields_come_in_any_order_and_unknown_tags_are_skipped() -> None:
    wire = b"\x09\x03\x00xyz" b"\x02\x01\x00\x00" b"\x01\x02\x00\x05\x00"
    assert decode_fields(Sample, wire) == Sample(count=5, flag=False)


@pytest.mark.parametrize(("wire", "why"), [
    (b"", "Sample.count is missing"),
    (b"\x01\x02\x00\x00\x00", "Sample.count: value out of range"),  # its check: 1..1000
    (b"\x01\x01\x00\x05", "Sample.count: 1 bytes for a u16"),
    (b"\x01\x02\x00\x05\x00\x01\x02\x00\x06\x00", "Sample.count appears twice"),
    (b"\x01\x02\x00\x05\x00\x02\x01\x00\x02", "Sample.flag: a boolean is one byte, 0 or 1"),
    (b"\x01\x02\x00\x05\x00\x03\x05\x00abcde", "Sample.name: value out of range"),  # over its limit
    (b"\x01\x02\x00\x05\x00\x03\x01\x00\xff", "Sample.name: not UTF-8"),
    (b"\x01\x02\x00\x05\x00\x04\x01\x00\xaa", "Sample.key: value out of range"),  # not exactly 2
    (b"\x01\x02", "Sample: truncated field header"),
    (b"\x01\x03\x00\x05\x00", "Sample: field 1 runs past the end"),
])
def test_malformed_fields_are_protocol_errors_that_name_the_field(wire: bytes, why: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_fields(Sample, wire)
    assert str(raised.value) == why


@pytest.mark.parametrize(("sample", "why"), [
    (Sample(count=None), "Sample.count is required"),  # type: ignore[arg-type]
    (Sample(count=1001), "Sample.count=1001 is out of range"),
    (Sample(count=1, name="long name"), "Sample.name='long name' is out of range"),
    (Sample(count=1, key=b"abc"), "Sample.key=b'abc' is out of range"),
    (Sample(count=1, big=2**64), "Sample.big=18446744073709551616 is out of range"),
])
def test_the_encoder_refuses_what_the_decoder_would(sample: Sample, why: str) -> None:
    with pytest.raises(ValueError) as raised:
        encode_fields(sample)
    assert str(raised.value) == why


@fuzz_settings
@given(st.binary(max_size=60))
def test_any_bytes_are_a_protocol_error_or_fields_that_encode_back(data: bytes) -> None:
    try:
        decoded = decode_fields(Sample, data)
    except ProtocolError:
        return
    assert isinstance(decoded, Sample) and decode_fields(Sample, encode_fields(decoded)) == decoded
