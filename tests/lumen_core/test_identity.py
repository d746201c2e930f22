"""The host identity on disk: created once, private, stable, and refused when it is not safe."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from lumen_core.errors import IdentityError
from lumen_core.identity import CERT_FILE, KEY_FILE, create_identity, load_identity, load_or_create_identity
from lumen_core.trust import fingerprint


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
