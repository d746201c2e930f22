"""The desktop client's connection thread, streaming from lumen's M3 host."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(120)


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
