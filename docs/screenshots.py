"""Regenerate the README's screenshots: ``.venv/bin/python docs/screenshots.py``.

Starts its own Xvfb and a bundled host on loopback, opens the desktop client with one
saved host, and saves the main window and a stream with the stats overlay on to
docs/images/.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main() -> int:
    from desktop import xvfb_display  # the tests' Xvfb starter, a plain function underneath

    xvfb_display.__wrapped__()
    os.environ.setdefault("PYOPENGL_PLATFORM", "glx")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from hosts import start_host
    from PySide6.QtCore import QEvent, QSettings
    from PySide6.QtWidgets import QApplication

    from lumen_client.app.keyring_store import KeyringTrustStore
    from lumen_client.app.main_window import MainWindow
    from lumen_client.app.settings import SavedHost, Settings
    from lumen_client.trust_store import TrustStore
    from lumen_core.net.discovery import FoundHost

    app = QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="lumen-shots-"))
    host = start_host(tmp, "--size", "1280x720")
    settings = Settings.load(QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat))
    settings.width, settings.height, settings.gamepads = 1280, 720, False
    settings.hosts = [SavedHost("Living room PC", f"127.0.0.1:{host.port}", "2026-11-26", paired=True),
                      SavedHost("Workstation", "192.168.1.20", "", mac="3c:7c:3f:1e:22:9a")]
    store = KeyringTrustStore(TrustStore(tmp / "pins.json"))
    store.put(f"127.0.0.1:{host.port}", host.fingerprint)
    window = MainWindow(settings, store, identity=Ed25519PrivateKey.generate(), discover=False)
    window.show()
    # A host the LAN announced (what zeroconf reports; discovery itself is off here).
    window.lan.changed.emit({"192.168.1.31:9777": FoundHost("Den", "192.168.1.31", 9777, "ab" * 32, 2, "lumen/1",
                                                            pairing_required=True)})

    def pump(seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)

    pump(2.0)  # the reachability probes answer (or time out)
    window.grab().save(str(HERE / "images" / "main-window.png"))
    window.connect_row(0)
    pump(4.0)
    stream = window.stream
    assert stream is not None and stream.video.stats.presented > 0, "no picture"
    stream.resize(1280, 720)
    stream.toggle_overlay()
    pump(2.5)
    stream.toggle_overlay()
    stream.toggle_overlay()  # refresh the numbers now that a second has passed
    pump(0.3)
    stream.video.grabFramebuffer().save(str(HERE / "images" / "stream-overlay.png"))
    stream.close()
    pump(1.0)
    window.close()
    host.stop()
    # Qt objects go now, in Qt's order (as lumen_client.app.main does), not in whatever
    # order the interpreter's teardown would collect them: that crashes inside PySide.
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    print("saved", HERE / "images" / "main-window.png", HERE / "images" / "stream-overlay.png", flush=True)
    return 0


if __name__ == "__main__":
    # Leave without the interpreter's teardown: after the frame grabs above, PySide's
    # collection of the images at exit aborts ("bool_dealloc"), although everything is
    # saved. The client itself (no grabs) exits cleanly; this is the tool's own path.
    os._exit(main())
