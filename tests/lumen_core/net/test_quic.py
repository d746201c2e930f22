"""The QUIC plane's trust: a pinned fingerprint is checked against a peer that proves its key."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest
from hosts import free_udp_port, run_client

from lumen_client.session import SessionError, StreamOptions
from lumen_client.trust_store import TrustStore
from lumen_core.identity import create_identity, load_or_create_identity

pytestmark = pytest.mark.timeout(180)


def test_peer_with_the_host_certificate_but_not_its_key_is_refused(tmp_path: Path) -> None:
    """Pinning the certificate alone proves nothing: TLS CertificateVerify must be checked."""
    from aioquic.asyncio import serve
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    from lumen_core.net.quic import _configuration

    real, _ = load_or_create_identity(tmp_path / "real")
    other = create_identity(tmp_path / "other")
    config = _configuration(is_client=False)
    config.certificate = x509.load_pem_x509_certificate(real.cert_path.read_bytes())  # the real certificate...
    config.private_key = load_pem_private_key(other.key_path.read_bytes(), None)  # ...without its key
    port = free_udp_port()
    ready, stop = threading.Event(), threading.Event()

    async def impostor() -> None:
        server = await serve("127.0.0.1", port, configuration=config)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.05)
        server.close()

    thread = threading.Thread(target=lambda: asyncio.run(impostor()))
    thread.start()
    ready.wait(10)
    try:
        opts = StreamOptions(host="127.0.0.1", port=port, duration_s=1.0, pin=real.fingerprint)
        with pytest.raises(SessionError) as info:
            run_client(opts, TrustStore(tmp_path / "p.json"))
        assert "within" not in str(info.value), "refused by TLS, not by a timeout"
    finally:
        stop.set()
        thread.join(10)
