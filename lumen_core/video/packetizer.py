"""Access unit -> FEC blocks -> packets -> datagrams: the host's side of the video plane.

The rules of LUMEN-M3-WIRE.md §5.4, with P = shard_payload, D = max_data_per_block:

1. An AU of L bytes has ``max(1, ceil(L / P))`` data shards; shard s holds bytes
   ``[s*P, (s+1)*P)`` and the last is zero-padded to P (an empty AU is one zero shard).
2. Blocks of D data shards (only the last may be short), ``max(1, ceil(shards / D))``.
3. A block of k data shards has ``m = ceil(k * percent / 100)`` recovery shards, and at
   least ``min_parity`` when percent > 0 (lumen's host in extended mode: 2).
4. Sent block by block, data shards then recovery shards; stream_seq and the crypto
   seq go up by one per packet.

Every datagram of a session has the same length (header + P, + 24 when encrypted),
which is what UDP GSO needs: the network layer hands the kernel a block at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..fec import FecEngine, engine_for
from .config import VideoConfig
from .crypto import HOST, Sealer
from .header import HEADER, HEADER_SIZE, MAGIC, PACKET_EOF, PACKET_PIC, PACKET_SOF, VERSION, build_packets


@dataclass(frozen=True, slots=True)
class SealedBlock:
    """Datagrams of one FEC block (its data shards, or its recovery shards), back to
    back, each ``datagram_size`` bytes.

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
    blocks: int = 0
    data_shards: int = 0
    datagrams: int = 0
    datagram_bytes: int = 0


class Packetizer:
    def __init__(
        self, config: VideoConfig, *, engine: FecEngine | None = None, native_aead: bool | None = None
    ) -> None:
        self.config = config.validate()
        self._engine = engine or engine_for(config.scheme)
        self._sealer = Sealer(config.key, config.salt, HOST, native=native_aead) if config.encrypt else None
        self._next_frame = 0
        self._next_packet = 0
        self.fec_percent = self.config.percent  # the rate control may raise it (extended mode)
        self.stats = SenderStats()

    @property
    def engine_name(self) -> str:
        return self._engine.name

    @property
    def aead_name(self) -> str:
        return self._sealer.name if self._sealer is not None else "none (plain video)"

    @property
    def next_frame_index(self) -> int:
        """The frame_index the next AU will carry (mod 2^32)."""
        return self._next_frame & 0xFFFFFFFF

    def packetize(self, au: bytes | bytearray | memoryview, *, pts_ns: int, user_flags: int) -> list[SealedBlock]:
        """The datagrams of one access unit, in send order (see packetize_iter)."""
        return list(self.packetize_iter(au, pts_ns=pts_ns, user_flags=user_flags))

    def packetize_iter(
        self, au: bytes | bytearray | memoryview, *, pts_ns: int, user_flags: int
    ) -> Iterator[SealedBlock]:
        """The datagrams of one access unit, in send order: per FEC block its data
        shards, then its recovery shards. A sender that sends each SealedBlock as it
        comes lets a block's data go out while its recovery shards are still being
        computed, which a loss-free frame never waits for.

        ``pts_ns``: the host's wall clock (UNIX-epoch ns) at capture or encoder submit;
        ``user_flags``: delivered to the client's decoder unchanged (USER_KEYFRAME or
        USER_PICTURE). Stop iterating early and the frame is incomplete on the wire.
        """
        cfg = self.config
        p, d = cfg.shard_payload, cfg.max_data_per_block
        size = len(au)
        if size > 0xFFFFFFFF:
            raise ValueError(f"access unit of {size} bytes does not fit frame_bytes (u32)")
        total = max(1, -(-size // p))
        blocks = max(1, -(-total // d))
        if blocks > 0xFFFF:
            raise ValueError(f"access unit of {size} bytes needs {blocks} blocks (at most 65535)")
        index = self._next_frame & 0xFFFFFFFF
        self._next_frame += 1
        source = np.frombuffer(au, dtype=np.uint8)
        st = self.stats
        st.frames += 1
        st.keyframes += bool(user_flags & 0x04)
        st.frame_bytes += size
        for b in range(blocks):
            k = min(d, total - b * d)
            m = cfg.parity_for(k, self.fec_percent)
            st.blocks += 1
            st.data_shards += k
            body = source[b * d * p : (b * d + k) * p]  # the last shard may be short: padded
            template = HEADER.pack(pts_ns, index, 0, size, user_flags & 0xFFFFFFFF, b, blocks, k, m, 0, p,
                                   MAGIC, VERSION, cfg.scheme, PACKET_PIC)
            stream = self._next_packet
            self._next_packet += k + m
            last = PACKET_EOF if b == blocks - 1 else 0
            seq = self._sealer.reserve(k + m) if self._sealer is not None else 0
            # The data shards go out straight from the access unit; the recovery shards
            # are computed only after they have left.
            yield self._packets(template, stream, 0, PACKET_SOF if b == 0 else 0, 0 if m else last, body, k, seq)
            if m:
                shards = np.empty((k + m, p), dtype=np.uint8)
                full = len(body) // p
                shards[:full] = body[: full * p].reshape(full, p)
                if full < k:
                    shards[full, : len(body) - full * p] = body[full * p :]
                    shards[full, len(body) - full * p :] = 0
                self._engine.encode_into(shards, k)
                yield self._packets(template, stream + k, k, 0, last, shards[k:], m, seq + k)

    def _packets(self, template: bytes, stream_seq: int, first_shard: int, first_flags: int, last_flags: int,
                 shards: np.ndarray, count: int, first_seq: int) -> SealedBlock:
        """``count`` packets of one block (header.build_packets), sealed as datagrams with
        seqs from ``first_seq`` when the session is encrypted."""
        p = self.config.shard_payload
        st = self.stats
        if self._sealer is None:
            rows = build_packets(template, stream_seq, first_shard, first_flags, last_flags, shards, count, p)
            block = SealedBlock(bytearray(rows), HEADER_SIZE + p)  # one copy, from the buffer
        else:
            dgram = self.config.datagram_size
            buf = bytearray(dgram * count)
            self._sealer.seal_packets(buf, dgram, template, stream_seq, first_shard, first_flags, last_flags,
                                      shards, first_seq)
            block = SealedBlock(buf, dgram)
        st.datagrams += count
        st.datagram_bytes += len(block.buffer)
        return block
