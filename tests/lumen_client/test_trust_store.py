"""The headless client's pins: one 0600 JSON file, read afresh each time, failing closed."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lumen_client.trust_store import TrustStore
from lumen_core.errors import PinError

FP = "0123456789abcdef" * 4


def test_pins_are_kept_normalised_in_a_private_file(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "lumen" / "known_hosts.json")
    assert store.get("den") is None
    store.put("den", ":".join(FP[i : i + 2] for i in range(0, 64, 2)).upper())
    assert store.get("den") == FP and TrustStore(store.path).get("den") == FP
    assert json.loads(store.path.read_text()) == {"den": FP}
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.forget("den")
    store.forget("attic")  # nothing stored: nothing written
    assert json.loads(store.path.read_text()) == {}


@pytest.mark.parametrize(("content", "why"), [
    ("{", "cannot read the trust store"),
    ("[]", "is not a JSON object"),
    ('{"den": "not a pin"}', "only hex digits"),  # a malformed stored pin is an error, never "no pin"
])
def test_a_damaged_file_fails_closed(tmp_path: Path, content: str, why: str) -> None:
    path = tmp_path / "known_hosts.json"
    path.write_text(content)
    with pytest.raises(PinError, match=why):
        TrustStore(path).get("den")
    with pytest.raises(PinError):
        TrustStore(path).put("attic", FP)  # nothing written over what could not be read
    assert path.read_text() == content


def test_a_malformed_new_pin_is_refused_before_writing(tmp_path: Path) -> None:
    store = TrustStore(tmp_path / "known_hosts.json")
    with pytest.raises(PinError):
        store.put("den", "abc")
    assert not store.path.exists()
