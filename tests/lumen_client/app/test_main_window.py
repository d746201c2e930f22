"""The main window under Xvfb with Mesa: a host that dies mid-stream, waking a saved host."""

from __future__ import annotations

import pytest
from desktop_app import main_window
from hosts import start_host

pytestmark = pytest.mark.timeout(120)


def test_a_host_that_dies_mid_stream_is_reported_with_a_reconnect(app_env, qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    window, host, _ = app_env
    window.connect_to(f"127.0.0.1:{host.port}", pin=host.fingerprint)
    qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 10, timeout=20_000)
    host.proc.kill()
    host.proc.wait()
    qtbot.waitUntil(lambda: isinstance(window.message, QMessageBox) and window.message.isVisible(), timeout=10_000)
    box = window.message
    assert box.windowTitle() == "Connection lost" and "its video port is closed" in box.text(), box.text()
    assert window.stream is None and window.connection is None
    again = next(b for b in box.buttons() if b.text() == "Reconnect")
    revived = start_host(tmp_path, port=host.port, identity=tmp_path / "identity")
    try:
        again.click()
        qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 10,
                        timeout=20_000)
    finally:
        if window.stream is not None:
            window.stream.close()
            qtbot.waitUntil(lambda: window.connection is None, timeout=15_000)
        revived.stop()


def test_wake_sends_the_magic_packet_for_the_saved_mac(xvfb_display, tmp_path, qtbot) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket

    from lumen_client.app.settings import SavedHost
    from lumen_core.net.wake import magic_packet

    if os.geteuid() != 0:
        pytest.skip("port 9 is privileged: the wake test binds it as root")
    window, _ = main_window(tmp_path, qtbot, [SavedHost("sleeper", "127.0.0.1:9777", mac="3c:7c:3f:1e:22:9a"),
                                          SavedHost("no mac", "127.0.0.1:9778")])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as card:
        card.bind(("127.0.0.1", 9))
        card.settimeout(5.0)
        try:
            window.table.selectRow(1)
            assert not window.buttons["Wake"].isEnabled()
            window.table.selectRow(0)
            assert window.buttons["Wake"].isEnabled()
            window.buttons["Wake"].click()
            assert card.recv(200) == magic_packet(bytes.fromhex("3c7c3f1e229a"))
            assert "Sent the wake packet" in window.statusBar().currentMessage()
        finally:
            window.close()
