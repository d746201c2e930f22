"""Looking at the desktop client's picture: the pattern's bars as the window shows them."""

from __future__ import annotations

from pathlib import Path

import av
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from lumen_host.pattern import bar_centres
from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

from lumen_client.trust_store import TrustStore

TOLERANCE = 24  # codec error on flat colour bars is a few steps; a wrong matrix is 30+


def delete_now(*widgets) -> None:  # type: ignore[no-untyped-def]
    """Close and delete GL windows here, on the GUI thread: left to the garbage collector,
    one could be destroyed on whichever thread collects it, or after the application at
    exit, and crash the process."""
    from PySide6.QtCore import QCoreApplication, QEvent

    for widget in widgets:
        widget.close()
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def pattern_pictures(count: int, size: tuple[int, int] = (640, 360)) -> list[av.VideoFrame]:
    """The host's test pattern, pictures 0 .. count - 1, through libx264 and back."""
    encoder, _ = open_encoder(EncoderSettings("h264", *size, 60, 4000), ["libx264"])
    decoder = av.CodecContext.create("h264", "r")
    source, out = PatternVideo(*size), []
    for n in range(count):
        frame = source.grab(n, n)
        frame.pts = n
        for packet in encoder.encode(frame):
            out += decoder.decode(av.Packet(bytes(packet)))
    return out


def sample_bars(video) -> list[tuple[int, int, int]]:  # type: ignore[no-untyped-def]
    from lumen_client.app.presenter import letterbox

    image = video.grabFramebuffer()
    x0, y0, w, h = letterbox(image.width(), image.height(), 640, 360)
    out = []
    for x, y in bar_centres(640, 360):
        colour = image.pixelColor(x0 + x * w // 640, y0 + y * h // 360)
        out.append((colour.red(), colour.green(), colour.blue()))
    return out


def dialog_text(dialog) -> str:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


def main_window(tmp_path: Path, qtbot, hosts: list) -> tuple:  # type: ignore[no-untyped-def, type-arg]
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


def new_pin(identity: Path) -> str:
    import re
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "lumen_host.cli", "pair", "--identity", str(identity)],
                         capture_output=True, text=True, check=True).stdout
    match = re.search(r"PIN: (\d{3} \d{3})", out)
    assert match, out
    return match[1]
