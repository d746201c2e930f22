"""Persistent identities: the host's private key and self-signed certificate, and the
client's Ed25519 key pair (what a host that requires pairing knows the client by).

Stored in ``$XDG_CONFIG_HOME/lumen/`` (default ``~/.config/lumen/``) as ``host-key.pem``
and ``host-cert.pem``, both mode 0600 in a 0700 directory, created on first start. The
certificate is what clients pin, so it is kept for good: losing it means every client
must trust the host again. The client's key is ``client-key.pem`` (mode 0600) in the
same directory; losing it means pairing again. Files that others can read are refused,
not fixed quietly.
"""

from __future__ import annotations

import datetime
import os
import platform
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from .errors import IdentityError
from .files import write_private
from .trust import fingerprint

KEY_FILE: Final = "host-key.pem"
CERT_FILE: Final = "host-cert.pem"
CLIENT_KEY_FILE: Final = "client-key.pem"
# The pin is the certificate, so it outlives any realistic host; 20 years.
VALIDITY: Final = datetime.timedelta(days=20 * 365)


@dataclass(frozen=True, slots=True)
class Identity:
    key_path: Path
    cert_path: Path
    cert_der: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.cert_der)


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "lumen"


def create_identity(directory: Path, common_name: str | None = None) -> Identity:
    """Make a new ECDSA P-256 key and self-signed certificate in ``directory``."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name or f"lumen host {platform.node()}")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + VALIDITY)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    write_private(directory / KEY_FILE, key_pem)
    write_private(directory / CERT_FILE, cert.public_bytes(serialization.Encoding.PEM))
    return load_identity(directory)


def load_identity(directory: Path) -> Identity:
    """Load and check an identity; IdentityError says what is wrong and how to fix it."""
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    for path in (key_path, cert_path):
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            raise IdentityError(f"{path} is missing") from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdentityError(
                f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
            )
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (ValueError, TypeError, OSError) as exc:
        raise IdentityError(f"cannot read the host identity in {directory}: {exc}") from None
    if cert.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ):
        raise IdentityError(f"{cert_path} does not belong to {key_path}")
    return Identity(key_path, cert_path, cert.public_bytes(serialization.Encoding.DER))


def load_or_create_identity(directory: Path | None = None) -> tuple[Identity, bool]:
    """The identity in ``directory`` (default config_dir()), creating it if absent.

    Returns (identity, created). Only a directory with neither file gets a new one: a
    lone key or certificate is an error, because replacing it would change the pin.
    """
    directory = directory or config_dir()
    try:
        key_exists = (directory / KEY_FILE).exists()
        cert_exists = (directory / CERT_FILE).exists()
        if not key_exists and not cert_exists:
            return create_identity(directory), True
        return load_identity(directory), False
    except OSError as exc:
        raise IdentityError(f"cannot use {directory} for the host identity: {exc.strerror or exc}") from None


def load_or_create_client_key(directory: Path | None = None) -> tuple[Ed25519PrivateKey, bool]:
    """The client's key in ``directory`` (default config_dir()), made on first use.
    Returns (key, created); IdentityError says what is wrong and how to fix it."""
    path = (directory or config_dir()) / CLIENT_KEY_FILE
    try:
        if not path.exists():
            key = Ed25519PrivateKey.generate()
            write_private(path, key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
            return key, True
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise IdentityError(
                f"{path} is readable by other users (mode {stat.S_IMODE(mode):o}); run: chmod 600 {path}"
            )
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as exc:
        raise IdentityError(f"cannot use {path} for the client key: {exc.strerror or exc}") from None
    except (ValueError, TypeError) as exc:
        raise IdentityError(f"cannot read the client key {path}: {exc}") from None
    if not isinstance(loaded, Ed25519PrivateKey):
        raise IdentityError(f"{path} is not an Ed25519 key")
    return loaded, False
