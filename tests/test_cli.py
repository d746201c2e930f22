"""The command lines: versions, and errors as one readable line with a non-zero exit."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from lumen_core import __version__


def run(module: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True, text=True, timeout=60,
                          env=env)


def test_versions() -> None:
    assert run("lumen_client.cli", "--version").stdout.strip() == f"lumen-client {__version__}"
    assert run("lumen_host.cli", "--version").stdout.strip() == f"lumen-host {__version__}"


def test_malformed_pin_is_one_line_and_exit_2() -> None:
    res = run("lumen_client.cli", "--check-pin", "abc")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "3 hex digits" in res.stderr


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
