"""``python -m lumen_core.bench``: video-plane throughput beside its references.

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

from .fec import FecEngine, default_engine
from .net.video import gso_segments
from .video import Packetizer, Reassembler
from .video.crypto import native_available, nonce_for
from .video.header import HEADER_SIZE, TAG_SIZE
from .video.packetizer import SealedBlock

_HEADER = bytes(32)  # stands in for a video header as associated data


@dataclass
class Case:
    label: str
    run: Callable[[], int]  # one unit of work; returns the frame bytes it covered
    best_gbps: float = 0.0


def _seal_loop(frame: bytes, shard: int) -> Callable[[], int]:
    aead = AESGCM(os.urandom(16))
    chunks = [memoryview(frame)[i : i + shard] for i in range(0, len(frame), shard)]

    def run() -> int:
        for n, chunk in enumerate(chunks):
            aead.encrypt(nonce_for(n), chunk, _HEADER)
        return len(frame)

    return run


def _fec_alone(engine: FecEngine, frame: bytes) -> tuple[str, Callable[[], int]]:
    blocks = Packetizer(os.urandom(16), engine=engine).packetize(frame, keyframe=True, pts_ns=0)
    shapes = []
    for block in blocks:
        k, m = block.buffer[2], block.buffer[3]
        shard = block.datagram_size - HEADER_SIZE - TAG_SIZE
        shapes.append((np.frombuffer(os.urandom(k * shard), dtype=np.uint8).reshape(k, shard), m))

    def run() -> int:
        for data, m in shapes:
            engine.encode(data, m)
        return len(frame)

    k, m = blocks[0].buffer[2], blocks[0].buffer[3]
    return f"{len(blocks)} block(s) of k={k} m={m}", run


def _packetizer(engine: FecEngine, frame: bytes, native: bool) -> Callable[[], int]:
    packetizer = Packetizer(os.urandom(16), engine=engine, native_aead=native)

    def run() -> int:
        packetizer.packetize(frame, keyframe=True, pts_ns=0)
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
    engine: FecEngine, frame: bytes, loss: float, pool: int, *, native: bool, batched: bool
) -> Callable[[], int]:
    """Feeds one frame per call from a pool sealed beforehand; loss stays within parity.
    ``batched``: GRO reads (receive_segments), as the video socket delivers them;
    otherwise datagram by datagram (receive_datagram)."""
    key = os.urandom(16)
    sender, rng = Packetizer(key, engine=engine), random.Random(1)
    frames: list[list[tuple[bytes, int]]] = []
    for _ in range(pool):
        reads = []
        for block in sender.packetize(frame, keyframe=True, pts_ns=0):
            lost = set(rng.sample(range(block.count), int(block.count * loss)))
            if batched:
                reads += [(send, block.datagram_size) for send in _gso_sends(block, lost) if send]
            else:
                reads += [(bytes(d), 0) for i, d in enumerate(block.datagrams()) if i not in lost]
        frames.append(reads)
    state = {"next": 0, "rx": Reassembler(key, engine=engine, native_aead=native)}

    def run() -> int:
        if state["next"] == pool:
            state["next"], state["rx"] = 0, Reassembler(key, engine=engine, native_aead=native)
        rx: Reassembler = state["rx"]  # type: ignore[assignment]
        for data, size in frames[state["next"]]:  # type: ignore[index]
            if size:
                rx.receive_segments(data, size, 0)
            else:
                rx.receive_datagram(data, 0)
        state["next"] += 1  # type: ignore[operator]
        event = rx.next_event()
        if event is None:
            raise RuntimeError(f"frame not rebuilt: {rx.stats}")
        return len(frame)

    return run


def build_cases() -> list[Case]:
    engine = default_engine()
    shard = Packetizer(os.urandom(16)).shard_payload
    # The C AEAD where it was built; cryptography's AESGCM alone otherwise.
    aeads = [(True, "C AES-GCM"), (False, "cryptography AES-GCM")] if native_available() else [
        (False, "cryptography AES-GCM")]
    native = aeads[0][0]
    cases = []
    for size in (100_000, 1_000_000):
        frame = os.urandom(size)
        tag = f"{size // 1000:>4} KB frames"
        shapes, fec = _fec_alone(engine, frame)
        pool = max(4, 40_000_000 // size)
        cases += [
            Case(f"{tag}: AES-128-GCM seal loop alone, cryptography (reference)", _seal_loop(frame, shard)),
            Case(f"{tag}: FEC encode alone, {engine.name}, {shapes} (reference)", fec),
        ]
        cases += [
            Case(f"{tag}: packetizer: 20% FEC + seal, 1400 B datagrams, {name}", _packetizer(engine, frame, flag))
            for flag, name in aeads
        ]
        cases += [
            Case(f"{tag}: reassembler, no loss, GRO reads, {aeads[0][1]}",
                 _reassembler(engine, frame, 0.0, pool, native=native, batched=True)),
        ] + [
            Case(f"{tag}: reassembler, no loss, datagram by datagram, {name}",
                 _reassembler(engine, frame, 0.0, pool, native=flag, batched=False))
            for flag, name in aeads
        ] + [
            Case(f"{tag}: reassembler, 10% of each block lost, rebuilt by FEC, GRO reads, {aeads[0][1]}",
                 _reassembler(engine, frame, 0.1, pool, native=native, batched=True)),
        ]
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
    parser = argparse.ArgumentParser(prog="python -m lumen_core.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per measurement, all rounds (default 2)")
    parser.add_argument("--rounds", type=int, default=8, help="interleaved rounds; the best is kept (default 8)")
    args = parser.parse_args(argv)
    print(f"lumen video plane, one core: {platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, FEC engine {default_engine().name}, "
          f"C AES-GCM module {'built' if native_available() else 'not built'}")
    cases = build_cases()
    measure(cases, args.seconds, args.rounds)
    for case in cases:
        print(f"  {case.best_gbps:6.2f} Gbit/s  {case.label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
