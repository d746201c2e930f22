"""lumen-client's command line: its version, and errors as one readable line with a non-zero exit."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from commands import one_line, run
from hosts import ClientRun, start_host
from streams import options, wait_for

from lumen_client.trust_store import TrustStore
from lumen_core import __version__

pytestmark = pytest.mark.timeout(180)


def test_version() -> None:
    assert run("lumen_client.cli", "--version").stdout.strip() == f"lumen-client {__version__}"


def test_malformed_pin_is_one_line_and_exit_2() -> None:
    res = run("lumen_client.cli", "--check-pin", "abc")
    assert res.returncode == 2
    assert res.stderr.count("\n") == 1 and "Traceback" not in res.stderr
    assert "3 hex digits" in res.stderr


def test_the_desktop_client_without_a_display_says_so() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    one_line(run("lumen_client.cli", env=env), 1, "no display", "--headless")
    one_line(run("lumen_client.cli", "stream", "127.0.0.1", env=env), 1, "no display")


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


def test_malformed_pin_exits_2_before_any_packet(tmp_path: Path) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    listener.bind(("127.0.0.1", 0))
    listener.settimeout(1.0)
    port = listener.getsockname()[1]
    res = subprocess.run([sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{port}", "--headless",
                          "--pin", "12:34:zz"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 2 and "malformed --pin" in res.stderr and "Traceback" not in res.stderr
    assert res.stderr.count("\n") == 1
    with pytest.raises(TimeoutError):
        listener.recvfrom(2048)
    listener.close()


def test_cli_pin_mismatch_exits_3(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    try:
        res = subprocess.run([sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{host.port}",
                              "--headless", "--duration", "1", "--pin", "ab" * 32, "--no-gamepads"],
                             capture_output=True, text=True, timeout=60,
                             env={**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c")})
        assert res.returncode == 3, res.stderr
        assert "does not match --pin" in res.stderr and "Traceback" not in res.stderr
    finally:
        host.stop()


def test_ctrl_c_mid_stream_tears_everything_down(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    run = ClientRun(options(host, 20.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json")).start()
    wait_for(lambda: run.session.counters()["frames_decoded"] >= 45, run, "no pictures decoded")
    started = time.monotonic()
    assert host.stop() == 0  # SIGINT, as Ctrl+C sends
    assert time.monotonic() - started < 5
    [served] = host.sessions()
    assert served["end_reason"] == "host is shutting down" and served["frames_sent"] > 30
    result = run.join()
    assert "host" in result.end_reason
