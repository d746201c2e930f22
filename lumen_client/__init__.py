"""lumen_client: the lumen/1 desktop client."""

from lumen_core import __version__

__all__ = ["__version__"]
