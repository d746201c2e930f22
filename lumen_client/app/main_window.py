"""The main window: saved and discovered hosts (online or not, pinned or paired), connecting
with progress, trust decisions, pairing, Wake-on-LAN, errors."""

from __future__ import annotations

import logging

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
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

from lumen_core.errors import IdentityError, LumenError
from lumen_core.identity import load_or_create_client_key
from lumen_core.net.discovery import FoundHost
from lumen_core.net.wake import parse_mac, wake
from lumen_core.trust import format_fingerprint

from ..address import parse_address
from ..audio.portaudio import AudioOutput
from ..session import StreamOptions
from .connection import Connection
from .dialogs import HostDialog, SettingsDialog, TrustDialog, fingerprint_changed_box
from .host_status import LanHosts, Reachability
from .keyring_store import KeyringTrustStore
from .pairing import PairDialog, PairingRun
from .settings import SavedHost, Settings
from .stream_window import StreamWindow

COLUMNS = ["Name", "Address", "Trusted", "Last streamed", "Status"]

log = logging.getLogger(__name__)


def output_devices() -> list[str]:
    try:
        import sounddevice as sd

        return [d["name"] for d in sd.query_devices() if d["max_output_channels"] >= 2]
    except Exception:  # no PortAudio: the settings offer the default only
        return []


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, store: KeyringTrustStore, identity: Ed25519PrivateKey | None = None,
                 discover: bool = True) -> None:
        """``identity``: the client key (default: this user's, made on first use);
        ``discover``: list the hosts announced on the LAN."""
        super().__init__()
        self.settings = settings
        self.store = store
        self._identity = identity
        self.setWindowTitle("lumen")
        self.resize(860, 420)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.cellDoubleClicked.connect(lambda row, _col: self.connect_row(row))
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for label, action in (("Add…", self.add_host), ("Edit…", self.edit_host), ("Remove", self.remove_host),
                              ("Forget pin", self.forget_pin), ("Pair…", self.pair_selected),
                              ("Wake", self.wake_selected), ("Settings…", self.open_settings),
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
        self.pair_dialog: PairDialog | None = None
        self.pairing: PairingRun | None = None
        self.message: QMessageBox | None = None
        self.rows: list[SavedHost | FoundHost] = []
        self.lan = LanHosts()
        # Bound to the window, not a lambda: Qt then drops a probe's late result with the
        # window, instead of delivering it to a table already deleted.
        self.lan.changed.connect(self._host_status_changed)
        self.reachability = Reachability()
        self.reachability.result.connect(self._host_status_changed)
        self.table.currentCellChanged.connect(lambda *_: self._update_buttons())
        self.refresh()
        if discover and (why := self.lan.start()):
            self.statusBar().showMessage(f"Hosts on the LAN are not listed: {why}")
        self.reachability.start()

    @property
    def identity(self) -> Ed25519PrivateKey | None:
        """The client key, made on first use; None (said in the status bar) if it cannot be."""
        if self._identity is None:
            try:
                self._identity, _ = load_or_create_client_key()
            except IdentityError as exc:
                self.statusBar().showMessage(f"Hosts that require pairing will refuse this client: {exc}")
        return self._identity

    # -- the host list ----------------------------------------------------------------

    def _host_status_changed(self, *_: object) -> None:
        self.refresh()

    def refresh(self) -> None:
        """The saved hosts, then the LAN's hosts that are not saved; with trust and status."""
        saved = {self._safe_key(h.address): h for h in self.settings.hosts}
        found = self.lan.hosts
        self.rows = [*self.settings.hosts, *(h for key, h in found.items() if key not in saved)]
        self.reachability.addresses = [(h.address, *parse_address(h.address)) for h in self.settings.hosts
                                       if self._safe_key(h.address)]
        self.table.setRowCount(len(self.rows))
        for row, entry in enumerate(self.rows):
            if isinstance(entry, SavedHost):
                key = self._safe_key(entry.address)
                trusted, warning = self._trust_text(key, found.get(key), entry.paired)
                texts = (entry.name, entry.address, trusted, entry.last_seen or "never",
                         self._status_text(entry.address, found.get(key)))
            else:
                trusted, warning = self._trust_text(entry.endpoint, entry, False)
                texts = (entry.name, entry.endpoint, trusted, "never", "on the LAN (not saved)")
            for col, text in enumerate(texts):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if col == 2 and warning:
                    item.setToolTip(warning)
                self.table.setItem(row, col, item)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setStretchLastSection(True)
        if self.rows and self.table.currentRow() < 0:
            self.table.selectRow(0)
        self._update_buttons()

    def _trust_text(self, key: str, announced: FoundHost | None, paired: bool) -> tuple[str, str]:
        """The Trusted column, and a warning for its tooltip when the LAN disagrees."""
        try:
            pin = self.store.get(key) if key else None
        except (LumenError, ValueError):
            return "pin unreadable", ""
        if pin and announced is not None and announced.fingerprint and announced.fingerprint != pin.lower():
            return "WARNING: fingerprint differs", (
                f"The host at {key} announces the fingerprint {format_fingerprint(announced.fingerprint)}, not the "
                f"pinned {format_fingerprint(pin)}. The connection will be refused unless the handshake shows the "
                "pinned one: it may be another machine, or this host was reinstalled.")
        if not pin:
            return ("not paired (PIN)" if announced is not None and announced.pairing_required else "not yet"), ""
        return f"{'paired' if paired else 'yes'} ({format_fingerprint(pin)[:11]}…)", ""

    def _status_text(self, address: str, announced: FoundHost | None) -> str:
        state = self.reachability.state
        if address not in state:
            return "on the LAN" if announced is not None else "…"
        rtt = state[address]
        if rtt is None:
            return "offline"
        return f"online ({rtt * 1000:.1f} ms)" if rtt < 0.01 else f"online ({rtt * 1000:.0f} ms)"

    def _update_buttons(self) -> None:
        host = self._selected()
        self.buttons["Wake"].setEnabled(bool(host and host.mac))
        for label in ("Edit…", "Remove"):
            self.buttons[label].setEnabled(host is not None)

    def _safe_key(self, address: str) -> str:
        try:
            return self._key(address)
        except ValueError:
            return ""

    @staticmethod
    def _key(address: str) -> str:
        host, port = parse_address(address)
        return f"{host}:{port}"

    def _selected(self) -> SavedHost | None:
        entry = self._selected_entry()
        return entry if isinstance(entry, SavedHost) else None

    def _selected_entry(self) -> SavedHost | FoundHost | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def _address(self, entry: SavedHost | FoundHost) -> str:
        return entry.address if isinstance(entry, SavedHost) else entry.endpoint

    def add_host(self, address: str = "") -> None:
        entry = self._selected_entry()
        if not address and isinstance(entry, FoundHost):  # a host the LAN announced: save it
            address = entry.endpoint
        dialog = HostDialog(self, address=address)
        if dialog.exec():
            self.settings.hosts.append(SavedHost(dialog.name.text().strip(), dialog.address.text().strip(),
                                                 mac=dialog.mac.text().strip()))
            self.settings.save()
            self.refresh()

    def edit_host(self) -> None:
        host = self._selected()
        if host is None:
            return
        dialog = HostDialog(self, host.name, host.address, host.mac)
        if dialog.exec():
            host.name, host.address = dialog.name.text().strip(), dialog.address.text().strip()
            host.mac = dialog.mac.text().strip()
            self.settings.save()
            self.refresh()

    def wake_selected(self) -> None:
        """Send the magic packet to the selected host (its MAC, its address, the broadcast)."""
        host = self._selected()
        if host is None or not host.mac:
            return
        try:
            address = parse_address(host.address)[0]
            sent = wake(parse_mac(host.mac), addresses=[address])
        except (ValueError, OSError) as exc:
            self._show_error("Cannot wake the host", str(exc))
            return
        self.statusBar().showMessage(f"Sent the wake packet for {host.name} ({sent} datagrams); it shows online "
                                     "once it is up.", 10_000)
        self.reachability.probe_now()

    # -- pairing ----------------------------------------------------------------------

    def pair_selected(self) -> None:
        entry = self._selected_entry()
        if entry is not None:
            self.pair_with(self._address(entry))

    def pair_with(self, address: str, reason: str = "", then_connect: bool = False) -> None:
        """Ask for the host's PIN and pair; ``then_connect``: stream once paired."""
        if self.pair_dialog is not None:
            return
        dialog = self.pair_dialog = PairDialog(address, reason, self)
        dialog.pin_entered.connect(lambda pin: self._start_pairing(address, pin, then_connect))
        dialog.rejected.connect(self._pairing_closed)
        dialog.open()

    def _start_pairing(self, address: str, pin: str, then_connect: bool) -> None:
        identity = self.identity
        if identity is None or self.pair_dialog is None:
            if self.pair_dialog is not None:
                self.pair_dialog.pairing_failed("this client has no key to pair with (see the status bar)")
            return
        host, port = parse_address(address)
        run = self.pairing = PairingRun(host, port, pin, identity, self.store)
        queued = Qt.ConnectionType.QueuedConnection
        run.paired.connect(lambda fingerprint: self._paired(address, fingerprint, then_connect), queued)
        run.failed.connect(self._pairing_failed, queued)
        run.start()

    def _pairing_failed(self, why: str) -> None:
        self._finish_pairing()
        if self.pair_dialog is not None:
            self.pair_dialog.pairing_failed(why)

    def _paired(self, address: str, fingerprint: str, then_connect: bool) -> None:
        self._finish_pairing()
        key = self._key(address)
        host = next((h for h in self.settings.hosts if self._safe_key(h.address) == key), None)
        if host is None:
            found = self.lan.hosts.get(key)
            host = SavedHost(found.name if found else address, address)
            self.settings.hosts.append(host)
        host.paired = True
        self.settings.save()
        dialog, self.pair_dialog = self.pair_dialog, None
        if dialog is not None:
            dialog.rejected.disconnect(self._pairing_closed)
            dialog.accept()
        self.statusBar().showMessage(f"Paired with {address}; its fingerprint {format_fingerprint(fingerprint)[:11]}… "
                                     "is pinned.", 10_000)
        self.refresh()
        if then_connect:
            self.connect_to(address)

    def _pairing_closed(self) -> None:
        self.pair_dialog = None
        self._finish_pairing()

    def _finish_pairing(self) -> None:
        run, self.pairing = self.pairing, None
        if run is not None:
            run.join()
            run.deleteLater()

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
        if 0 <= row < len(self.rows):
            self.connect_to(self._address(self.rows[row]))

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
                                decoder=s.decoder, bitrate_kbps=s.bitrate_kbps or None, identity=self.identity)
        self.stream = StreamWindow(f"lumen — {address}", s.fullscreen if fullscreen is None else fullscreen,
                                   vsync=s.vsync)
        self.stream.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.stream.closed.connect(self._stream_closed)
        self._start(options, address)
        if not self.stream.isFullScreen():
            self.stream.show()

    def _start(self, options: StreamOptions, address: str) -> None:
        assert self.stream is not None
        if self.settings.gamepads:
            self.stream.start_pads()
        conn = Connection(options, self.store, self.stream.video.sink, AudioOutput(self.settings.audio_device or None),
                          self.stream.pads)
        conn.address = address
        # The signals come from the network thread: queued, the slots run on this one.
        queued = Qt.ConnectionType.QueuedConnection
        conn.unknown_host.connect(self._ask_trust, queued)
        conn.fingerprint_changed.connect(self._fingerprint_changed, queued)
        conn.failed.connect(self._failed, queued)
        conn.ended.connect(self._ended, queued)
        conn.lost.connect(self._lost, queued)
        conn.not_paired.connect(self._not_paired, queued)
        self.connection = conn
        self.stream.attach(conn)
        conn.start()

    def _ask_trust(self, host: str, fingerprint: str) -> None:
        assert self.connection is not None
        options, address = self.connection.options, self.connection.address
        self._finish_connection()
        dialog = self.trust_dialog = TrustDialog(host, fingerprint, self.stream or self)
        dialog.accepted.connect(lambda: self._trusted(options, address, host, fingerprint))
        dialog.rejected.connect(lambda: self._not_trusted(dialog, address))
        dialog.open()

    def _not_trusted(self, dialog: TrustDialog, address: str) -> None:
        self.trust_dialog = None
        self._close_stream()
        if dialog.pair_instead:
            self.pair_with(address, then_connect=True)

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

    def _not_paired(self, text: str) -> None:
        """The host requires pairing: ask for its PIN now, and stream once paired."""
        address = self.connection.address if self.connection else ""
        self._finish_connection()
        self._close_stream()
        self.pair_with(address, reason=f"This client is not paired with {address} yet.", then_connect=True)

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

    def closeEvent(self, event) -> None:
        self.lan.close()
        self.reachability.close()
        self._finish_pairing()
        if self.connection is not None:
            self.connection.stop()
            self.connection.join()
        self._close_stream()
        super().closeEvent(event)
