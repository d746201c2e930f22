"""What pairing and client authentication cost: ``.venv/bin/python bench/pairing.py``.

Side by side, in one run on loopback:

- connect to the first decoded picture, from a host that needs no pairing (the client
  shows no key: the reference) and from one that requires it (key proof first);
- a whole pairing connection (QUIC, the key proof, SPAKE2, both confirmations, storing);
- the SPAKE2 exchange alone, both sides, in process;
- the reachability probe's round trip beside a QUIC handshake's.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "support"))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from hosts import start_host  # noqa: E402
from lumen_host.pairing import PinFile  # noqa: E402

from lumen_client.pipeline import Each  # noqa: E402
from lumen_client.session import StreamOptions, StreamSession  # noqa: E402
from lumen_client.trust_store import TrustStore  # noqa: E402
from lumen_client.wiring import wire  # noqa: E402
from lumen_core.net.probe import probe  # noqa: E402
from lumen_core.session.auth import PairingExchange, public_key_bytes  # noqa: E402


async def first_picture(port: int, fingerprint: str, identity: Ed25519PrivateKey | None) -> float:
    """Seconds from starting the session to its first decoded picture."""
    started = time.perf_counter()
    seen: list[float] = []
    session: StreamSession | None = None

    def picture(*_: object) -> None:
        if not seen:
            seen.append(time.perf_counter() - started)
            assert session is not None
            session.stop()

    options = StreamOptions(host="127.0.0.1", port=port, pin=fingerprint, width=640, height=360, duration_s=10,
                            identity=identity)
    session = wire(options, TrustStore(Path(tempfile.mkdtemp()) / "pins.json"), lambda fp: True,
                   video=Each(picture))
    await session.run()
    assert seen, "no picture"
    return seen[0]


async def pair_once(port: int, identity: Ed25519PrivateKey, pin: str, store: TrustStore) -> float:
    started = time.perf_counter()
    result = await StreamSession(StreamOptions(host="127.0.0.1", port=port, identity=identity, pair_pin=pin),
                                 store, lambda fp: False).run()
    assert result.paired
    return time.perf_counter() - started


def spake_us(rounds: int) -> float:
    key = public_key_bytes(Ed25519PrivateKey.generate())
    times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        a = PairingExchange("client", "123456", key, "ab" * 32)
        b = PairingExchange("host", "123456", key, "ab" * 32)
        b.finish(a.message)
        a.finish(b.message)
        assert a.check(a.host_confirm, b.host_confirm) and b.check(b.client_confirm, a.client_confirm)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def ms(values: list[float]) -> str:
    return f"p50 {statistics.median(values) * 1000:7.2f} ms   max {max(values) * 1000:7.2f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="lumen-pairing-bench-"))
    open_host = start_host(tmp / "open")
    strict = start_host(tmp / "strict", "--require-pairing")
    identity = Ed25519PrivateKey.generate()
    store = TrustStore(tmp / "pins.json")
    pins = PinFile(tmp / "strict" / "identity")
    try:
        pairings = []
        for _ in range(args.rounds):
            pairings.append(asyncio.run(pair_once(strict.port, identity, pins.create(time.time()), store)))
        unkeyed = [asyncio.run(first_picture(open_host.port, open_host.fingerprint, None))
                   for _ in range(args.rounds)]
        keyed = [asyncio.run(first_picture(strict.port, strict.fingerprint, identity)) for _ in range(args.rounds)]
        probes = [p.rtt_s for p in (probe("127.0.0.1", strict.port) for _ in range(args.rounds * 4)) if p]
    finally:
        open_host.stop()
        strict.stop()
    print(f"connect -> first picture, no pairing (reference)   {ms(unkeyed)}")
    print(f"connect -> first picture, paired (key proof)       {ms(keyed)}   "
          f"{statistics.median(keyed) / statistics.median(unkeyed):.2f}x")
    print(f"pairing connection, start to pinned               {ms(pairings)}")
    print(f"SPAKE2 + confirmations, both sides in process      p50 {spake_us(50):7.0f} us")
    print(f"reachability probe round trip                      {ms(probes)}   ({len(probes)} of {args.rounds * 4} "
          "answered)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
