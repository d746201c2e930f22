"""Who may stream from this host: the paired clients, the pairing PIN, and the limit on
guessing it.

Files, beside the host identity (``--identity``, default ``$XDG_CONFIG_HOME/lumen/``),
both mode 0600:

- ``clients.json``: the authorized clients, ``{"clients": [{"name", "key", "paired"}]}``
  with the Ed25519 public key in hex. Public keys are not secrets; nothing secret is in
  this file. ``lumen-host clients`` edits it, and a running host re-reads it when it
  changes, so a revocation takes effect at once.
- ``pairing-pin.json``: the PIN ``lumen-host pair`` made and when it expires. It is
  consumed by the pairing that uses it; a wrong PIN leaves it in place.

Guessing is limited as Chrome Remote Desktop limits it: ``FREE_ATTEMPTS`` attempts are
free, then each next one must wait ``BACKOFF_S`` doubling. Every attempt counts from the
moment it is let in until it succeeds, so attempts made in parallel do not escape the
limit; a success clears the count.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from lumen_core.errors import LumenError
from lumen_core.files import write_private
from lumen_core.session.auth import key_id, new_pin

CLIENTS_FILE: Final = "clients.json"
PIN_FILE: Final = "pairing-pin.json"
PIN_LIFETIME_S: Final = 300.0
FREE_ATTEMPTS: Final = 5
BACKOFF_S: Final = 2.0


class ClientsError(LumenError):
    """The clients file or the PIN file cannot be read or written; the message says which."""


def _write_json(path: Path, data: dict[str, Any]) -> None:
    write_private(path, json.dumps(data, indent=2).encode())


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ClientsError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise ClientsError(f"{path} is not a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class PairedClient:
    name: str
    key: bytes
    paired: str  # ISO 8601, UTC

    @property
    def key_id(self) -> str:
        return key_id(self.key)


class ClientRegistry:
    """The authorized clients in ``directory/clients.json``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / CLIENTS_FILE
        self._stamp: tuple[int, int] | None = None
        self._clients: list[PairedClient] = []

    def clients(self) -> list[PairedClient]:
        self._refresh()
        return list(self._clients)

    def authorized(self, key: bytes) -> PairedClient | None:
        return next((c for c in self.clients() if c.key == key), None)

    def add(self, name: str, key: bytes, now: datetime.datetime) -> PairedClient:
        """Authorize ``key`` as ``name`` (made unique); a key paired again keeps one entry."""
        clients = [c for c in self.clients() if c.key != key]
        names = {c.name for c in clients}
        unique, n = name, 2
        while unique in names:
            unique, n = f"{name} ({n})", n + 1
        client = PairedClient(unique, key, now.astimezone(datetime.UTC).isoformat(timespec="seconds"))
        self._save([*clients, client])
        return client

    def revoke(self, name: str) -> PairedClient:
        """Remove the client called ``name`` (or whose key id starts with it)."""
        clients = self.clients()
        matches = [c for c in clients if c.name == name] or [
            c for c in clients if c.key_id.replace(":", "").startswith(name.replace(":", "").lower()) and name
        ]
        if not matches:
            known = ", ".join(repr(c.name) for c in clients) or "none"
            raise ClientsError(f"no paired client is called {name!r} (paired: {known})")
        if len(matches) > 1:
            raise ClientsError(f"{name!r} matches {len(matches)} clients; use the full name")
        self._save([c for c in clients if c is not matches[0]])
        return matches[0]

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size

    def _refresh(self) -> None:
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return
        data = _read(self.path) or {"clients": []}
        clients = []
        try:
            for entry in data.get("clients", []):
                clients.append(PairedClient(str(entry["name"]), bytes.fromhex(entry["key"]), str(entry["paired"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise ClientsError(f"{self.path} has a malformed entry ({exc})") from None
        if any(len(c.key) != 32 for c in clients):
            raise ClientsError(f"{self.path} has a key that is not 32 bytes")
        self._clients, self._stamp = clients, stamp

    def _save(self, clients: list[PairedClient]) -> None:
        _write_json(self.path, {"clients": [
            {"name": c.name, "key": c.key.hex(), "paired": c.paired} for c in clients
        ]})
        self._stamp = None
        self._refresh()


class PinFile:
    """The pairing PIN that ``lumen-host pair`` made, in ``directory/pairing-pin.json``."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / PIN_FILE

    def create(self, now: float, lifetime_s: float = PIN_LIFETIME_S) -> str:
        """A fresh PIN, valid until ``now + lifetime_s`` (wall clock, UNIX seconds)."""
        pin = new_pin()
        _write_json(self.path, {"pin": pin, "expires": now + lifetime_s})
        return pin

    def current(self, now: float) -> str | None:
        """The PIN, if one was made and has not expired."""
        data = _read(self.path)
        if data is None:
            return None
        try:
            pin, expires = str(data["pin"]), float(data["expires"])
        except (KeyError, TypeError, ValueError):
            raise ClientsError(f"{self.path} is malformed; run lumen-host pair again") from None
        return pin if now < expires else None

    def consume(self) -> None:
        try:
            self.path.unlink()
        except FileNotFoundError:
            pass


class PairingGate:
    """Attempt limiting: ``admit(now)`` lets an attempt in (0.0) or says how long to wait."""

    def __init__(self, free: int = FREE_ATTEMPTS, backoff_s: float = BACKOFF_S) -> None:
        self.free, self.backoff_s = free, backoff_s
        self.pending = 0  # attempts let in that have not succeeded (failed, abandoned or in flight)
        self._next_at = 0.0

    def admit(self, now: float) -> float:
        if self.pending >= self.free and now < self._next_at:
            return self._next_at - now
        self.pending += 1
        over = self.pending - self.free
        self._next_at = now + (self.backoff_s * 2 ** (over) if over >= 0 else 0.0)
        return 0.0

    def succeeded(self) -> None:
        self.pending = 0
        self._next_at = 0.0
