"""Pins in the desktop's secret store: a working keyring backend keeps them, and without one
the 0600 file does, with the reason said once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError

from lumen_client.app.keyring_store import SERVICE, KeyringTrustStore
from lumen_client.trust_store import TrustStore
from lumen_core.errors import PinError

FP = "ab" * 32


class MemoryKeyring(KeyringBackend):
    """A keyring backend in memory, registered through keyring's own API."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.secrets.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture
def backend() -> Iterator[MemoryKeyring]:
    before = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    yield memory
    keyring.set_keyring(before)


def test_a_working_keyring_keeps_the_pins(backend: MemoryKeyring, tmp_path: Path) -> None:
    store = KeyringTrustStore(TrustStore(tmp_path / "pins.json"))
    assert store.fallback_reason is None and store.path == "the system keyring"
    store.put("den:9777", FP.upper())
    assert backend.secrets == {(SERVICE, "den:9777"): FP} and store.get("den:9777") == FP
    assert not (tmp_path / "pins.json").exists()
    store.forget("den:9777")
    store.forget("den:9777")  # nothing stored: not an error
    assert store.get("den:9777") is None


def test_a_malformed_pin_in_the_keyring_fails_closed(backend: MemoryKeyring, tmp_path: Path) -> None:
    backend.set_password(SERVICE, "den", "not a fingerprint")
    with pytest.raises(PinError):
        KeyringTrustStore(TrustStore(tmp_path / "pins.json")).get("den")


def test_without_a_keyring_the_file_keeps_them(tmp_path: Path) -> None:
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        store = KeyringTrustStore(TrustStore(tmp_path / "pins.json"))
    finally:
        keyring.set_keyring(before)
    assert store.fallback_reason == "no system keyring is available" and store.path == str(tmp_path / "pins.json")
    store.put("den", FP)
    assert TrustStore(tmp_path / "pins.json").get("den") == FP
    store.forget("den")
    assert store.get("den") is None
