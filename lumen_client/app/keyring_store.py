"""Pins kept in the desktop's secret store through ``keyring``, with a file fallback.

Where no keyring backend works (a bare X session, CI), the 0600 file of the headless
client (trust_store.TrustStore) keeps the pins, and ``fallback_reason`` says so once.
"""

from __future__ import annotations

import logging

from lumen_core.trust import parse_pin

from ..trust_store import TrustStore

log = logging.getLogger(__name__)

SERVICE = "lumen"


class KeyringTrustStore:
    def __init__(self, file_store: TrustStore | None = None) -> None:
        self._file = file_store or TrustStore()
        self.fallback_reason: str | None = None
        self._keyring = None
        try:
            import keyring
            from keyring.backends import fail

            backend = keyring.get_keyring()
            if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) < 1:
                self.fallback_reason = "no system keyring is available"
            else:
                self._keyring = keyring
        except Exception as exc:  # keyring's backends raise their own types
            self.fallback_reason = f"the system keyring failed: {exc}"
        if self.fallback_reason:
            log.info("pins are kept in %s: %s", self._file.path, self.fallback_reason)

    @property
    def path(self) -> str:
        return "the system keyring" if self._keyring else str(self._file.path)

    def get(self, host: str) -> str | None:
        if self._keyring is None:
            return self._file.get(host)
        value = self._keyring.get_password(SERVICE, host)
        return parse_pin(value) if value is not None else None  # malformed: PinError, fail closed

    def put(self, host: str, fingerprint: str) -> None:
        if self._keyring is None:
            self._file.put(host, fingerprint)
        else:
            self._keyring.set_password(SERVICE, host, parse_pin(fingerprint))

    def forget(self, host: str) -> None:
        if self._keyring is None:
            self._file.forget(host)
            return
        try:
            self._keyring.delete_password(SERVICE, host)
        except Exception:  # PasswordDeleteError: nothing stored
            pass
