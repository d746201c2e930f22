"""``python -m lumen_core.bench``: video-plane throughput beside its references.

Everything runs in one process on one core, in the same run, so the ratios between
lines hold on a noisy machine even when the absolute numbers wander. Frames are
random bytes (what the codec hands over is incompressible too).
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import time
from collections.abc import Callable

import numpy as np
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .fec import default_engine
from .video import Packetizer, Reassembler
from .video.crypto import nonce_for

_HEADER = bytes(32)  # stands in for a video header as associated data


def _rate(fn: Callable[[], int], seconds: float) -> float:
    """Gbit/s of payload that ``fn`` (returning payload bytes per call) moves."""
    fn()  # warm up: tables, caches
    done, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        done += fn()
    return done * 8 / elapsed / 1e9


def run(seconds: float) -> list[tuple[str, float]]:
    key = os.urandom(16)
    rows: list[tuple[str, float]] = []
    engine = default_engine()
    probe = Packetizer(key)
    shard = probe.shard_payload
    for size in (100_000, 1_000_000):
        frame = os.urandom(size)
        label = f"{size // 1000} KB frames"

        aead = AESGCM(key)
        chunks = [memoryview(frame)[i : i + shard] for i in range(0, size, shard)]

        def seal_loop(chunks: list[memoryview] = chunks, aead: AESGCM = aead, size: int = size) -> int:
            for n, c in enumerate(chunks):
                aead.encrypt(nonce_for(n), c, _HEADER)
            return size

        blocks = probe.packetize(frame, keyframe=True, pts_ns=0)
        k = -(-size // shard) // len(blocks) or 1
        data = np.frombuffer(os.urandom(k * shard), dtype=np.uint8).reshape(k, shard)
        m = -(-k * 20 // 100)

        def fec_alone(blocks: list = blocks, data: np.ndarray = data, m: int = m, size: int = size) -> int:  # type: ignore[type-arg]
            for _ in blocks:
                engine.encode(data, m)
            return size

        packetizer = Packetizer(key)

        def packetize(packetizer: Packetizer = packetizer, frame: bytes = frame, size: int = size) -> int:
            packetizer.packetize(frame, keyframe=True, pts_ns=0)
            return size

        rows.append((f"{label}: AES-128-GCM seal loop alone (reference)", _rate(seal_loop, seconds)))
        rows.append((f"{label}: FEC encode alone, {engine.name}, k={k} m={m} (reference)", _rate(fec_alone, seconds)))
        rows.append((f"{label}: packetizer (FEC 20% + seal), 1400 B datagrams", _rate(packetize, seconds)))

        for loss in (0.0, 0.10):
            sender = Packetizer(key)
            rng = random.Random(1)
            n_frames = max(8, int(seconds * 2e9 / 8 / size))
            wire = []
            for _ in range(n_frames):
                kept = []
                for block in sender.packetize(frame, keyframe=True, pts_ns=0):
                    dgrams = [bytes(d) for d in block.datagrams()]
                    lost = set(rng.sample(range(len(dgrams)), int(len(dgrams) * loss)))  # within the parity
                    kept += [d for i, d in enumerate(dgrams) if i not in lost]
                wire.append(kept)
            receiver = Reassembler(key, engine=engine)
            start = time.perf_counter()
            for dgrams in wire:
                for d in dgrams:
                    receiver.receive_datagram(d, 0)
                while receiver.next_event() is not None:
                    pass
            elapsed = time.perf_counter() - start
            what = "no loss" if not loss else f"{loss:.0%} of each block's datagrams lost, rebuilt by FEC"
            assert receiver.stats.frames_complete == n_frames, receiver.stats
            rows.append((f"{label}: reassembler, {what}", n_frames * size * 8 / elapsed / 1e9))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lumen_core.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="time per measurement (default 1)")
    args = parser.parse_args(argv)
    print(f"lumen video plane, one core: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"Python {platform.python_version()}, FEC engine {default_engine().name}")
    for label, gbps in run(args.seconds):
        print(f"  {gbps:7.2f} Gbit/s  {label}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
