"""Starting the desktop application: Qt and PyOpenGL agree on the window system, and the
app starts, shows its main window under Xvfb and exits 0."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(120)

PRINT_PLATFORMS = ("from lumen_client.app.main import prepare_environment; import os; prepare_environment(); "
                   "print(os.environ.get('QT_QPA_PLATFORM'), os.environ.get('PYOPENGL_PLATFORM'))")


def platforms(**env: str) -> str:
    base = {k: v for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM", "PYOPENGL_PLATFORM")}
    return subprocess.run([sys.executable, "-c", PRINT_PLATFORMS], env=base | env, capture_output=True, text=True,
                          timeout=60, check=True).stdout.strip()


def test_x11_gets_xcb_and_glx_and_wayland_gets_egl() -> None:
    assert platforms(DISPLAY=":5") == "xcb glx"
    assert platforms(WAYLAND_DISPLAY="wayland-0") == "None egl"  # Qt picks wayland itself
    assert platforms(QT_QPA_PLATFORM="wayland", DISPLAY=":5") == "wayland egl"
    assert platforms(DISPLAY=":5", WAYLAND_DISPLAY="wayland-0") == "xcb glx"  # XWayland: what PyOpenGL knows
    assert platforms(DISPLAY=":5", PYOPENGL_PLATFORM="egl") == "xcb egl"  # a person's choice stays


def test_the_app_shows_its_window_and_exits_0(xvfb_display: str, tmp_path: Path) -> None:
    script = ("import sys; from PySide6.QtCore import QTimer; from PySide6.QtWidgets import QApplication; "
              "from lumen_client.app import main; app = QApplication(sys.argv[:1]); "
              "QTimer.singleShot(1500, lambda: (print([w.windowTitle() for w in app.topLevelWidgets() "
              "if w.isVisible()]), app.quit())); sys.exit(main.run())")
    env = os.environ | {"DISPLAY": xvfb_display, "XDG_CONFIG_HOME": str(tmp_path), "HOME": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=90)
    assert res.returncode == 0 and "Traceback" not in res.stderr, res.stderr
    assert "lumen" in res.stdout, res.stdout
