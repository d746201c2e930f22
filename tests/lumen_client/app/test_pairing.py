"""Pairing from the desktop client: the PIN dialog, a wrong PIN then the right one, then the stream."""

from __future__ import annotations

import pytest
from desktop_app import dialog_text, main_window, new_pin
from hosts import start_host

pytestmark = pytest.mark.timeout(120)


def test_pairing_in_the_gui_a_wrong_pin_then_the_right_one_then_the_stream(  # type: ignore[no-untyped-def]
        xvfb_display, tmp_path, qtbot) -> None:
    from PySide6.QtCore import Qt

    from lumen_client.app.settings import SavedHost

    host = start_host(tmp_path, "--require-pairing")
    window, store = main_window(tmp_path, qtbot, [SavedHost("paired host", f"127.0.0.1:{host.port}")])
    key = f"127.0.0.1:{host.port}"
    try:
        window.connect_row(0)  # a host never seen: the trust prompt offers pairing instead
        qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
        qtbot.mouseClick(window.trust_dialog.pair_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.pair_dialog is not None and window.pair_dialog.isVisible(), timeout=10_000)
        dialog = window.pair_dialog
        assert window.stream is None and window.trust_dialog is None and store.get(key) is None
        assert "lumen-host pair" in dialog_text(dialog)
        pin = new_pin(tmp_path / "identity")
        wrong = f"{(int(pin.replace(' ', '')) + 1) % 1_000_000:06d}"
        qtbot.keyClicks(dialog.pin, wrong)
        qtbot.mouseClick(dialog.pair_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: "wrong PIN" in dialog.status.text(), timeout=20_000)
        assert dialog.isVisible() and dialog.pin.text() == "" and dialog.pair_button.isEnabled()
        assert store.get(key) is None and not window.settings.hosts[0].paired  # nothing persisted
        qtbot.keyClicks(dialog.pin, pin)  # as printed: "123 456"
        qtbot.keyClick(dialog.pin, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 5,
                        timeout=30_000)
        assert window.pair_dialog is None and window.trust_dialog is None  # no trust prompt: paired is pinned
        assert store.get(key) == host.fingerprint
        assert window.table.item(0, 2).text().startswith("paired")
        window.stream.close()
        qtbot.waitUntil(lambda: window.connection is None, timeout=15_000)
        assert "paired with" in host.log()
    finally:
        window.close()
        host.stop()


def test_a_pinned_host_that_requires_pairing_asks_for_the_pin(xvfb_display, tmp_path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from lumen_client.app.settings import SavedHost

    host = start_host(tmp_path, "--require-pairing")
    window, store = main_window(tmp_path, qtbot, [SavedHost("host", f"127.0.0.1:{host.port}")])
    store.put(f"127.0.0.1:{host.port}", host.fingerprint)  # trusted before the host required pairing
    try:
        window.connect_row(0)
        qtbot.waitUntil(lambda: window.pair_dialog is not None and window.pair_dialog.isVisible(), timeout=20_000)
        assert "This client is not paired with" in dialog_text(window.pair_dialog)
        assert window.stream is None and "video to" not in host.log()
        window.pair_dialog.reject()
        assert window.pair_dialog is None and not window.settings.hosts[0].paired
    finally:
        window.close()
        host.stop()
