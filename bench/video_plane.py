"""``python -m bench.video_plane``: video-plane throughput beside its references.

Everything runs in one process on one core, in the same run, with the measurements
interleaved round by round and the best round of each kept: machines here are shared
and noisy, and interleaving gives the references and the subjects the same weather.
The ratios between lines are what travel. Frames are random bytes (what a codec
hands over is incompressible too).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from lumen_core.fec import GF8, GF16, FecEngine, engine_for
from lumen_core.net.video import gso_segments
from lumen_core.video import Packetizer, Reassembler, VideoConfig
from lumen_core.video.crypto import native_available
from lumen_core.video.header import HEADER_SIZE
from lumen_core.video.packetizer import SealedBlock

_SEQ = bytes(8)  # stands in for the seq prefix, the associated data of every datagram


@dataclass
class Case:
    label: str
    run: Callable[[], int]  # one unit of work; returns the frame bytes it covered
    best_gbps: float = 0.0


# The two offers measured: M3's host (GF16, 20 %, 4096 shards a block) and a GF(2^8) one
# as large as GF(2^8) allows at 20 % (200 + 40 shards a block); 1200-byte shards for both.
SCHEMES = {
    GF16: ("GF16", lambda key: VideoConfig(key=key)),
    GF8: ("GF8", lambda key: VideoConfig(scheme=GF8, percent=20, max_data_per_block=200, key=key)),
}


def _seal_loop(frame: bytes, packet: int) -> Callable[[], int]:
    """The reference: cryptography's AES-128-GCM over the frame in packet-sized pieces."""
    aead = AESGCM(os.urandom(16))
    chunks = [memoryview(frame)[i : i + packet] for i in range(0, len(frame), packet)]
    nonces = [n.to_bytes(12, "big") for n in range(len(chunks))]

    def run() -> int:
        for nonce, chunk in zip(nonces, chunks, strict=True):
            aead.encrypt(nonce, chunk, _SEQ)
        return len(frame)

    return run


