"""The host's video sources behind the encoder, streamed to a real client."""

from __future__ import annotations

from pathlib import Path

import pytest
from hosts import run_client, start_host
from streams import options

from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(180)


def test_screen_source_under_xvfb(tmp_path: Path, xvfb_display: str) -> None:
    host = start_host(tmp_path, "--source", "screen", "--max-sessions", "1")
    result = run_client(options(host, 2.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json"))
    [served] = host.wait_for_sessions(1)
    assert result.stats["frames_decoded"] >= 30 and served["frames_sent"] >= 30
