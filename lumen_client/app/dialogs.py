"""Dialogs: trusting a new host, a host whose fingerprint changed, adding a host, settings."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from lumen_core.net.wake import format_mac, parse_mac
from lumen_core.trust import format_fingerprint

from ..address import parse_address
from .settings import RESOLUTIONS, Settings


def grouped_fingerprint(fingerprint: str) -> str:
    """Colon pairs in four lines of eight, the way it reads next to lumen-host's log."""
    pairs = format_fingerprint(fingerprint).split(":")
    return "\n".join(":".join(pairs[i : i + 8]) for i in range(0, len(pairs), 8))


def _mono(text: str) -> QLabel:
    label = QLabel(text)
    font = QFont("monospace")
    font.setStyleHint(QFont.StyleHint.Monospace)
    label.setFont(font)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class TrustDialog(QDialog):
    """First connection to a host: show its fingerprint; trust it or not."""

    def __init__(self, host: str, fingerprint: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trust this host?")
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            f"This is the first connection to <b>{host}</b>.<br>"
            "Check that its fingerprint matches the one <code>lumen-host</code> logged when it started:"
        ))
        layout.addWidget(_mono(grouped_fingerprint(fingerprint)))
        layout.addWidget(QLabel("A host that requires pairing needs no comparing: pair with the PIN that "
                                "<code>lumen-host pair</code> prints on it instead."))
        buttons = QDialogButtonBox()
        self.trust_button = QPushButton("Trust and connect")
        self.pair_button = QPushButton("Pair with PIN…")
        self.cancel_button = QPushButton("Cancel")
        self.pair_instead = False
        buttons.addButton(self.trust_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.pair_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.cancel_button, QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.pair_button.clicked.connect(self._pair)
        self.cancel_button.setDefault(True)  # Enter must not trust by accident
        layout.addWidget(buttons)

    def _pair(self) -> None:
        self.pair_instead = True
        self.reject()


def fingerprint_changed_box(host: str, stored: str, observed: str, where: str, parent: QWidget | None) -> QMessageBox:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Warning)
    box.setWindowTitle("Host identity changed")
    box.setText(f"The identity of {host} has changed. The connection was refused.")
    box.setInformativeText(
        "The host presented a different certificate from the one you trusted. Either it was "
        "reinstalled (its identity files were lost) or someone is impersonating it.\n\n"
        f"Trusted:\n{grouped_fingerprint(stored)}\n\nPresented:\n{grouped_fingerprint(observed)}\n\n"
        "If you are sure the host was reinstalled, choose \"Forget pin\" for it in the host list "
        f"and connect again. (Pins are kept in {where}.)"
    )
    box.setStandardButtons(QMessageBox.StandardButton.Close)
    return box


class HostDialog(QDialog):
    """Add or edit a saved host."""

    def __init__(self, parent: QWidget | None = None, name: str = "", address: str = "", mac: str = "") -> None:
        super().__init__(parent)
        self.setWindowTitle("Host")
        form = QFormLayout(self)
        self.name = QLineEdit(name)
        self.address = QLineEdit(address)
        self.address.setPlaceholderText("192.168.1.20 or host.lan:9777")
        self.mac = QLineEdit(mac)
        self.mac.setPlaceholderText("optional, for Wake: 3c:7c:3f:1e:22:9a (ip link on the host)")
        self.error = QLabel("")
        self.error.setStyleSheet("color: #c00;")
        form.addRow("Name", self.name)
        form.addRow("Address", self.address)
        form.addRow("MAC address", self.mac)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _check(self) -> None:
        try:
            parse_address(self.address.text())
            if self.mac.text().strip():
                self.mac.setText(format_mac(parse_mac(self.mac.text())))
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        if not self.name.text().strip():
            self.name.setText(self.address.text().strip())
        self.accept()


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, audio_devices: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self._settings = settings
        form = QFormLayout(self)
        self.resolution = QComboBox()
        for w, h in RESOLUTIONS:
            self.resolution.addItem(f"{w}x{h}", (w, h))
        self.resolution.setCurrentText(f"{settings.width}x{settings.height}")
        self.fps = QComboBox()
        for fps in (30, 60, 90, 120):
            self.fps.addItem(str(fps), fps)
        self.fps.setCurrentText(str(settings.fps))
        self.bitrate = QSpinBox()
        self.bitrate.setRange(0, 500_000)
        self.bitrate.setSingleStep(1000)
        self.bitrate.setSuffix(" kbit/s")
        self.bitrate.setSpecialValueText("host default")
        self.bitrate.setValue(settings.bitrate_kbps)
        self.codec = QComboBox()
        self.codec.addItems(["h264", "hevc"])
        self.codec.setCurrentText(settings.codec)
        self.decoder = QComboBox()
        self.decoder.addItems(["auto", "hardware", "software"])
        self.decoder.setCurrentText(settings.decoder)
        self.audio = QComboBox()
        self.audio.addItem("system default", "")
        for name in audio_devices:
            self.audio.addItem(name, name)
        index = self.audio.findData(settings.audio_device)
        self.audio.setCurrentIndex(max(0, index))
        self.gamepads = QCheckBox("Forward game controllers")
        self.gamepads.setChecked(settings.gamepads)
        self.fullscreen = QCheckBox("Start streams full screen")
        self.fullscreen.setChecked(settings.fullscreen)
        self.vsync = QCheckBox("V-sync (no tearing; up to one refresh of added latency)")
        self.vsync.setChecked(settings.vsync)
        form.addRow("Resolution", self.resolution)
        form.addRow("Frame rate", self.fps)
        form.addRow("Bitrate", self.bitrate)
        form.addRow("Codec", self.codec)
        form.addRow("Decoder", self.decoder)
        form.addRow("Audio output", self.audio)
        form.addRow(self.gamepads)
        form.addRow(self.fullscreen)
        form.addRow(self.vsync)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _save(self) -> None:
        s = self._settings
        s.width, s.height = self.resolution.currentData()
        s.fps = self.fps.currentData()
        s.bitrate_kbps = self.bitrate.value()
        s.codec = self.codec.currentText()
        s.decoder = self.decoder.currentText()
        s.audio_device = self.audio.currentData()
        s.gamepads = self.gamepads.isChecked()
        s.fullscreen = self.fullscreen.isChecked()
        s.vsync = self.vsync.isChecked()
        s.save()
        self.accept()
