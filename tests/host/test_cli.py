"""lumen-host's command line: its identity and fingerprint, and errors as one readable line with a
non-zero exit."""

from __future__ import annotations

import os
from pathlib import Path

from commands import one_line, run

from lumen_core import __version__


def test_host_prints_its_fingerprint(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    first = run("lumen_host.cli", "--fingerprint", env=env)
    assert first.returncode == 0 and "created a new host identity" in first.stderr
    again = run("lumen_host.cli", "--fingerprint", env=env)
    assert again.stdout == first.stdout and len(again.stdout.strip()) == 95  # 32 pairs and 31 colons
    ok = run("lumen_client.cli", "--check-pin", again.stdout.strip())
    assert ok.returncode == 0 and ok.stdout == again.stdout


def test_unsafe_identity_is_one_line_and_exit_1(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    run("lumen_host.cli", "--fingerprint", env=env)
    os.chmod(tmp_path / "lumen" / "host-key.pem", 0o644)
    res = run("lumen_host.cli", "--fingerprint", env=env)
    assert res.returncode == 1 and res.stderr.count("\n") == 1 and "chmod 600" in res.stderr


def test_an_identity_directory_that_cannot_be_one(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    one_line(run("lumen_host.cli", "--identity", str(tmp_path / "file" / "id"), "--fingerprint"), 1,
             "cannot use", "Not a directory")


def test_version_and_bad_arguments() -> None:
    assert run("lumen_host.cli", "--version").stdout.strip() == f"lumen-host {__version__}"
    for args, why in ((["--size", "wide"], "size must look like 1280x720"), (["--port", "70000"], "outside 1..65535")):
        res = run("lumen_host.cli", *args)  # argparse's usage, then the one line that says why
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        last = res.stderr.strip().splitlines()[-1]
        assert last.startswith("lumen-host: error:") and why in last, res.stderr
