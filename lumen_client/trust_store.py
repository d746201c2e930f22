"""Where the client keeps the fingerprints it trusts, by host address.

A JSON file ``$XDG_CONFIG_HOME/lumen/known_hosts.json`` (mode 0600). The desktop client
layers the system keyring over it; the headless client uses the file alone.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from lumen_core.errors import PinError
from lumen_core.files import write_private
from lumen_core.identity import config_dir
from lumen_core.trust import parse_pin


class PinStore(Protocol):
    """Where pins are kept: this file, or the keyring over it (app/keyring_store.py)."""

    @property
    def path(self) -> Path | str:
        """Where, for a message to the person."""
        ...

    def get(self, host: str) -> str | None: ...

    def put(self, host: str, fingerprint: str) -> None: ...

    def forget(self, host: str) -> None: ...


class TrustStore:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / "known_hosts.json"

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text())
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise PinError(f"cannot read the trust store {self.path}: {exc}") from None
        if not isinstance(data, dict):
            raise PinError(f"the trust store {self.path} is not a JSON object")
        # A malformed stored pin fails closed: it is an error, never "no pin".
        return {str(host): parse_pin(str(pin)) for host, pin in data.items()}

    def get(self, host: str) -> str | None:
        return self._load().get(host)

    def put(self, host: str, fingerprint: str) -> None:
        pins = self._load()
        pins[host] = parse_pin(fingerprint)
        write_private(self.path, json.dumps(pins, indent=2, sort_keys=True).encode())

    def forget(self, host: str) -> None:
        pins = self._load()
        if pins.pop(host, None) is not None:
            write_private(self.path, json.dumps(pins, indent=2, sort_keys=True).encode())
