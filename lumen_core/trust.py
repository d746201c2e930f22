"""Fingerprints and pins: how a client knows it reached the host it trusts.

A host's fingerprint is the SHA-256 of its DER certificate, 64 hex digits. People
compare fingerprints by eye, so they are shown in colon-separated pairs (the form
``openssl x509 -fingerprint -sha256`` prints) and pins are accepted in the forms people
copy: plain hex, colon-separated, or space-separated groups, any case.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from typing import Final

from .errors import PinError

FINGERPRINT_HEX_DIGITS: Final = 64
_HEX: Final = frozenset(string.hexdigits)


def fingerprint(cert_der: bytes) -> str:
    """SHA-256 of a DER certificate: 64 lowercase hex digits."""
    return hashlib.sha256(cert_der).hexdigest()


def format_fingerprint(fp: str) -> str:
    """``ab:cd:...`` upper-case pairs, the way people compare them."""
    fp = fp.upper()
    return ":".join(fp[i : i + 2] for i in range(0, len(fp), 2))


def parse_pin(text: str) -> str:
    """A pin typed by a person -> 64 lowercase hex digits; PinError says what is wrong.

    Accepted: 64 hex digits, optionally split into groups by single colons or by
    spaces (one separator kind per pin), surrounding whitespace ignored. Everything
    else is refused, including an empty group, a separator at either end, and digits
    that are not hex.
    """
    if not isinstance(text, str):
        raise PinError("pin must be text")
    pin = text.strip()
    if not pin:
        raise PinError("pin is empty; expected 64 hex digits (a SHA-256 fingerprint)")
    for pos, c in enumerate(pin, 1):
        if c not in _HEX and c not in ": ":
            raise PinError(f"pin has {c!r} at position {pos}: only hex digits 0-9 a-f and ':' or ' ' are allowed")
    seps = {c for c in pin if c in ": "}
    if len(seps) > 1:
        raise PinError("pin mixes colons and spaces; use one kind of separator")
    if seps:
        sep = seps.pop()
        groups = pin.split(sep) if sep == ":" else pin.split(" ")
        if sep == " ":
            # Runs of spaces between groups are fine; a colon pin must not have "::".
            groups = [g for g in groups if g]
        if any(not g for g in groups):
            raise PinError("pin has an empty group (a separator at an end or two in a row)")
        digits = "".join(groups)
    else:
        digits = pin
    if len(digits) != FINGERPRINT_HEX_DIGITS:
        raise PinError(f"pin has {len(digits)} hex digits; a SHA-256 fingerprint has {FINGERPRINT_HEX_DIGITS}")
    return digits.lower()


def pin_matches(pin: str, observed: str) -> bool:
    """Constant-time comparison of two normalised fingerprints."""
    return hmac.compare_digest(pin.lower(), observed.lower())
