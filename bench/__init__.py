"""lumen's benchmarks: scripts that print what they measure beside a reference measured in
the same run. They live in the source checkout, not in the packages: run them from its
root (``python -m bench.e2e``, or ``lumen-client bench e2e`` from an editable install)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def env_with_bench(env: dict[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: this process's) with the checkout on PYTHONPATH, so a child
    started with ``-m bench.X`` finds this package wherever it runs."""
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
