"""The desktop client under Xvfb with Mesa: connect, trust, see the pattern, refuse impostors."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hosts import start_host
from lumen_host.pattern import BAR_RGB, bar_centres

from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(120)

TOLERANCE = 24  # codec error on flat colour bars is a few steps; a wrong matrix is 30+


@pytest.fixture
def app_env(xvfb_display: str, tmp_path: Path, qtbot):  # type: ignore[no-untyped-def]
    """A main window with private settings and pins, and a host streaming 640x360."""
    from PySide6.QtCore import QSettings

    from lumen_client.app.keyring_store import KeyringTrustStore
    from lumen_client.app.main_window import MainWindow
    from lumen_client.app.settings import SavedHost, Settings

    host = start_host(tmp_path)
    settings = Settings.load(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.width, settings.height, settings.gamepads = 640, 360, False
    settings.hosts = [SavedHost("test host", f"127.0.0.1:{host.port}")]
    settings.save()
    store = KeyringTrustStore(TrustStore(tmp_path / "pins.json"))
    window = MainWindow(settings, store, identity=Ed25519PrivateKey.generate(), discover=False)
    qtbot.addWidget(window)
    window.show()
    yield window, host, store
    window.close()
    host.stop()


def sample_bars(video) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    from lumen_client.app.presenter import letterbox

    image = video.grabFramebuffer()
    x0, y0, w, h = letterbox(image.width(), image.height(), 640, 360)
    out = []
    for x, y in bar_centres(640, 360):
        colour = image.pixelColor(x0 + x * w // 640, y0 + y * h // 360)
        out.append((colour.red(), colour.green(), colour.blue()))
    return out


def test_trust_prompt_then_the_pattern_on_screen(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    from lumen_client.app.dialogs import grouped_fingerprint

    window, host, store = app_env
    assert window.table.item(0, 2).text() == "not yet"
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
    shown = _dialog_text(window.trust_dialog)
    assert grouped_fingerprint(host.fingerprint) in shown
    qtbot.mouseClick(window.trust_dialog.trust_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 10, timeout=20_000)
    assert store.get(f"127.0.0.1:{host.port}") == host.fingerprint
    assert window.table.item(0, 2).text().startswith("yes")
    shown = window.stream.video.stats.presented
    window.stream.resize(960, 540)
    # Pictures keep coming: a few presented after the resize were drawn at the new size.
    qtbot.waitUntil(lambda: window.stream.video.stats.presented >= shown + 5, timeout=10_000)
    for got, want in zip(sample_bars(window.stream.video), BAR_RGB, strict=True):
        assert all(abs(g - w) <= TOLERANCE for g, w in zip(got, want, strict=True)), (got, want)
    stream = window.stream
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(stream, Qt.Key.Key_S, mods)
    assert any("decoder" in line for line in stream.video.overlay_lines)
    qtbot.keyClick(stream, Qt.Key.Key_Q, mods)  # ends the stream
    qtbot.waitUntil(lambda: window.stream is None and window.connection is None, timeout=15_000)
    [served] = host.wait_for_sessions(1)
    assert served["frames_sent"] > 10
    assert window.table.item(0, 3).text() != "never"


def _dialog_text(dialog) -> str:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def test_cancelling_the_trust_prompt_stores_nothing(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    window, host, store = app_env
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
    qtbot.mouseClick(window.trust_dialog.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.stream is None, timeout=10_000)
    assert store.get(f"127.0.0.1:{host.port}") is None
    assert host.sessions() == []  # nothing streamed


def test_changed_fingerprint_is_refused_with_a_warning(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, host, store = app_env
    key = f"127.0.0.1:{host.port}"
    store.put(key, "ab" * 32)
    window.refresh()
    window.connect_row(0)
    qtbot.waitUntil(lambda: window.message is not None and window.message.isVisible(), timeout=20_000)
    assert "has changed" in window.message.text() and "refused" in window.message.text()
    assert window.trust_dialog is None and window.stream is None
    assert store.get(key) == "ab" * 32  # only "Forget pin" removes it
    window.table.selectRow(0)
    window.forget_pin()
    assert store.get(key) is None


def test_pin_override_never_prompts(app_env, qtbot) -> None:  # type: ignore[no-untyped-def]
    window, host, store = app_env
    window.connect_to(f"127.0.0.1:{host.port}", pin="cd" * 32)
    qtbot.waitUntil(lambda: window.message is not None and window.message.isVisible(), timeout=20_000)
    assert "does not match --pin" in window.message.text()
    assert window.trust_dialog is None
    window.message.close()
    window.connect_to(f"127.0.0.1:{host.port}", pin=host.fingerprint)
    qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 5, timeout=20_000)
    assert window.trust_dialog is None
    assert store.get(f"127.0.0.1:{host.port}") is None  # --pin is not stored
    window.stream.close()
    qtbot.waitUntil(lambda: window.connection is None, timeout=15_000)


def test_the_desktop_client_streams_from_an_m3_host(
    xvfb_display: str, tmp_path: Path, qtbot  # type: ignore[no-untyped-def]
) -> None:
    """lumen's own host (M3's session flow on M3's code, HEVC): pictures on screen, base mode."""
    from hosts import free_udp_port
    from m3 import sample, start_m3_host
    from PySide6.QtCore import QSettings

    from lumen_client.app.keyring_store import KeyringTrustStore
    from lumen_client.app.main_window import MainWindow
    from lumen_client.app.settings import Settings

    port = free_udp_port()
    m3 = start_m3_host(tmp_path, port, "--source", f"file:{sample('h265-1280x720-120au.aus')}", "--codec", "h265",
                       "--seconds", "20", "--max-sessions", "1")
    settings = Settings.load(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.width, settings.height, settings.gamepads = 1280, 720, False
    window = MainWindow(settings, KeyringTrustStore(TrustStore(tmp_path / "pins.json")),
                        identity=Ed25519PrivateKey.generate(), discover=False)
    qtbot.addWidget(window)
    window.show()
    try:
        window.connect_to(f"127.0.0.1:{port}", pin=m3.fingerprint)
        qtbot.waitUntil(lambda: window.stream is not None and window.stream.video.stats.presented >= 20,
                        timeout=30_000)
        stream = window.stream
        stream.toggle_overlay()
        lines = stream.video.overlay_lines
        assert any("lumen/1 base mode" in line for line in lines), lines
        assert any("hevc" in line for line in lines), lines
        stream.close()
        qtbot.waitUntil(lambda: window.connection is None, timeout=15_000)
    finally:
        window.close()
        m3.stop()


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


# -- pairing and the host list ------------------------------------------------------


def _window(tmp_path: Path, qtbot, hosts: list) -> tuple:  # type: ignore[no-untyped-def, type-arg]
    from PySide6.QtCore import QSettings

    from lumen_client.app.keyring_store import KeyringTrustStore
    from lumen_client.app.main_window import MainWindow
    from lumen_client.app.settings import Settings

    settings = Settings.load(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    settings.width, settings.height, settings.gamepads = 640, 360, False
    settings.hosts = hosts
    settings.save()
    store = KeyringTrustStore(TrustStore(tmp_path / "pins.json"))
    window = MainWindow(settings, store, identity=Ed25519PrivateKey.generate(), discover=False)
    qtbot.addWidget(window)
    window.show()
    return window, store


def _new_pin(identity: Path) -> str:
    import re
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "lumen_host.cli", "pair", "--identity", str(identity)],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"PIN: (\d{3} \d{3})", out)
    assert match, out
    return match[1]


