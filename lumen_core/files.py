"""Checks on paths a person names on a command line, made before any work starts."""

from __future__ import annotations

import os
from pathlib import Path


def writable_problem(path: Path) -> str | None:
    """Why ``path`` cannot be written as a file, or None if it can."""
    if path.is_dir():
        return "is a directory"
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        return f"{parent} is not a directory"
    if not os.access(parent, os.W_OK):
        return f"{parent} is not writable"
    if path.exists() and not os.access(path, os.W_OK):
        return "is not writable"
    return None
