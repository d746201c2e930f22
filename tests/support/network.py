"""A host and a headless client on either side of a netlab.NetLab (tests and benchmarks)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hosts import HostProcess, start_host

from netlab import NetLab, unavailable
from netlab.lab import ADDRESS_A


def need_netlab() -> None:
    why = unavailable()
    if why is not None:
        pytest.skip(f"impairment tests need network namespaces: {why}")


@dataclass
class ClientProcess:
    proc: subprocess.Popen[bytes]
    stats_path: Path
    log_path: Path
    started: float

    def wait(self, timeout_s: float = 60.0) -> int:
        return self.proc.wait(timeout=timeout_s)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stats(self) -> dict[str, Any]:
        try:
            return json.loads(self.stats_path.read_text())
        except (FileNotFoundError, ValueError) as exc:
            raise AssertionError(f"the client wrote no stats ({exc}):\n{self.log()}") from None


def host_in(lab: NetLab, tmp: Path, *args: str) -> HostProcess:
    """lumen-host on side A, listening on its address there."""
    # A test rig: clients here are not paired (test_pairing.py is about pairing).
    return start_host(tmp, "--bind", ADDRESS_A, "--allow-unpaired", *args, prefix=lab.command("a", []))


_clients = 0


def client_in(lab: NetLab, tmp: Path, host: HostProcess, duration_s: float, *args: str,
              size: str = "640x360") -> ClientProcess:
    """The headless client on side B, streaming from ``host`` for ``duration_s``."""
    global _clients
    _clients += 1
    stats = tmp / f"client-{_clients}.json"
    log = stats.with_suffix(".log")
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "client-config")}
    argv = [sys.executable, "-m", "lumen_client.cli", "stream", f"{ADDRESS_A}:{host.port}", "--headless",
            "--duration", str(duration_s), "--pin", host.fingerprint, "--no-gamepads", "--size", size,
            "--stats-json", str(stats), *args]
    proc = lab.popen("b", argv, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    return ClientProcess(proc, stats, log, time.monotonic())
