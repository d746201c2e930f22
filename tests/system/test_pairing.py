"""Only paired clients get in: a real host bound to a non-loopback address, inside a
network namespace the test creates, and real clients (the lumen-client and lumen-host
command lines, lumen M3's client) pairing, streaming, failing and being revoked."""

from __future__ import annotations

import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hosts import HostProcess, start_host
from m3 import M3ClientRun, require
from project import ROOT

from lumen_core.control import GoodbyeCode
from netlab import unavailable

pytestmark = pytest.mark.timeout(180)

ADDRESS = "10.88.0.1"  # on the namespace's loopback device, but not a loopback address

_names = itertools.count()


@dataclass
class Lan:
    prefix: list[str]
    tmp: Path

    def host(self, *args: str, identity: Path | None = None) -> HostProcess:
        return start_host(self.tmp, "--bind", ADDRESS, *args, prefix=self.prefix, identity=identity)

    def run(self, argv: list[str], config: str = "client", stdin: str | None = None,
            timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "XDG_CONFIG_HOME": str(self.tmp / config)}
        return subprocess.run([*self.prefix, *argv], capture_output=True, text=True, timeout=timeout_s, env=env,
                              input=stdin, cwd=ROOT)

    def client(self, *args: str, config: str = "client", stdin: str | None = None
               ) -> subprocess.CompletedProcess[str]:
        return self.run([sys.executable, "-m", "lumen_client.cli", *args], config, stdin)

    def stream(self, host: HostProcess, *args: str, config: str = "client") -> tuple[int, str, dict]:
        stats = self.tmp / f"stream-{next(_names)}.json"
        done = self.client("stream", f"{ADDRESS}:{host.port}", "--headless", "--duration", "1", "--no-gamepads",
                           "--size", "640x360", "--stats-json", str(stats), *args, config=config)
        return done.returncode, done.stderr, json.loads(stats.read_text()) if stats.exists() else {}

    def pair(self, host: HostProcess, code: str, config: str = "client") -> subprocess.CompletedProcess[str]:
        return self.client("pair", f"{ADDRESS}:{host.port}", "--code", code, config=config)

    def attempts(self, host: HostProcess, *args: str, config: str = "client") -> list[dict]:
        done = self.run([sys.executable, "tests/support/pairing_client.py", ADDRESS, str(host.port), *args], config)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]

    def pin(self, identity: Path | None = None) -> str:
        """A fresh PIN from ``lumen-host pair``, as a person reads it off the host."""
        done = subprocess.run([sys.executable, "-m", "lumen_host.cli", "pair", "--identity",
                               str(identity or self.tmp / "identity")], capture_output=True, text=True, check=True)
        match = re.search(r"pairing PIN: (\d{3}) (\d{3})", done.stdout)
        assert match, done.stdout
        return match[1] + match[2]

    def host_clients(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "lumen_host.cli", "clients", "--identity",
                               str(self.tmp / "identity"), *args], capture_output=True, text=True)


@pytest.fixture
def lan(tmp_path: Path) -> Iterator[Lan]:
    why = unavailable()
    if why is not None:
        pytest.skip(f"pairing tests need a network namespace: {why}")
    name = f"lumen-pair-{os.getpid()}-{next(_names)}"
    for args in (["netns", "add", name], ["-n", name, "link", "set", "lo", "up"],
                 ["-n", name, "addr", "add", f"{ADDRESS}/32", "dev", "lo"]):
        subprocess.run(["ip", *args], check=True, capture_output=True)
    try:
        yield Lan(["ip", "netns", "exec", name], tmp_path)
    finally:
        subprocess.run(["ip", "netns", "delete", name], capture_output=True)


def last_line(text: str) -> str:
    return text.strip().splitlines()[-1]


def refusal(host: HostProcess) -> str:
    return f"lumen-client: this client is not paired with {ADDRESS}:{host.port}; run lumen-client pair " \
           f"{ADDRESS}:{host.port}"


