"""Pairing attempts from one process, run by test_pairing.py inside its network
namespace; prints one JSON object per attempt or step.

    python tests/support/pairing_client.py HOST PORT burst N CODE     N attempts at once with CODE
    python tests/support/pairing_client.py HOST PORT attempt CODE     one attempt
    python tests/support/pairing_client.py HOST PORT abandon CODE     pair, and vanish on the host's reply
    python tests/support/pairing_client.py HOST PORT forge VICTIM_KEY claim VICTIM_KEY (hex), sign with another

Each attempt uses the client key in $XDG_CONFIG_HOME/lumen (the forger its own).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import lumen_core.session.client as client_core
from lumen_client.session import SessionError, StreamOptions, StreamSession
from lumen_client.trust_store import TrustStore
from lumen_core.control import PairReply, decode_message
from lumen_core.identity import load_or_create_client_key


async def attempt(host: str, port: int, code: str | None, key: Ed25519PrivateKey, pin: str | None = None) -> dict:
    options = StreamOptions(host=host, port=port, identity=key, pair_pin=code, pin=pin, duration_s=0.5,
                            width=640, height=360)
    started = time.monotonic()
    try:
        result = await StreamSession(options, TrustStore(), lambda fp: True).run()
    except SessionError as exc:
        return {"ok": False, "code": exc.code, "error": str(exc), "retry_after_s": exc.retry_after_s,
                "at": started}
    return {"ok": True, "paired": result.paired, "mode": result.mode, "at": started}


async def main(host: str, port: int, mode: str, args: list[str]) -> None:
    key, _ = load_or_create_client_key()
    if mode == "burst":
        results = await asyncio.gather(*(attempt(host, port, args[1], key) for _ in range(int(args[0]))))
        for r in results:
            print(json.dumps(r), flush=True)
    elif mode == "attempt":
        print(json.dumps(await attempt(host, port, args[0], key)), flush=True)
    elif mode == "abandon":
        # The client crashes between the host's reply and its own confirmation.
        handle = client_core.ClientSession._handshake_message

        def vanish(self: client_core.ClientSession, payload: bytes, now: float) -> None:
            if isinstance(decode_message(payload), PairReply):
                print(json.dumps({"vanished": True}), flush=True)
                os._exit(0)
            handle(self, payload, now)

        client_core.ClientSession._handshake_message = vanish  # type: ignore[method-assign]
        print(json.dumps(await attempt(host, port, args[0], key)), flush=True)
    elif mode == "forge":
        # Claim the victim's public key; the proof can only be signed with the forger's own.
        victim = bytes.fromhex(args[0])
        client_core.public_key_bytes = lambda _key: victim  # type: ignore[assignment]
        print(json.dumps(await attempt(host, port, None, Ed25519PrivateKey.generate())), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]))