def test_pairing_in_the_gui_a_wrong_pin_then_the_right_one_then_the_stream(  # type: ignore[no-untyped-def]
        xvfb_display, tmp_path, qtbot) -> None:
    from PySide6.QtCore import Qt

    from lumen_client.app.settings import SavedHost

    host = start_host(tmp_path, "--require-pairing")
    window, store = _window(tmp_path, qtbot, [SavedHost("paired host", f"127.0.0.1:{host.port}")])
    key = f"127.0.0.1:{host.port}"
    try:
        window.connect_row(0)  # a host never seen: the trust prompt offers pairing instead
        qtbot.waitUntil(lambda: window.trust_dialog is not None and window.trust_dialog.isVisible(), timeout=20_000)
        qtbot.mouseClick(window.trust_dialog.pair_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.pair_dialog is not None and window.pair_dialog.isVisible(), timeout=10_000)
        dialog = window.pair_dialog
        assert window.stream is None and window.trust_dialog is None and store.get(key) is None
        assert "lumen-host pair" in _dialog_text(dialog)
        pin = _new_pin(tmp_path / "identity")
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
    window, store = _window(tmp_path, qtbot, [SavedHost("host", f"127.0.0.1:{host.port}")])
    store.put(f"127.0.0.1:{host.port}", host.fingerprint)  # trusted before the host required pairing
    try:
        window.connect_row(0)
        qtbot.waitUntil(lambda: window.pair_dialog is not None and window.pair_dialog.isVisible(), timeout=20_000)
        assert "This client is not paired with" in _dialog_text(window.pair_dialog)
        assert window.stream is None and "video to" not in host.log()
        window.pair_dialog.reject()
        assert window.pair_dialog is None and not window.settings.hosts[0].paired
    finally:
        window.close()
        host.stop()


def test_the_host_list_shows_online_offline_lan_hosts_and_a_fingerprint_warning(  # type: ignore[no-untyped-def]
        xvfb_display, tmp_path, qtbot) -> None:
    from hosts import free_udp_port

    from lumen_client.app.settings import SavedHost
    from lumen_core.net.discovery import FoundHost

    host = start_host(tmp_path)
    dead = free_udp_port()
    window, store = _window(tmp_path, qtbot, [SavedHost("up", f"127.0.0.1:{host.port}"),
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


def test_wake_sends_the_magic_packet_for_the_saved_mac(xvfb_display, tmp_path, qtbot) -> None:  # type: ignore[no-untyped-def]
    import os
    import socket

    from lumen_client.app.settings import SavedHost
    from lumen_core.net.wake import magic_packet

    if os.geteuid() != 0:
        pytest.skip("port 9 is privileged: the wake test binds it as root")
    window, _ = _window(tmp_path, qtbot, [SavedHost("sleeper", "127.0.0.1:9777", mac="3c:7c:3f:1e:22:9a"),
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
