"""Client authentication and PIN pairing (extension version 2): what each side signs,
derives and compares. Pure functions over bytes; the session cores (client.py,
host.py) decide when they run, and docs/protocol.md ("Client authentication", "PIN
pairing") is the byte-level description.

- Authentication: the host's AuthChallenge carries a fresh 32-byte nonce; the client
  signs ``PROOF_LABEL || nonce || host fingerprint (32 bytes) || client key`` with its
  Ed25519 key. Binding the fingerprint the client *saw* makes a relayed challenge
  useless: a machine in the middle has another certificate, so the real host rejects
  the proof.
- Pairing: SPAKE2 (the ``spake2`` package, Ed25519 group) keyed by the PIN, with the
  client's key and the host's fingerprint as the two identities, so the shared key
  exists only if both sides used the same PIN *and* agree on who they are. Each side
  then proves it holds the key with an HMAC under its own label; the host answers
  first, and a client with a wrong PIN learns only that it was wrong: one online guess
  per attempt, nothing to test offline.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from spake2 import SPAKE2_A, SPAKE2_B
from spake2.spake2 import SPAKEError

from ..errors import LumenError

PROOF_LABEL: Final = b"lumen/1 client proof\x00"
CLIENT_ID_LABEL: Final = b"lumen/1 client "
HOST_ID_LABEL: Final = b"lumen/1 host "
HOST_CONFIRM_LABEL: Final = b"lumen/1 pair host confirm"
CLIENT_CONFIRM_LABEL: Final = b"lumen/1 pair client confirm"
NONCE_SIZE: Final = 32
KEY_SIZE: Final = 32
SPAKE_MESSAGE_SIZE: Final = 33
PIN_DIGITS: Final = 6


class PairingError(LumenError):
    """The pairing exchange did not verify: a wrong PIN, or someone in between."""


def _fingerprint_bytes(host_fingerprint: str) -> bytes:
    raw = bytes.fromhex(host_fingerprint)
    if len(raw) != 32:
        raise ValueError("a host fingerprint is 32 bytes (SHA-256)")
    return raw


def proof_message(nonce: bytes, host_fingerprint: str, client_key: bytes) -> bytes:
    return PROOF_LABEL + nonce + _fingerprint_bytes(host_fingerprint) + client_key


def sign_proof(key: Ed25519PrivateKey, nonce: bytes, host_fingerprint: str) -> bytes:
    return key.sign(proof_message(nonce, host_fingerprint, public_key_bytes(key)))


def verify_proof(client_key: bytes, signature: bytes, nonce: bytes, host_fingerprint: str) -> bool:
    """True only if ``signature`` is ``client_key``'s over this challenge and host."""
    try:
        public = Ed25519PublicKey.from_public_bytes(client_key)
        public.verify(signature, proof_message(nonce, host_fingerprint, client_key))
    except (InvalidSignature, ValueError):
        return False
    return True


def public_key_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(client_key: bytes) -> str:
    """A short, public name for a client key, for lists and logs (never a secret)."""
    digest = hashlib.sha256(client_key).hexdigest()[:16]
    return ":".join(digest[i : i + 4] for i in range(0, 16, 4))


def new_pin() -> str:
    return f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"


def parse_pin_code(text: str) -> str:
    """A PIN as a person typed it -> its digits; ValueError says what is wrong. Spaces
    and dashes between digit groups are allowed ("123 456", "123-456")."""
    digits = "".join(c for c in text.strip() if c not in " -")
    if not digits.isascii() or not digits.isdigit():
        raise ValueError(f"a pairing PIN is {PIN_DIGITS} digits, not {text.strip()!r}")
    if len(digits) != PIN_DIGITS:
        raise ValueError(f"a pairing PIN is {PIN_DIGITS} digits; {len(digits)} given")
    return digits


class PairingExchange:
    """One side of a pairing: SPAKE2 plus key confirmation.

    ``message`` goes to the peer; ``finish`` takes the peer's; then ``host_confirm``
    and ``client_confirm`` are the two HMACs (each side sends its own and checks the
    other's with ``check``).
    """

    def __init__(self, side: str, pin: str, client_key: bytes, host_fingerprint: str) -> None:
        id_a = CLIENT_ID_LABEL + client_key
        id_b = HOST_ID_LABEL + _fingerprint_bytes(host_fingerprint)
        cls = SPAKE2_A if side == "client" else SPAKE2_B
        self._spake = cls(pin.encode("ascii"), idA=id_a, idB=id_b)
        self.message: bytes = self._spake.start()
        self._key: bytes | None = None

    def finish(self, peer_message: bytes) -> None:
        try:
            self._key = self._spake.finish(peer_message)
        except (SPAKEError, ValueError) as exc:
            raise PairingError(f"the peer's pairing message is not valid: {exc}") from None

    def _mac(self, label: bytes) -> bytes:
        if self._key is None:
            raise RuntimeError("finish() first")
        return hmac.new(self._key, label, hashlib.sha256).digest()

    @property
    def host_confirm(self) -> bytes:
        return self._mac(HOST_CONFIRM_LABEL)

    @property
    def client_confirm(self) -> bytes:
        return self._mac(CLIENT_CONFIRM_LABEL)

    @staticmethod
    def check(expected: bytes, received: bytes) -> bool:
        return hmac.compare_digest(expected, received)
