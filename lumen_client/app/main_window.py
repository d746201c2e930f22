"""The main window: saved hosts, connecting with progress, trust decisions, errors."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from lumen_core.errors import LumenError
from lumen_core.trust import format_fingerprint

from ..cli import parse_address
from ..session import StreamOptions
from .connection import Connection
from .dialogs import HostDialog, SettingsDialog, TrustDialog, fingerprint_changed_box
from .keyring_store import KeyringTrustStore
from .settings import SavedHost, Settings
from .stream_window import StreamWindow

log = logging.getLogger(__name__)


def output_devices() -> list[str]:
    try:
        import sounddevice as sd

        return [d["name"] for d in sd.query_devices() if d["max_output_channels"] >= 2]
    except Exception:  # no PortAudio: the settings offer the default only
        return []


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, store: KeyringTrustStore) -> None:
        super().__init__()
        self.settings = settings
        self.store = store
        self.setWindowTitle("lumen")
        self.resize(760, 420)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Name", "Address", "Trusted", "Last streamed"])
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.connect_row(row))
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, action in (("Add…", self.add_host), ("Edit…", self.edit_host), ("Remove", self.remove_host),
                              ("Forget pin", self.forget_pin), ("Settings…", self.open_settings),
                              ("Connect", lambda: self.connect_row(self.table.currentRow()))):
            button = QPushButton(label)
            button.clicked.connect(action)
            buttons.addWidget(button)
            self.buttons[label] = button
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        self.setCentralWidget(central)
        if store.fallback_reason:
            self.statusBar().showMessage(f"Pins are kept in {store.path}: {store.fallback_reason}.")
        self.stream: StreamWindow | None = None
        self.connection: Connection | None = None
        self.trust_dialog: TrustDialog | None = None
        self.message: QMessageBox | None = None
        self.refresh()

    # -- the host list ----------------------------------------------------------------

    def refresh(self) -> None:
        self.table.setRowCount(len(self.settings.hosts))
        for row, host in enumerate(self.settings.hosts):
            try:
                pin = self.store.get(self._key(host.address))
                trusted = f"yes ({format_fingerprint(pin)[:11]}…)" if pin else "not yet"
            except (LumenError, ValueError):
                trusted = "pin unreadable"
            for col, text in enumerate((host.name, host.address, trusted, host.last_seen or "never")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        if self.settings.hosts and self.table.currentRow() < 0:
            self.table.selectRow(0)

    @staticmethod
    def _key(address: str) -> str:
        host, port = parse_address(address)
        return f"{host}:{port}"

    def _selected(self) -> SavedHost | None:
        row = self.table.currentRow()
        return self.settings.hosts[row] if 0 <= row < len(self.settings.hosts) else None

    def add_host(self, address: str = "") -> None:
        dialog = HostDialog(self, address=address)
        if dialog.exec():
            self.settings.hosts.append(SavedHost(dialog.name.text().strip(), dialog.address.text().strip()))
            self.settings.save()
            self.refresh()

    def edit_host(self) -> None:
        host = self._selected()
        if host is None:
            return
        dialog = HostDialog(self, host.name, host.address)
        if dialog.exec():
            host.name, host.address = dialog.name.text().strip(), dialog.address.text().strip()
            self.settings.save()
            self.refresh()

    def remove_host(self) -> None:
        host = self._selected()
        if host is not None:
            self.settings.hosts.remove(host)
            self.settings.save()
            self.refresh()

    def forget_pin(self) -> None:
        host = self._selected()
        if host is not None:
            self.store.forget(self._key(host.address))
            self.refresh()

    def open_settings(self) -> None:
        SettingsDialog(self.settings, output_devices(), self).exec()

    # -- streaming ----------------------------------------------------------------------

    def connect_row(self, row: int) -> None:
        if 0 <= row < len(self.settings.hosts):
            self.connect_to(self.settings.hosts[row].address)

    def connect_to(self, address: str, pin: str | None = None, fullscreen: bool | None = None) -> None:
        if self.stream is not None:
            return
        try:
            host, port = parse_address(address)
        except ValueError as exc:
            self._show_error("Cannot connect", str(exc))
            return
        s = self.settings
        options = StreamOptions(host=host, port=port, pin=pin, width=s.width, height=s.height, fps=s.fps,
                                codecs=(s.codec, *(c for c in ("h264", "hevc") if c != s.codec)),
                                decoder=s.decoder, bitrate_kbps=s.bitrate_kbps or None)
        self.stream = StreamWindow(f"lumen — {address}", s.fullscreen if fullscreen is None else fullscreen,
                                   vsync=s.vsync)
        self.stream.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.stream.closed.connect(self._stream_closed)
        self._start(options, address)
        if not self.stream.isFullScreen():
            self.stream.show()

    def _start(self, options: StreamOptions, address: str) -> None:
        assert self.stream is not None
        conn = Connection(options, self.store, self.stream.video, self.settings.audio_device or None)
        conn.address = address
        # The signals come from the network thread: queued, the slots run on this one.
        queued = Qt.ConnectionType.QueuedConnection
        conn.unknown_host.connect(self._ask_trust, queued)
        conn.fingerprint_changed.connect(self._fingerprint_changed, queued)
        conn.failed.connect(self._failed, queued)
        conn.ended.connect(self._ended, queued)
        conn.lost.connect(self._lost, queued)
        self.connection = conn
        self.stream.attach(conn)
        if self.settings.gamepads:
            self.stream.start_pads()
        conn.start()

    def _ask_trust(self, host: str, fingerprint: str) -> None:
        assert self.connection is not None
        options, address = self.connection.options, self.connection.address
        self._finish_connection()
        dialog = self.trust_dialog = TrustDialog(host, fingerprint, self.stream or self)
        dialog.accepted.connect(lambda: self._trusted(options, address, host, fingerprint))
        dialog.rejected.connect(self._close_stream)
        dialog.open()

    def _trusted(self, options: StreamOptions, address: str, host: str, fingerprint: str) -> None:
        self.trust_dialog = None
        self.store.put(host, fingerprint)
        self.refresh()
        if self.stream is not None:
            options.pin = fingerprint  # exactly what the person saw, nothing else
            self._start(options, address)

    def _fingerprint_changed(self, host: str, stored: str, observed: str) -> None:
        self._finish_connection()
        self._close_stream()
        self.message = fingerprint_changed_box(host, stored, observed, self.store.path, self)
        self.message.open()

    def _failed(self, text: str) -> None:
        self._finish_connection()
        self._close_stream()
        self._show_error("The stream could not start" if "refused" not in text else "Connection refused", text)

    def _ended(self, reason: str) -> None:
        address = self.connection.address if self.connection else ""
        self._finish_connection()
        self.settings.touch(address)
        self.refresh()
        self._close_stream()
        if reason.startswith("host:") and "goodbye" not in reason:
            self.statusBar().showMessage(f"The host ended the stream ({reason[5:].strip()}).", 10_000)

    def _lost(self, reason: str) -> None:
        """The session died mid-stream: say why, and offer to connect again."""
        conn = self.connection
        address, pin = (conn.address, conn.options.pin) if conn else ("", None)
        self._finish_connection()
        self._close_stream()
        box = self.message = QMessageBox(QMessageBox.Icon.Warning, "Connection lost",
                                         f"The stream from {address} stopped: {reason}.",
                                         QMessageBox.StandardButton.Close, self)
        again = box.addButton("Reconnect", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(again)
        again.clicked.connect(lambda: self.connect_to(address, pin))
        box.open()

    def _show_error(self, title: str, text: str) -> None:
        self.message = QMessageBox(QMessageBox.Icon.Critical, title, text, QMessageBox.StandardButton.Close, self)
        self.message.open()

    def _finish_connection(self) -> None:
        # Qt objects must die on this thread: collected later as garbage from a cycle,
        # on whichever thread the collector happens to run, they would abort Qt.
        conn, self.connection = self.connection, None
        if conn is not None:
            conn.join()
            conn.release()
            conn.deleteLater()

    def _close_stream(self) -> None:
        stream, self.stream = self.stream, None
        if stream is not None:
            stream.closed.disconnect(self._stream_closed)
            stream.close()

    def _stream_closed(self) -> None:
        # The person closed the stream window (or Ctrl+Alt+Shift+Q): end the session.
        conn = self.connection
        if conn is not None:
            conn.stop()
        self.stream = None

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if self.connection is not None:
            self.connection.stop()
            self.connection.join()
        self._close_stream()
        super().closeEvent(event)
