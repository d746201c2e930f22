"""Fingerprints and pin parsing: every way people write a fingerprint, and anything else refused."""

from __future__ import annotations

import hashlib
import string

import pytest
from fuzzing import FUZZ_EXAMPLES, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from lumen_core.errors import PinError
from lumen_core.trust import fingerprint, format_fingerprint, parse_pin, pin_matches

FP = "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "text",
    [
        FP,
        FP.upper(),
        f"  {FP}\n",
        format_fingerprint(FP),
        format_fingerprint(FP).lower(),
        " ".join(FP[i : i + 4] for i in range(0, 64, 4)),
        " ".join(FP[i : i + 2] for i in range(0, 64, 2)),
        "  ".join(FP[i : i + 8] for i in range(0, 64, 8)),
    ],
)
def test_valid_pin_forms(text: str) -> None:
    assert parse_pin(text) == FP


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("   ", "empty"),
        (FP[:-1], "63 hex digits"),
        (FP + "0", "65 hex digits"),
        (FP[:-1] + "g", "'g' at position 64"),
        (FP.replace("0", "-"), "'-'"),
        (":" + format_fingerprint(FP), "empty group"),
        (format_fingerprint(FP) + ":", "empty group"),
        (format_fingerprint(FP).replace(":", "::", 1), "empty group"),
        (format_fingerprint(FP).replace(":", " ", 1), "mixes colons and spaces"),
        (FP[:32] + "\t" + FP[32:], "'\\t'"),
        ("０" * 64, "position 1"),  # full-width digits are not hex
        ("SHA256 Fingerprint=" + format_fingerprint(FP), "'S'"),
    ],
)
def test_malformed_pins_are_refused_with_a_message(text: str, message: str) -> None:
    with pytest.raises(PinError) as info:
        parse_pin(text)
    assert message in str(info.value)


@fuzz_settings
@given(st.text(max_size=120))
def test_random_text_is_a_pin_or_a_pin_error(text: str) -> None:
    try:
        pin = parse_pin(text)
    except PinError as exc:
        assert str(exc)
    else:
        assert len(pin) == 64 and set(pin) <= set(string.hexdigits.lower())


@fuzz_settings
@given(st.lists(st.sampled_from(list(string.hexdigits + ": \n")), max_size=140).map("".join))
def test_near_valid_text_is_a_pin_or_a_pin_error(text: str) -> None:
    assert FUZZ_EXAMPLES >= 5000
    try:
        pin = parse_pin(text)
    except PinError:
        return
    assert pin == "".join(c for c in text if c in string.hexdigits).lower()


def test_fingerprint_is_sha256_of_der_and_compares_in_constant_time() -> None:
    der = b"\x30\x03\x02\x01\x01"
    assert fingerprint(der) == hashlib.sha256(der).hexdigest()
    assert pin_matches(FP, FP.upper()) and not pin_matches(FP, FP[::-1])
    assert format_fingerprint(FP).startswith("01:23:45:67")
