"""lumen's desktop integration files, installed as the package ``lumen_client.resources``
so they are found at run time without the source tree: the icon (SVG, and PNGs in the
hicolor layout), the .desktop file and the AppStream metainfo."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

APP_ID = "io.lumen.client"
ICON_SIZES = (16, 32, 48, 64, 128, 256)


def path(name: str) -> Path:
    """A resource file on disk (the package is installed unzipped)."""
    return Path(str(resources.files(__name__) / name))


def icon_png(size: int) -> Path:
    return path(f"icons/hicolor/{size}x{size}/apps/{APP_ID}.png")
