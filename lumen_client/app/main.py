"""Starting the desktop application."""

from __future__ import annotations

import importlib
import os
import sys


def prepare_environment() -> None:
    """Qt and PyOpenGL must agree on the window system before either loads."""
    if os.environ.get("QT_QPA_PLATFORM", "").startswith("wayland") or (
        os.environ.get("WAYLAND_DISPLAY") and not os.environ.get("DISPLAY")
    ):
        os.environ.setdefault("PYOPENGL_PLATFORM", "egl")
    else:
        os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
        os.environ.setdefault("PYOPENGL_PLATFORM", "glx")


def run(address: str | None = None, pin: str | None = None, fullscreen: bool | None = None) -> int:
    prepare_environment()
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    # Installed from the checkout's resources/ (pyproject's package-dir): found at run time only.
    resources = importlib.import_module("lumen_client.resources")
    from .keyring_store import KeyringTrustStore
    from .main_window import MainWindow
    from .settings import Settings

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    app.setApplicationName("lumen")
    app.setDesktopFileName(resources.APP_ID)
    app.setWindowIcon(QIcon(str(resources.path(f"{resources.APP_ID}.svg"))))
    window = MainWindow(Settings.load(), KeyringTrustStore())
    window.show()
    if address:
        window.connect_to(address, pin=pin, fullscreen=fullscreen)
    status = app.exec()
    # Qt objects go now, in Qt's order, not in whatever order the interpreter's
    # teardown would collect them (which can crash inside PySide).
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return status