def test_an_unpaired_client_is_refused_with_one_sentence_and_no_media(lan: Lan) -> None:
    host = lan.host()
    assert "pairing required" in host.log()
    code, err, stats = lan.stream(host)
    assert code == 1 and last_line(err) == refusal(host), err
    assert stats["quic_datagrams_received"] == 0 and stats["video"]["datagrams"] == 0, stats
    assert stats["audio_packets"] == 0 and stats["frames_received"] == 0
    log = host.log()
    assert "not paired" in log and "mode with" not in log and "video to" not in log, log
    assert "Traceback" not in err


def test_pairing_with_the_right_pin_then_streaming_needs_neither_pin_nor_prompt(lan: Lan) -> None:
    host = lan.host()
    paired = lan.pair(host, lan.pin())
    assert paired.returncode == 0, paired.stderr
    assert f"paired with {ADDRESS}:{host.port}" in paired.stderr
    pins = json.loads((lan.tmp / "client" / "lumen" / "known_hosts.json").read_text())
    assert pins == {f"{ADDRESS}:{host.port}": host.fingerprint}  # pinned by the pairing, no prompt
    key = lan.tmp / "client" / "lumen" / "client-key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    listed = lan.host_clients("list")
    assert listed.returncode == 0 and listed.stdout.startswith("lumen-client on "), listed.stdout
    assert "PRIVATE" not in listed.stdout and "pin" not in listed.stdout.lower()
    code, err, stats = lan.stream(host)
    assert code == 0, err
    assert stats["trusted_by"] == "stored pin" and stats["mode"] == "extended" and stats["frames_decoded"] > 0
    assert "trusting" not in err  # no first-use prompt: the pairing pinned the host
    # The PIN worked once: another client cannot use it again.
    again = lan.pair(host, "000000", config="other")
    assert again.returncode == 1 and "no pairing PIN is active" in again.stderr, again.stderr


def test_a_wrong_pin_fails_cleanly_and_persists_nothing(lan: Lan) -> None:
    host = lan.host()
    pin = lan.pin()
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    failed = lan.pair(host, wrong)
    assert failed.returncode == 1, failed.stderr
    assert last_line(failed.stderr) == ("lumen-client: pairing failed: wrong PIN (or someone is between this client "
                                        "and the host)"), failed.stderr
    assert not (lan.tmp / "client" / "lumen" / "known_hosts.json").exists()
    assert lan.host_clients("list").stdout.startswith("no paired clients")
    code, err, _ = lan.stream(host)
    assert code == 1 and last_line(err) == refusal(host)
    # The PIN is still the one to type.
    assert lan.pair(host, pin).returncode == 0


def test_bad_pins_on_the_command_line_are_one_line_errors(lan: Lan) -> None:
    host = lan.host()
    for code in ("12345", "abcdef"):
        done = lan.pair(host, code)
        assert done.returncode == 2 and done.stderr.count("\n") == 1 and "6 digits" in done.stderr, done.stderr
    wrong = f"{(int(lan.pin()) + 1) % 1_000_000:06d}"
    typed = lan.client("pair", f"{ADDRESS}:{host.port}", stdin=f"{wrong[:3]} {wrong[3:]}\n")  # as people type it
    assert typed.returncode == 1 and "wrong PIN" in typed.stderr


def test_attempts_beyond_five_wait_two_seconds_doubling_in_parallel_too(lan: Lan) -> None:
    host = lan.host()
    pin = lan.pin()
    wrong = f"{(int(pin) + 1) % 1_000_000:06d}"
    burst = lan.attempts(host, "burst", "8", wrong)
    failed = [r for r in burst if r["code"] == GoodbyeCode.PAIRING_FAILED]
    limited = [r for r in burst if r["code"] == GoodbyeCode.PAIRING_LIMITED]
    assert len(failed) == 5 and len(limited) == 3, burst  # five free, however many come at once
    assert all(0 < r["retry_after_s"] <= 2.0 for r in limited), limited
    assert "too many pairing attempts; try again in 2 s" in limited[0]["error"]
    # The sixth attempt is let in 2 s after the fifth, then the next 4 s after that.
    time.sleep(max(r["retry_after_s"] for r in limited) + 0.1)
    [sixth] = lan.attempts(host, "attempt", wrong)
    assert sixth["code"] == GoodbyeCode.PAIRING_FAILED, sixth
    [early] = lan.attempts(host, "attempt", pin)  # even the right PIN must wait its turn
    assert early["code"] == GoodbyeCode.PAIRING_LIMITED and 2.0 < early["retry_after_s"] <= 4.0, early
    time.sleep(early["retry_after_s"] + 0.1)
    [right] = lan.attempts(host, "attempt", pin)
    assert right["ok"] and right["paired"], right
    # A success clears the count: the next pairing is free again.
    [fresh] = lan.attempts(host, "attempt", "000000", config="other")
    assert fresh["code"] == GoodbyeCode.PAIRING_FAILED and "no pairing PIN" in fresh["error"], fresh


