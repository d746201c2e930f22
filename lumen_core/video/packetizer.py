"""Frame -> FEC blocks -> shards -> sealed datagrams (the host's side of the video plane).

A frame of F bytes is cut into B blocks (block_span in header.py) so that no block has
more than ``max_data_shards`` data shards of at most ``shard_payload`` bytes. Each block
gets its own shard size (ceil(block bytes / k)), so a 300-byte P-frame is one small
shard, not a padded 1.3 KB one. The last data shard of a block is zero-padded to the
shard size; the receiver strips the padding using the frame size in the header.

Every datagram of a block has the same length, which is what UDP GSO needs: the
network layer can hand a whole block to the kernel in one send.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from ..fec import FecEngine, default_engine
from .crypto import Sealer
from .header import FLAG_KEYFRAME, HEADER, HEADER_SIZE, MAX_FRAME_SIZE, TAG_SIZE, VERSION, block_span, write_headers

# UDP payload of one video datagram: 1400 fits a 1500-byte MTU with IPv6 and UDP headers.
DEFAULT_MAX_DATAGRAM: Final = 1400
MIN_MAX_DATAGRAM: Final = 256
# Data shards per block. ISA-L's cost per byte grows with m (the parity count), so very
# large blocks buy little; 100 keeps a 1080p keyframe at a handful of blocks.
DEFAULT_MAX_DATA_SHARDS: Final = 100
DEFAULT_PARITY_PERCENT: Final = 20


@dataclass(frozen=True, slots=True)
class SealedBlock:
    """The datagrams of one FEC block, back to back, each ``datagram_size`` bytes.

    One buffer, equal segments: what a UDP GSO send takes as it is.
    """

    buffer: bytearray
    datagram_size: int

    @property
    def count(self) -> int:
        return len(self.buffer) // self.datagram_size

    def datagrams(self) -> list[memoryview]:
        view, size = memoryview(self.buffer), self.datagram_size
        return [view[i : i + size] for i in range(0, len(self.buffer), size)]


@dataclass(slots=True)
class SenderStats:
    frames: int = 0
    keyframes: int = 0
    frame_bytes: int = 0
    datagrams: int = 0
    datagram_bytes: int = 0


def parity_count(k: int, parity_percent: int) -> int:
    """m for a block of k data shards: ceil(k * percent / 100), at least 1 if percent > 0."""
    if parity_percent <= 0:
        return 0
    return min(255 - k, max(1, -(-k * parity_percent // 100)))


class Packetizer:
    def __init__(
        self,
        key: bytes,
        *,
        parity_percent: int = DEFAULT_PARITY_PERCENT,
        max_datagram: int = DEFAULT_MAX_DATAGRAM,
        max_data_shards: int = DEFAULT_MAX_DATA_SHARDS,
        engine: FecEngine | None = None,
        native_aead: bool | None = None,
    ) -> None:
        if not MIN_MAX_DATAGRAM <= max_datagram <= 65507:
            raise ValueError(f"max datagram {max_datagram} outside {MIN_MAX_DATAGRAM}..65507")
        if not 1 <= max_data_shards <= 254 or not 0 <= parity_percent <= 200:
            raise ValueError("max_data_shards must be 1..254 and parity_percent 0..200")
        self._sealer = Sealer(key, native=native_aead)
        self._engine = engine or default_engine()
        self.parity_percent = parity_percent
        self.shard_payload = max_datagram - HEADER_SIZE - TAG_SIZE
        self.max_data_shards = max_data_shards
        self._next_frame = 0
        self.stats = SenderStats()

    @property
    def engine_name(self) -> str:
        return self._engine.name

    @property
    def aead_name(self) -> str:
        return self._sealer.name

    def packetize(self, frame: bytes, *, keyframe: bool, pts_ns: int, host_us: int = 0) -> list[SealedBlock]:
        """The sealed datagrams of one frame, one SealedBlock per FEC block.

        ``pts_ns``: capture time (host clock); ``host_us``: capture to now, in us.
        """
        host_us = max(0, min(host_us, 0xFFFFFFFF))
        size = len(frame)
        if not 0 < size <= MAX_FRAME_SIZE:
            raise ValueError(f"frame of {size} bytes outside 1..{MAX_FRAME_SIZE}")
        index = self._next_frame
        if index >= 1 << 32:
            raise OverflowError("frame index exhausted; start a new session")
        self._next_frame += 1
        total_shards = -(-size // self.shard_payload)
        block_count = -(-total_shards // self.max_data_shards)
        flags = FLAG_KEYFRAME if keyframe else 0
        source = np.frombuffer(frame, dtype=np.uint8)
        blocks = []
        for b in range(block_count):
            start, length = block_span(size, block_count, b)
            k = -(-length // self.shard_payload)
            shard_len = -(-length // k)
            m = parity_count(k, self.parity_percent)
            # Data rows then parity rows, one buffer: the sealing loop walks it linearly.
            shards = np.empty((k + m, shard_len), dtype=np.uint8)
            shards.reshape(-1)[:length] = source[start : start + length]
            shards.reshape(-1)[length : k * shard_len] = 0
            self._engine.encode_into(shards, k)
            fields = (VERSION, flags, k, m, 0, index, size, b, block_count, 0, 0, pts_ns, host_us)
            blocks.append(self._seal_block(shards, fields))
        st = self.stats
        st.frames += 1
        st.keyframes += keyframe
        st.frame_bytes += size
        st.datagrams += sum(blk.count for blk in blocks)
        st.datagram_bytes += sum(len(blk.buffer) for blk in blocks)
        return blocks

    def _seal_block(self, shards: np.ndarray, fields: tuple[int, ...]) -> SealedBlock:
        """Seal every row of ``shards`` behind its header; ``fields`` is the header
        template (seq and shard index are filled in per datagram)."""
        count, shard_len = shards.shape
        dgram = HEADER_SIZE + shard_len + TAG_SIZE
        first = self._sealer.reserve(count)
        buf = bytearray(dgram * count)
        rows = np.frombuffer(buf, dtype=np.uint8).reshape(count, dgram)
        write_headers(rows, HEADER.pack(*fields), first, 0)
        self._sealer.seal_many(buf, dgram, shards.reshape(-1), first)
        return SealedBlock(buf, dgram)
