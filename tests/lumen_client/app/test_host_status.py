"""The host list's live state: online, offline and LAN hosts, and a fingerprint warning."""

from __future__ import annotations

import pytest
from desktop_app import main_window
from hosts import start_host

pytestmark = pytest.mark.timeout(120)


def test_the_host_list_shows_online_offline_lan_hosts_and_a_fingerprint_warning(  # type: ignore[no-untyped-def]
        xvfb_display, tmp_path, qtbot) -> None:
    from hosts import free_udp_port

    from lumen_client.app.settings import SavedHost
    from lumen_core.net.discovery import FoundHost

    host = start_host(tmp_path)
    dead = free_udp_port()
    window, store = main_window(tmp_path, qtbot, [SavedHost("up", f"127.0.0.1:{host.port}"),
                                              SavedHost("down", f"127.0.0.1:{dead}")])
    try:
        qtbot.waitUntil(lambda: window.table.item(0, 4).text().startswith("online (")
                        and window.table.item(1, 4).text() == "offline", timeout=15_000)
        store.put(f"127.0.0.1:{host.port}", host.fingerprint)
        announced = {
            f"127.0.0.1:{host.port}": FoundHost("up", "127.0.0.1", host.port, "ef" * 32, 2, "lumen/1"),
            "10.9.9.9:9777": FoundHost("stranger", "10.9.9.9", 9777, "12" * 32, 2, "lumen/1"),
        }
        window.lan.changed.emit(announced)  # what zeroconf's thread reports (test_discovery.py: the real thing)
        qtbot.waitUntil(lambda: window.table.rowCount() == 3, timeout=5_000)
        assert window.table.item(0, 2).text() == "WARNING: fingerprint differs"
        assert "announces the fingerprint" in window.table.item(0, 2).toolTip()
        assert [window.table.item(2, c).text() for c in (0, 1, 4)] == ["stranger", "10.9.9.9:9777",
                                                                          "on the LAN (not saved)"]
        window.lan.changed.emit({})  # gone from the LAN
        qtbot.waitUntil(lambda: window.table.rowCount() == 2, timeout=5_000)
        assert window.table.item(0, 2).text().startswith("yes")
    finally:
        window.close()
        host.stop()


def test_a_probe_answering_after_its_window_is_gone_is_dropped(xvfb_display, tmp_path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """A host that does not answer keeps its probe running for PROBE_TIMEOUT_S after the
    window closes; its result must not reach the deleted host list."""
    import shiboken6
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from hosts import free_udp_port
    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from lumen_client.app.host_status import PROBE_TIMEOUT_S
    from lumen_client.app.keyring_store import KeyringTrustStore
    from lumen_client.app.main_window import MainWindow
    from lumen_client.app.settings import SavedHost, Settings
    from lumen_client.trust_store import TrustStore

    settings = Settings.load(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.hosts = [SavedHost("silent", f"127.0.0.1:{free_udp_port()}")]
    window = MainWindow(settings, KeyringTrustStore(TrustStore(tmp_path / "pins.json")),
                        identity=Ed25519PrivateKey.generate(), discover=False)  # deleted here, not by qtbot
    window.show()
    window.close()  # the probe is in flight
    window.deleteLater()
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert not shiboken6.isValid(window)
    qtbot.wait(int(PROBE_TIMEOUT_S * 1000) + 500)  # the probe gives up and emits: nothing may reach the table
