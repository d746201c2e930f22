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
