"""lumen_host: the bundled headless lumen/1 host (installed as ``lumen_host``)."""

from lumen_core import __version__

__all__ = ["__version__"]
