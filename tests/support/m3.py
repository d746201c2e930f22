"""lumen M3's peers and vectors (``../shared/lumen-m3/`` beside the checkout, or where
``LUMEN_M3_DIR`` points), for the interoperability and known-answer tests.

Tests that need them skip, with the reason, where the folder is absent.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from project import ROOT


def m3_dir() -> Path:
    return Path(os.environ.get("LUMEN_M3_DIR") or ROOT.parent / "shared" / "lumen-m3")


def require(relative: str) -> Path:
    """A file of the M3 folder, or skip the test saying where it was looked for."""
    path = m3_dir() / relative
    if not path.exists():
        pytest.skip(f"lumen M3's peers are not here ({path} is missing; set LUMEN_M3_DIR)")
    return path


@functools.cache
def _vectors(path: str) -> dict[str, Any]:
    return json.loads(Path(path).read_text())


def vectors() -> dict[str, Any]:
    return _vectors(str(require("vectors.json")))


def sha256(data: bytes | bytearray | memoryview) -> str:
    return hashlib.sha256(data).hexdigest()


def pattern(idx: int, length: int) -> bytes:
    """M3's synthetic test frame: bytes 0..3 the index (u32 LE), byte i >= 4 (idx + i) mod 256."""
    head = idx.to_bytes(4, "little")
    body = bytes((idx + i) % 256 for i in range(4, max(4, length)))
    return (head + body)[:length]


def lcg_bytes(count: int, seed: int = 0x123456789ABCDEF0) -> bytes:
    """The vectors' LCG: s <- s * 6364136223846793005 + 1442695040888963407 (mod 2^64),
    each byte the top 8 bits of s after a step."""
    out = bytearray(count)
    s = seed
    for n in range(count):
        s = (s * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        out[n] = s >> 56
    return bytes(out)


# -- running the peers ------------------------------------------------------------------

_ENV = {**os.environ, "NO_COLOR": "1", "RUST_LOG": "info"}
_FIELD = re.compile(r"\b([a-z_0-9]+)=([^\s]+)")
_STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+)Z")


@dataclass
class M3ClientRun:
    returncode: int
    output: str

    @property
    def fields(self) -> dict[str, str]:
        """Every key=value the client logged (the last one of each name wins)."""
        return dict(_FIELD.findall(self.output))

    def number(self, name: str) -> int:
        return int(self.fields[name])

    @property
    def passed(self) -> bool:
        return "verification PASSED" in self.output

    def seconds_between(self, first: str, last: str) -> float:
        """Seconds between the log lines containing ``first`` and ``last``."""
        def stamp(text: str) -> float:
            line = next(line for line in self.output.splitlines() if text in line)
            match = _STAMP.match(line)
            assert match, line
            h, m, s = match[1].split("T")[1].split(":")
            return int(h) * 3600 + int(m) * 60 + float(s)
        return stamp(last) - stamp(first)


def run_m3_client(*args: str, timeout_s: float = 60.0) -> M3ClientRun:
    """lumen-client-rs with ``args``, to its end; its log (stdout and stderr) and exit status."""
    binary = require("bin/lumen-client-rs")
    proc = subprocess.run([str(binary), *args], capture_output=True, text=True, timeout=timeout_s, env=_ENV)
    return M3ClientRun(proc.returncode, proc.stdout + proc.stderr)


@dataclass
class M3Host:
    proc: subprocess.Popen[bytes]
    port: int
    fingerprint: str
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, text: str, timeout_s: float = 20.0) -> None:
        deadline = time.monotonic() + timeout_s
        while text not in self.log():
            assert self.proc.poll() is None or text in self.log(), f"m3-mini-host exited:\n{self.log()}"
            assert time.monotonic() < deadline, f"m3-mini-host never logged {text!r}:\n{self.log()}"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_m3_host(tmp: Path, port: int, *args: str) -> M3Host:
    """m3-mini-host on ``port`` with its own identity in ``tmp``, listening when this returns."""
    binary = require("bin/m3-mini-host")
    config = tmp / "m3-identity"
    fp = subprocess.run([str(binary), "--print-fingerprint", "--config-dir", str(config)], capture_output=True,
                        text=True, timeout=30, env=_ENV, check=True).stdout.strip()
    log = tmp / f"m3-host-{port}.log"
    proc = subprocess.Popen([str(binary), "--config-dir", str(config), "--port", str(port), *args],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=_ENV)
    host = M3Host(proc, port, fp, log)
    host.wait_for_log("fingerprint")
    return host


def sample(name: str) -> Path:
    return require(f"samples/{name}")


def read_aus(path: Path) -> list[bytes]:
    """The access units of a ``.aus`` file: records of u32 LE length || Annex-B AU."""
    data, out, pos = path.read_bytes(), [], 0
    while pos < len(data):
        length = int.from_bytes(data[pos : pos + 4], "little")
        out.append(data[pos + 4 : pos + 4 + length])
        pos += 4 + length
    return out
