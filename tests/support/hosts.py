"""Running a real lumen-host process for the end-to-end tests, and a client beside it."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop import die_with_parent

from lumen_client.session import SessionResult, StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_client.wiring import wire
from lumen_core.identity import load_or_create_identity


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class HostProcess:
    proc: subprocess.Popen[bytes]
    port: int
    video_port: int
    fingerprint: str
    stats_path: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float = 15.0, after: int = 0) -> None:
        """Until the log holds ``text`` more than ``after`` times."""
        deadline = time.monotonic() + timeout_s
        while self.log().count(text) <= after:
            if self.proc.poll() is not None:
                raise AssertionError(f"lumen-host exited ({self.proc.returncode}):\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"lumen-host never logged {text!r}:\n{self.log()}")
            time.sleep(0.05)

    def sessions(self) -> list[dict[str, object]]:
        try:
            return json.loads(self.stats_path.read_text())
        except (FileNotFoundError, ValueError):
            return []

    def wait_for_sessions(self, count: int, timeout_s: float = 15.0) -> list[dict[str, object]]:
        deadline = time.monotonic() + timeout_s
        while len(self.sessions()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"host reported {len(self.sessions())} sessions, not {count}:\n{self.log()}")
            time.sleep(0.05)
        return self.sessions()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError(f"lumen-host did not stop on SIGINT:\n{self.log()}") from None
        return self.proc.returncode


def start_host(tmp: Path, *args: str, identity: Path | None = None, port: int | None = None,
               prefix: Sequence[str] = (), advertise: bool = False) -> HostProcess:
    """A lumen-host process; ``prefix`` runs it through another command (ip netns exec).
    Not announced on the LAN unless ``advertise``: tests start many hosts."""
    identity = identity or tmp / "identity"
    fp = load_or_create_identity(identity)[0].fingerprint
    port = port or free_udp_port()
    video_port = free_udp_port()
    stats = tmp / f"host-{port}-{time.monotonic_ns()}.json"
    log = stats.with_suffix(".log")
    cmd = [*prefix, sys.executable, "-m", "lumen_host.cli", "--identity", str(identity), "--port", str(port),
           "--video-port", str(video_port), "--size", "640x360", "--fps", "60", "--bitrate", "4000",
           "--stats-json", str(stats), *([] if advertise else ["--no-advertise"]), *args]
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp / "host-config")}
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                            preexec_fn=die_with_parent)
    host = HostProcess(proc, port, video_port, fp, stats, log)
    host.wait_for_log("listening on")
    return host


class ClientRun:
    """A client session on its own thread and event loop, so a test can act during it."""

    def __init__(self, options: StreamOptions, store: TrustStore,
                 first_use: Callable[[str], bool] = lambda fp: True, **sinks: Any) -> None:
        """``sinks``: pipeline.wire's video, audio, pads, rumble."""
        self.session = wire(options, store, first_use, **sinks)
        self.result: SessionResult | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="test-client")

    def _run(self) -> None:
        try:
            self.result = asyncio.run(self.session.run())
        except BaseException as exc:  # handed to the test
            self.error = exc

    def start(self) -> ClientRun:
        self._thread.start()
        return self

    def join(self, timeout_s: float = 60.0) -> SessionResult:
        self._thread.join(timeout_s)
        assert not self._thread.is_alive(), "client session did not end"
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def run_client(options: StreamOptions, store: TrustStore, first_use: Callable[[str], bool] = lambda fp: True
               ) -> SessionResult:
    return ClientRun(options, store, first_use).start().join()
