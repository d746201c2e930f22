"""Run at start-up by the AppImage's Python (it replaces Debian's sitecustomize).

opuslib-next, sounddevice and PyOpenGL find their native libraries with
``ctypes.util.find_library``, which on Linux asks only ldconfig's cache of the system:
it would miss the libraries the image carries, or find the system's instead. Look in
the image first, then fall back to the system (where libGL belongs).
"""

from __future__ import annotations

import ctypes.util
import os
from pathlib import Path

_USR = Path(__file__).resolve().parents[2]  # usr/lib/python3.X/sitecustomize.py
_LIB_DIRS = [_USR / "lib" / "x86_64-linux-gnu", _USR / "lib"]
_system_find_library = ctypes.util.find_library


def _find_library(name: str) -> str | None:
    for folder in _LIB_DIRS:
        found = sorted(folder.glob(f"lib{name}.so.*"))
        if found:
            return os.fspath(found[0])
    return _system_find_library(name)


ctypes.util.find_library = _find_library
