"""The host's paired clients, PIN file and attempt limit (host/pairing.py), on real files."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest
from lumen_host.pairing import FREE_ATTEMPTS, ClientRegistry, ClientsError, PairingGate, PinFile

NOW = datetime.datetime(2026, 12, 2, 8, 0, tzinfo=datetime.UTC)


def test_five_attempts_are_free_then_each_waits_two_seconds_doubling() -> None:
    gate = PairingGate()
    assert [gate.admit(0.0) for _ in range(FREE_ATTEMPTS)] == [0.0] * FREE_ATTEMPTS
    assert gate.admit(0.5) == pytest.approx(1.5)  # the 6th: 2 s after the 5th
    assert gate.admit(2.0) == 0.0
    assert gate.admit(5.9) == pytest.approx(0.1)  # the 7th: 4 s after the 6th
    assert gate.admit(6.0) == 0.0
    assert gate.admit(13.0) == pytest.approx(1.0)  # the 8th: 8 s after the 7th
    assert gate.pending == 7  # refused attempts are not counted, let-in ones are until they succeed
    gate.succeeded()
    assert gate.admit(13.0) == 0.0 and gate.pending == 1


def test_clients_are_stored_with_unique_names_and_revoked_by_name_or_key_id(tmp_path: Path) -> None:
    registry = ClientRegistry(tmp_path)
    a = registry.add("laptop", b"a" * 32, NOW)
    b = registry.add("laptop", b"b" * 32, NOW)
    assert (a.name, b.name) == ("laptop", "laptop (2)")
    registry.add("laptop", b"a" * 32, NOW)  # a key paired again keeps one entry
    assert len(registry.clients()) == 2
    assert (tmp_path / "clients.json").stat().st_mode & 0o777 == 0o600
    assert ClientRegistry(tmp_path).authorized(b"b" * 32) is not None  # another reader sees the file
    gone = registry.revoke(b.key_id[:9])
    assert gone.key == b"b" * 32 and registry.authorized(b"b" * 32) is None
    with pytest.raises(ClientsError, match="no paired client is called 'desk'"):
        registry.revoke("desk")
    stored = json.loads((tmp_path / "clients.json").read_text())["clients"]
    assert [c["key"] for c in stored] == [(b"a" * 32).hex()]


def test_a_malformed_clients_file_is_an_error_never_an_empty_list(tmp_path: Path) -> None:
    for text in ("not json", "[]", '{"clients": [{"name": "x"}]}', '{"clients": [{"name": "x", "key": "00", '
                 '"paired": ""}]}'):
        (tmp_path / "clients.json").write_text(text)
        with pytest.raises(ClientsError):
            ClientRegistry(tmp_path).clients()


def test_a_pin_is_six_digits_valid_until_it_expires_and_used_once(tmp_path: Path) -> None:
    pins = PinFile(tmp_path)
    assert pins.current(0.0) is None
    pin = pins.create(1000.0, lifetime_s=300.0)
    assert len(pin) == 6 and pin.isdigit()
    assert (tmp_path / "pairing-pin.json").stat().st_mode & 0o777 == 0o600
    assert pins.current(1299.0) == pin and pins.current(1300.0) is None
    pins.consume()
    assert pins.current(1001.0) is None
    pins.consume()  # twice is fine
    (tmp_path / "pairing-pin.json").write_text("{}")
    with pytest.raises(ClientsError, match="malformed"):
        pins.current(0.0)
