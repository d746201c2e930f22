"""Files: checks on paths a person names on a command line, made before any work starts,
and the one way secrets and trust files are written (atomically, mode 0600)."""

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


def write_private(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, mode 0600, in a directory made 0700 if
    it is missing: a crash leaves the old file or the new one, never half of either."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
