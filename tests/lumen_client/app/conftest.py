"""The desktop client's fixture: a main window with private settings and pins, and a host."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hosts import start_host

from lumen_client.trust_store import TrustStore


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
