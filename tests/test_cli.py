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


def one_line(res: subprocess.CompletedProcess[str], code: int, *words: str) -> None:
    assert res.returncode == code, (res.returncode, res.stderr)
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr, res.stderr
    for word in words:
        assert word in res.stderr, res.stderr


def test_the_desktop_client_without_a_display_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    one_line(run("lumen_client.cli", env=env), 1, "no display", "--headless")
    one_line(run("lumen_client.cli", "stream", "127.0.0.1", env=env), 1, "no display")


def test_an_identity_directory_that_cannot_be_one(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    one_line(run("lumen_host.cli", "--identity", str(tmp_path / "file" / "id"), "--fingerprint"), 1,
             "cannot use", "Not a directory")


def test_numbers_out_of_range_and_unwritable_stats_are_refused_before_connecting(tmp_path: Path) -> None:
    for args in (["--fps", "-3"], ["--fps", "many"], ["--duration", "nan"], ["--duration", "-1"],
                 ["--stats-json", str(tmp_path / "missing" / "s.json")], ["--stats-json", str(tmp_path)]):
        res = run("lumen_client.cli", "stream", "127.0.0.1", "--headless", *args)
        assert res.returncode == 2 and "Traceback" not in res.stderr, (args, res.stderr)
        assert res.stderr.strip().splitlines()[-1].startswith("lumen-client"), res.stderr
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "config")}
    run("lumen_host.cli", "--fingerprint", env=env)  # the identity exists, as on any host that ran once
    one_line(run("lumen_host.cli", "--stats-json", str(tmp_path / "missing" / "s.json"), env=env), 2,
             "not a directory")


# A machine without libopus: ctypes finds no "opus", and none of the paths opuslib-next
# falls back to exists.
MISSING_OPUS = ("import ctypes.util, os.path, sys; ctypes.util.find_library = lambda name: None; "
                "exists = os.path.exists; os.path.exists = lambda p: 'libopus' not in str(p) and exists(p); "
                "from {module} import main; sys.exit(main({argv}))")


def test_a_missing_libopus_is_one_line_on_both_sides(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path)}
    for module, argv in (("lumen_host.cli", []), ("lumen_client.cli", ["stream", "127.0.0.1", "--headless"])):
        res = subprocess.run([sys.executable, "-c", MISSING_OPUS.format(module=module, argv=argv)],
                             capture_output=True, text=True, timeout=60, env=env)
        assert res.returncode == 1 and "Traceback" not in res.stderr, res.stderr
        assert "libopus" in res.stderr.strip().splitlines()[-1] and "apt install libopus0" in res.stderr


def test_an_unreachable_host_is_one_line_without_asyncio_noise() -> None:
    res = run("lumen_client.cli", "stream", "127.0.0.1:9", "--headless", "--duration", "1")
    one_line(res, 1, "no answer from 127.0.0.1:9 within 10 s")
