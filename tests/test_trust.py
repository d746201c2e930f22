"""Fingerprints, pin parsing, and the host identity on disk."""

from __future__ import annotations

import hashlib
import os
import stat
import string
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from fuzzing import FUZZ_EXAMPLES, fuzz_settings
from hypothesis import given
from hypothesis import strategies as st

from lumen_core.errors import IdentityError, PinError
from lumen_core.identity import CERT_FILE, KEY_FILE, create_identity, load_identity, load_or_create_identity
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


def test_identity_is_created_once_private_and_stable(tmp_path: Path) -> None:
    directory = tmp_path / "lumen"
    first, created = load_or_create_identity(directory)
    assert created
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in (KEY_FILE, CERT_FILE):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    again, created = load_or_create_identity(directory)
    assert not created and again.fingerprint == first.fingerprint
    cert = x509.load_pem_x509_certificate((directory / CERT_FILE).read_bytes())
    assert fingerprint(cert.public_bytes(Encoding.DER)) == first.fingerprint


def test_identity_readable_by_others_is_refused(tmp_path: Path) -> None:
    create_identity(tmp_path)
    os.chmod(tmp_path / KEY_FILE, 0o644)
    with pytest.raises(IdentityError, match="chmod 600"):
        load_identity(tmp_path)


def test_lone_or_mismatched_files_are_refused(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    create_identity(a)
    create_identity(b)
    os.replace(b / CERT_FILE, a / CERT_FILE)
    with pytest.raises(IdentityError, match="does not belong"):
        load_identity(a)
    with pytest.raises(IdentityError, match="missing"):
        load_or_create_identity(b)  # the key alone must not be replaced silently
    (a / KEY_FILE).write_bytes(b"not a key")
    with pytest.raises(IdentityError, match="cannot read"):
        load_identity(a)
