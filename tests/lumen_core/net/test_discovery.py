"""Hosts found on the LAN: a real host announces itself over multicast DNS, the client's
browser finds it with its TXT fields and sees it go. Inside a network namespace the test
creates (its loopback carries multicast, which the machine's own may not)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hosts import start_host
from project import ROOT

from lumen_core.control import EXTENSION_VERSION
from lumen_core.trust import format_fingerprint
from netlab import unavailable

pytestmark = pytest.mark.timeout(120)

WATCH = textwrap.dedent("""
    import sys, time
    from lumen_core.net.discovery import Browser
    seen = {}
    def changed(hosts):
        for name, host in hosts.items():
            if name not in seen:
                print(f"{time.monotonic():.3f} add {host.name} {host.endpoint} {host.fingerprint}",
                      host.extension_version, host.pairing_required, flush=True)
        for name in set(seen) - set(hosts):
            print(f"{time.monotonic():.3f} remove {seen[name].name}", flush=True)
        seen.clear(); seen.update(hosts)
    browser = Browser(changed, bind="127.0.0.1")
    time.sleep(float(sys.argv[1]))
    browser.close()
""")


@pytest.fixture
def namespace() -> Iterator[str]:
    why = unavailable()
    if why is not None:
        pytest.skip(f"discovery tests need a network namespace: {why}")
    name = f"lumen-mdns-{os.getpid()}"
    for args in (["netns", "add", name], ["-n", name, "link", "set", "lo", "up"],
                 ["-n", name, "link", "set", "lo", "multicast", "on"], ["-n", name, "route", "add", "224.0.0.0/4",
                                                                         "dev", "lo"]):
        subprocess.run(["ip", *args], check=True, capture_output=True)
    try:
        yield name
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def test_a_host_is_found_with_its_txt_fields_and_seen_to_go(namespace: str, tmp_path: Path) -> None:
    prefix = ["ip", "netns", "exec", namespace]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XDG_CONFIG_HOME": str(tmp_path / "c")}
    watcher = subprocess.Popen([*prefix, sys.executable, "-c", WATCH, "20"], stdout=subprocess.PIPE, text=True,
                               env=env)
    host = start_host(tmp_path, "--bind", "127.0.0.1", "--require-pairing", prefix=prefix, advertise=True)
    started = time.monotonic()
    try:
        host.wait_for_log("announced on the LAN")
        listed = subprocess.run([*prefix, sys.executable, "-m", "lumen_client.cli", "list", "--seconds", "3"],
                                capture_output=True, text=True, timeout=30, env=env)
        assert listed.returncode == 0, listed.stderr
        assert f"127.0.0.1:{host.port}\tlumen/1 extended\tpairing required (lumen-client pair)" in listed.stdout, \
        listed.stdout
        assert format_fingerprint(host.fingerprint) in listed.stdout
        assert time.monotonic() - started < 3.0 + 5.0  # three seconds of listening, and a Python's start
    finally:
        host.stop()
    gone = time.monotonic()
    out, _ = watcher.communicate(timeout=40)
    lines = out.splitlines()
    [added] = [line for line in lines if " add " in line]
    assert f"127.0.0.1:{host.port} {host.fingerprint} {EXTENSION_VERSION} True" in added
    [removed] = [line for line in lines if " remove " in line]
    assert float(removed.split()[0]) - gone < 3.0, "gone from the list within 3 s of the host's stop"


def test_a_host_told_not_to_announce_is_not_found(namespace: str, tmp_path: Path) -> None:
    prefix = ["ip", "netns", "exec", namespace]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path / "c")}
    host = start_host(tmp_path, "--bind", "127.0.0.1", prefix=prefix)  # --no-advertise
    try:
        listed = subprocess.run([*prefix, sys.executable, "-m", "lumen_client.cli", "list", "--seconds", "2"],
                                capture_output=True, text=True, timeout=30, env=env)
    finally:
        host.stop()
    assert listed.returncode == 0 and listed.stdout == "" and "no host answered within 2 s" in listed.stderr


def test_txt_records_that_are_not_a_lumen_hosts_are_read_safely() -> None:
    from zeroconf import ServiceInfo

    from lumen_core.net.discovery import SERVICE_TYPE, _found

    def info(props: dict[bytes, bytes | None]) -> ServiceInfo:
        return ServiceInfo(SERVICE_TYPE, f"x.{SERVICE_TYPE}", port=9777, parsed_addresses=["192.0.2.7"],
                           properties=props)

    good = _found(info({b"proto": b"lumen/1", b"ext": b"2", b"name": b"den", b"fp": b"AB" * 32, b"pair": b"1"}), "x")
    assert good is not None and (good.name, good.endpoint, good.fingerprint) == ("den", "192.0.2.7:9777", "ab" * 32)
    assert good.pairing_required and good.extension_version == 2
    assert _found(info({b"proto": b"other/2"}), "x") is None  # someone else's service under our type
    odd = _found(info({b"proto": b"lumen/1", b"ext": b"many", b"fp": b"\xff" * 64, b"name": None}), "x")
    assert odd is not None and odd.fingerprint == "" and odd.extension_version == 0 and odd.name == "x"
