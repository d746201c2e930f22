"""Pairing from the desktop client: the PIN dialog and the pairing connection behind it.

The person runs ``lumen-host pair`` on the host and types the PIN it prints. The
exchange (lumen_core/session/auth.py) runs on its own thread, as a stream session
does; a wrong PIN keeps the dialog open to try again, and nothing is stored until the
host has confirmed the pairing (the host's fingerprint is then pinned, no prompt).
"""

from __future__ import annotations

import asyncio
import threading

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from lumen_core.session.auth import parse_pin_code

from ..session import SessionError, StreamOptions, StreamSession, TrustError


class PairingRun(QObject):
    """One pairing connection on a thread; reports ``paired(fingerprint)`` or ``failed(why)``."""

    paired = Signal(str)
    failed = Signal(str)

    def __init__(self, host: str, port: int, pin: str, identity: Ed25519PrivateKey, store) -> None:
        super().__init__()
        self.options = StreamOptions(host=host, port=port, identity=identity, pair_pin=pin)
        self._store = store
        self._thread = threading.Thread(target=self._run, name="lumen-pair", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout_s: float = 15.0) -> None:
        self._thread.join(timeout_s)

    def _run(self) -> None:
        try:
            result = asyncio.run(StreamSession(self.options, self._store, lambda fp: None).run())
        except (SessionError, TrustError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: shown, not swallowed
            self.failed.emit(f"unexpected error: {exc}")
        else:
            if result.paired:
                self.paired.emit(result.host_fingerprint)
            else:
                self.failed.emit(result.end_reason or "the host ended the pairing")


class PairDialog(QDialog):
    """Type the host's PIN. ``start_pairing(pin)`` is the owner's (it runs the exchange
    and calls ``pairing_failed`` or closes the dialog)."""

    pin_entered = Signal(str)

    def __init__(self, address: str, reason: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.address = address
        self.setWindowTitle("Pair with host")
        layout = QVBoxLayout(self)
        intro = QLabel(
            (f"{reason}<br><br>" if reason else "")
            + f"To pair with <b>{address}</b>, run <code>lumen-host pair</code> on it and type the PIN it prints."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        self.pin = QLineEdit()
        self.pin.setPlaceholderText("123 456")
        self.pin.setMaxLength(9)
        self.pin.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.pin)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QDialogButtonBox()
        self.pair_button = QPushButton("Pair")
        self.cancel_button = QPushButton("Cancel")
        buttons.addButton(self.pair_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        self.pair_button.clicked.connect(self._pair)
        self.pin.returnPressed.connect(self._pair)
        buttons.rejected.connect(self.reject)
        self.pair_button.setDefault(True)
        layout.addWidget(buttons)

    def _pair(self) -> None:
        try:
            pin = parse_pin_code(self.pin.text())
        except ValueError as exc:
            self._show_error(str(exc))
            return
        self.pair_button.setEnabled(False)
        self.pin.setEnabled(False)
        self.status.setStyleSheet("")
        self.status.setText("Pairing…")
        self.pin_entered.emit(pin)

    def pairing_failed(self, why: str) -> None:
        """Try again: the PIN field is cleared and open."""
        self.pin.clear()
        self.pin.setEnabled(True)
        self.pair_button.setEnabled(True)
        self.pin.setFocus()
        self._show_error(why)

    def _show_error(self, text: str) -> None:
        self.status.setStyleSheet("color: #c00;")
        self.status.setText(text[:1].upper() + text[1:])
