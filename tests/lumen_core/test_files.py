"""Paths from the command line checked before any work, and private files written atomically."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lumen_core.files import writable_problem, write_private


def test_what_cannot_be_written_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert writable_problem(tmp_path / "stats.json") is None
    assert writable_problem(tmp_path) == "is a directory"
    assert writable_problem(tmp_path / "missing" / "s.json") == f"{tmp_path / 'missing'} is not a directory"
    (tmp_path / "file").write_text("")
    assert writable_problem(tmp_path / "file" / "s.json") == f"{tmp_path / 'file'} is not a directory"
    monkeypatch.chdir(tmp_path)
    assert writable_problem(Path("relative.json")) is None  # a bare name is in the working directory


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes where the mode says it may not")
def test_read_only_places_are_not_writable(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    assert writable_problem(locked / "s.json") == f"{locked} is not writable"


def test_private_files_are_0600_in_a_0700_directory_and_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "new" / "trust.json"
    write_private(target, b"first")
    assert target.read_bytes() == b"first"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600 and stat.S_IMODE(target.parent.stat().st_mode) == 0o700
    os.chmod(target, 0o644)
    write_private(target, b"second")
    assert target.read_bytes() == b"second" and stat.S_IMODE(target.stat().st_mode) == 0o600
    assert sorted(p.name for p in target.parent.iterdir()) == ["trust.json"]  # no temporary left behind
