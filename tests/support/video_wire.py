"""Video plane helpers for the packetizer's and reassembler's tests: configurations as M3's
host and lumen's offer them, and the datagrams of sealed blocks."""

from __future__ import annotations

import random

from lumen_core.fec import GF8
from lumen_core.video import FrameReady, Reassembler, VideoConfig
from lumen_core.video.crypto import CLIENT, Opener
from lumen_core.video.packetizer import SealedBlock

KEY = bytes(range(1, 17))


M3 = VideoConfig(key=KEY)  # M3's host offer: GF16, 20 %, 4096 shards a block, 1200 bytes, encrypted


CONFIGS = {
    "m3": M3,
    "gf8-plain": VideoConfig(scheme=GF8, percent=15, max_data_per_block=200, encrypt=False),
    "gf8-small-blocks": VideoConfig(scheme=GF8, percent=50, max_data_per_block=8, shard_payload=256, key=KEY),
    "gf16-no-fec": VideoConfig(percent=0, key=KEY),
    "gf16-small-blocks": VideoConfig(percent=25, max_data_per_block=16, shard_payload=512, key=KEY),
}


def frames(r: Reassembler) -> list[FrameReady]:
    return list(iter(r.next_event, None))


def flat(blocks: list[SealedBlock]) -> list[bytes]:
    return [bytes(d) for b in blocks for d in b.datagrams()]


def deliver(r: Reassembler, datagrams: list[bytes], now_ns: int = 0) -> None:
    for d in datagrams:
        r.receive_datagram(d, now_ns)


def packets(config: VideoConfig, wires: list[bytes]) -> list[bytes]:
    if not config.encrypt:
        return wires
    opener = Opener(config.key, config.salt, CLIENT)
    return [opener.open(w)[1] or b"" for w in wires]


def gro_batches(datagrams: list[bytes], rng: random.Random) -> list[tuple[bytes, int]]:
    """What a GRO socket hands over: runs of equal-size datagrams (the last of a run may
    be shorter), at most 64 and 64 KB, cut at random places too."""
    out: list[tuple[bytes, int]] = []
    run: list[bytes] = []
    for d in datagrams:
        if run and (len(d) > len(run[0]) or len(run[-1]) < len(run[0]) or len(run) == 64
                    or (len(run) + 1) * len(run[0]) > 65535 or rng.random() < 0.05):
            out.append((b"".join(run), len(run[0])))
            run = []
        run.append(d)
    if run:
        out.append((b"".join(run), len(run[0])))
    return out
