"""Desktop integration files: valid by the freedesktop tools, installed with the package."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from lumen_client import resources


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
