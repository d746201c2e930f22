"""Waiting on a streaming client, and its options against a host started by hosts.py."""

from __future__ import annotations

import time

from hosts import ClientRun

from lumen_client.session import StreamOptions


def options(host, duration: float = 3.0, **kw) -> StreamOptions:  # type: ignore[no-untyped-def]
    return StreamOptions(host="127.0.0.1", port=host.port, duration_s=duration, width=640, height=360, **kw)


def wait_for(condition, run: ClientRun, what: str, timeout_s: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    """Poll ``condition`` (a client's state) until it holds; the run's own error if it died."""
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert run.error is None, run.error
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


def wait_streaming(run: ClientRun, timeout_s: float = 15.0) -> None:
    wait_for(lambda: run.session.streaming, run, "no Welcome from the host", timeout_s)