def _fec_alone(engine: FecEngine, config: VideoConfig, frame: bytes) -> tuple[str, Callable[[], int]]:
    p, d = config.shard_payload, config.max_data_per_block
    total = -(-len(frame) // p)
    shapes = []
    for b in range(-(-total // d)):
        k = min(d, total - b * d)
        m = (k * config.percent + 99) // 100
        shards = np.zeros((k + m, p), dtype=np.uint8)
        shards[:k] = np.frombuffer(os.urandom(k * p), dtype=np.uint8).reshape(k, p)
        shapes.append((shards, k))

    def run() -> int:
        for shards, k in shapes:
            engine.encode_into(shards, k)
        return len(frame)

    k, m = shapes[0][1], shapes[0][0].shape[0] - shapes[0][1]
    return f"{len(shapes)} block(s) of k={k} m={m}", run


def _packetizer(config: VideoConfig, frame: bytes, native: bool) -> Callable[[], int]:
    packetizer = Packetizer(config, native_aead=native)

    def run() -> int:
        packetizer.packetize(frame, pts_ns=0, user_flags=5)
        return len(frame)

    return run


def _gso_sends(block: SealedBlock, lost: set[int]) -> list[bytes]:
    """What a GRO read returns for a block sent as VideoSender sends it: up to 64
    datagrams per GSO send, less those lost (the survivors of a send coalesce)."""
    dgrams = [bytes(d) for d in block.datagrams()]
    per_send = gso_segments(block.datagram_size)
    sends = [range(i, min(i + per_send, len(dgrams))) for i in range(0, len(dgrams), per_send)]
    return [b"".join(dgrams[i] for i in send if i not in lost) for send in sends]


def _reassembler(
    config: VideoConfig, frame: bytes, loss: float, pool: int, *, native: bool, batched: bool
) -> Callable[[], int]:
    """Feeds one frame per call from a pool sealed beforehand; loss stays within the
    recovery shards. ``batched``: GRO reads (receive_segments), as the video socket
    delivers them; otherwise datagram by datagram (receive_datagram)."""
    sender, rng = Packetizer(config), random.Random(1)
    frames: list[list[tuple[bytes, int]]] = []
    for _ in range(pool):
        reads = []
        for block in sender.packetize(frame, pts_ns=0, user_flags=5):
            lost = set(rng.sample(range(block.count), int(block.count * loss)))
            if batched:
                reads += [(send, block.datagram_size) for send in _gso_sends(block, lost) if send]
            else:
                reads += [(bytes(d), 0) for i, d in enumerate(block.datagrams()) if i not in lost]
        frames.append(reads)
    state: dict[str, object] = {"next": 0, "rx": Reassembler(config, native_aead=native)}

    def run() -> int:
        if state["next"] == pool:  # frame indices repeat: a new session
            state["next"], state["rx"] = 0, Reassembler(config, native_aead=native)
        rx = state["rx"]
        assert isinstance(rx, Reassembler)
        for data, size in frames[state["next"]]:  # type: ignore[index]
            if size:
                rx.receive_segments(data, size, 0)
            else:
                rx.receive_datagram(data, 0)
        state["next"] += 1  # type: ignore[operator]
        if rx.next_event() is None:
            raise RuntimeError(f"frame not rebuilt: {rx.stats}")
        return len(frame)

    return run


def build_cases(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> list[Case]:
    key = os.urandom(16)
    # The C AEAD where it was built; cryptography's AESGCM alone otherwise.
    aeads = [(True, "C AES-GCM"), (False, "cryptography AES-GCM")] if native_available() else [
        (False, "cryptography AES-GCM")]
    native, native_name = aeads[0]
    cases = []
    for size in sizes:
        frame = os.urandom(size)
        tag = f"{size // 1000:>4} KB frames"
        pool = max(4, 40_000_000 // size)
        cases.append(Case(f"{tag}: AES-128-GCM seal loop alone, cryptography, 1240 B (reference)",
                          _seal_loop(frame, HEADER_SIZE + 1200)))
        for scheme, (name, make) in SCHEMES.items():
            config = make(key)
            engine = engine_for(scheme)
            shapes, fec = _fec_alone(engine, config, frame)
            cases.append(Case(f"{tag}: {name} FEC encode alone, {engine.name}, {shapes} (reference)", fec))
            cases += [
                Case(f"{tag}: {name} packetizer: 20 % FEC + seal, 1264 B datagrams, {aead}",
                     _packetizer(config, frame, flag))
                for flag, aead in aeads
            ]
            cases.append(Case(f"{tag}: {name} reassembler, no loss, GRO reads, {native_name}",
                              _reassembler(config, frame, 0.0, pool, native=native, batched=True)))
            cases += [
                Case(f"{tag}: {name} reassembler, no loss, datagram by datagram, {aead}",
                     _reassembler(config, frame, 0.0, pool, native=flag, batched=False))
                for flag, aead in aeads
            ]
            cases.append(Case(f"{tag}: {name} reassembler, 10 % of each block lost, rebuilt, GRO reads, "
                              f"{native_name}", _reassembler(config, frame, 0.1, pool, native=native, batched=True)))
    return cases


def measure(cases: list[Case], seconds: float, rounds: int) -> None:
    for case in cases:
        case.run()  # warm up: tables, caches
    slot = seconds / rounds
    for _ in range(rounds):
        for case in cases:
            done, start = 0, time.perf_counter()
            while (elapsed := time.perf_counter() - start) < slot:
                done += case.run()
            case.best_gbps = max(case.best_gbps, done * 8 / elapsed / 1e9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.video_plane", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement, all rounds (default 2)")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds; the best is kept (default 8)")
    args = parser.parse_args(argv)
    print(f"lumen video plane (lumen/1, M3's datagram form), one core: {platform.machine()}, "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}, FEC {engine_for(GF8).name} and "
          f"{engine_for(GF16).name}, C AES-GCM module {'built' if native_available() else 'not built'}")
    cases = build_cases()
    measure(cases, args.seconds, args.rounds)
    reference = 0.0
    for case in cases:
        if "seal loop" in case.label:
            reference = case.best_gbps
        ratio = f"{case.best_gbps / reference:5.2f}x" if reference and "reference" not in case.label else "      "
        print(f"  {case.best_gbps:6.2f} Gbit/s {ratio}  {case.label}")
    print("  (ratios: to the seal loop of the same frame size, measured in the same rounds)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