def test_an_abandoned_pairing_is_not_authorized_after_a_host_restart(lan: Lan) -> None:
    host = lan.host()
    [vanished] = lan.attempts(host, "abandon", lan.pin())
    assert vanished == {"vanished": True}
    host.proc.send_signal(signal.SIGINT)
    host.proc.wait(20)
    assert "paired with" not in host.log()
    again = lan.host()
    assert lan.host_clients("list").stdout.startswith("no paired clients")
    code, err, _ = lan.stream(again)
    assert code == 1 and last_line(err) == refusal(again), err


def test_another_clients_public_key_without_its_private_key_is_refused(lan: Lan) -> None:
    host = lan.host()
    assert lan.pair(host, lan.pin()).returncode == 0
    [victim] = json.loads((lan.tmp / "identity" / "clients.json").read_text())["clients"]
    [forged] = lan.attempts(host, "forge", victim["key"], config="mallory")
    assert forged["code"] == GoodbyeCode.PROTOCOL_ERROR and "does not verify" in forged["error"], forged
    assert "video to" not in host.log()


def test_a_revoked_client_is_refused_and_its_live_session_ends_at_once(lan: Lan) -> None:
    host = lan.host()
    assert lan.pair(host, lan.pin()).returncode == 0
    name = lan.host_clients("list").stdout.split("\t")[0]
    env = {**os.environ, "XDG_CONFIG_HOME": str(lan.tmp / "client")}
    live = subprocess.Popen([*lan.prefix, sys.executable, "-m", "lumen_client.cli", "stream",
                             f"{ADDRESS}:{host.port}", "--headless", "--duration", "60", "--no-gamepads", "--size",
                             "640x360"], stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    try:
        host.wait_for_log("video to")
        revoked = lan.host_clients("revoke", name)
        assert revoked.returncode == 0 and f"revoked {name!r}" in revoked.stdout, revoked
        started = time.monotonic()
        code = live.wait(10)
        took = time.monotonic() - started
        err = live.stderr.read() if live.stderr else ""
    finally:
        live.kill()
    assert code == 1 and took < 3.0, (code, took, err)
    assert "this client's pairing was revoked on the host" in last_line(err), err
    code, err, _ = lan.stream(host)
    assert code == 1 and last_line(err) == refusal(host), err
    unknown = lan.host_clients("revoke", name)
    assert unknown.returncode == 1 and unknown.stderr.count("\n") == 1 and "no paired client" in unknown.stderr


def test_lumen_m3s_client_is_refused_by_a_pairing_host_and_served_with_allow_unpaired(lan: Lan) -> None:
    binary = require("bin/lumen-client-rs")

    def m3_client(host: HostProcess) -> M3ClientRun:
        done = lan.run([str(binary), "--connect", f"{ADDRESS}:{host.port}", "--pin", host.fingerprint],
                       timeout_s=120)
        return M3ClientRun(done.returncode, done.stdout + done.stderr)

    strict = lan.host("--source", "m3-synthetic", "--frames", "60")
    refused = m3_client(strict)
    assert refused.returncode != 0 and not refused.passed, refused.output
    assert "not paired" in strict.log() and "video to" not in strict.log()
    strict.proc.send_signal(signal.SIGINT)
    strict.proc.wait(20)
    open_host = lan.host("--source", "m3-synthetic", "--frames", "60", "--allow-unpaired", "--max-sessions", "1")
    assert "--allow-unpaired: any machine that reaches" in open_host.log()
    served = m3_client(open_host)
    assert served.returncode == 0 and served.passed, served.output
