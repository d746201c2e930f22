"""Desktop integration files: valid by the freedesktop tools, installed with the package."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project import ROOT

from lumen_client import resources
from lumen_core import __version__


def test_resources_are_found_through_the_package() -> None:
    for name in (f"{resources.APP_ID}.svg", f"{resources.APP_ID}.desktop", f"{resources.APP_ID}.metainfo.xml"):
        assert resources.path(name).is_file(), name


def test_icon_sizes() -> None:
    from PySide6.QtGui import QImage

    for size in resources.ICON_SIZES:
        image = QImage(str(resources.icon_png(size)))
        assert (image.width(), image.height()) == (size, size)


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils")
def test_desktop_file_validates() -> None:
    res = subprocess.run(["desktop-file-validate", str(resources.path(f"{resources.APP_ID}.desktop"))],
                         capture_output=True, text=True)
    assert res.returncode == 0 and "error" not in res.stdout.lower(), res.stdout


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstream")
def test_metainfo_validates() -> None:
    metainfo = resources.path(f"{resources.APP_ID}.metainfo.xml")
    res = subprocess.run(["appstreamcli", "validate", "--no-net", str(metainfo)], capture_output=True, text=True)
    assert res.returncode == 0, res.stdout + res.stderr


def test_a_wheel_installs_commands_that_find_their_resources(tmp_path: Path) -> None:
    """Build the wheel, install it away from the checkout, run its console scripts."""
    root = ROOT
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "wheel"), str(root)],
                   check=True, capture_output=True)
    (wheel,) = (tmp_path / "wheel").glob("lumen_stream-*.whl")
    # --target, not --prefix: pip would first uninstall the checkout's own editable install
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-compile", "--ignore-installed",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the checkout's editable install
    for command, name in (("lumen-client", "lumen-client"), ("lumen-host", "lumen-host")):
        out = subprocess.run([str(site / "bin" / command), "--version"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, check=True).stdout
        assert out.strip() == f"{name} {__version__}"
    found = subprocess.run(
        [sys.executable, "-c", "from lumen_client import resources as r; print(r.path(r.APP_ID + '.desktop'));"
         "print(r.icon_png(256)); import lumen_client.app.main_window"],
        env=env, cwd=tmp_path, capture_output=True, text=True, check=True).stdout.split()
    assert all(Path(p).is_file() and Path(p).is_relative_to(site) for p in found), found
