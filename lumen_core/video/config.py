"""The video plane's parameters, as a Welcome announces them, and M3's rules for them.

A receiver builds its config from the Welcome's FEC scheme, percent, max data shards
per block, shard payload, encrypt flag, key and salt (LUMEN-M3-WIRE.md §3.3), and then
validates it. The checks and their order are M3's, so this client accepts exactly the
Welcomes an M3 client accepts; ``ConfigError``'s message names the broken rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from ..errors import ProtocolError
from ..fec.engine import GF8, GF16, MAX_SHARDS, parity_count
from .crypto import KEY_SIZE, OVERHEAD, SALT_SIZE
from .header import HEADER_SIZE

# The largest UDP datagram a receiver accepts (M3's receive buffer is one byte more, so
# a 2049-byte read means oversize), and so the largest shard payload: 2048 - 40 - 24.
MAX_DATAGRAM: Final = 2048
MAX_SHARD_PAYLOAD: Final = MAX_DATAGRAM - HEADER_SIZE - OVERHEAD
# Not on the wire: the largest access unit a receiver takes (M3's constant).
MAX_FRAME_BYTES: Final = 64 * 1024 * 1024
# M3's host offer: GF16, 20 %, 4096 data shards a block, 1200-byte shards.
M3_SCHEME: Final = GF16
M3_PERCENT: Final = 20
M3_MAX_DATA_PER_BLOCK: Final = 4096
M3_SHARD_PAYLOAD: Final = 1200
M3_SALT: Final = b"lmn1"


class ConfigError(ProtocolError):
    """A Welcome's video parameters break M3's rules (the host is at fault)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoConfig:
    scheme: int = M3_SCHEME
    percent: int = M3_PERCENT
    max_data_per_block: int = M3_MAX_DATA_PER_BLOCK
    shard_payload: int = M3_SHARD_PAYLOAD
    encrypt: bool = True
    key: bytes = bytes(KEY_SIZE)
    salt: bytes = M3_SALT
    max_frame_bytes: int = MAX_FRAME_BYTES
    # The sender's floor on recovery shards per block when percent > 0 (not on the wire:
    # a receiver takes any m up to max_total_shards). M3 sends ceil(k * percent / 100),
    # one shard for every small frame; lumen's host asks 2 in extended mode, as Moonlight
    # asks of its hosts, so one lost datagram of a small frame is not the frame lost.
    min_parity: int = 0

    def parity_for(self, k: int, percent: int | None = None) -> int:
        """The recovery shards a block of k data shards gets: at ``percent`` (default the
        Welcome's; a host's rate control may ask more), at least min_parity, and never
        more than a receiver takes (k + m <= max_total_shards)."""
        percent = self.percent if percent is None else percent
        m = parity_count(k, percent)
        if percent and m < self.min_parity:
            m = self.min_parity
        return min(m, self.max_total_shards - k)

    @property
    def scheme_ceiling(self) -> int:
        return MAX_SHARDS[GF16 if self.scheme == GF16 else GF8]

    @property
    def max_total_shards(self) -> int:
        """The most shards a block may have: the largest block's k + m, capped by the scheme."""
        d = self.max_data_per_block
        return min(d + parity_count(d, self.percent), self.scheme_ceiling)

    @property
    def max_blocks(self) -> int:
        """The most blocks a frame of max_frame_bytes needs."""
        shards = -(-self.max_frame_bytes // self.shard_payload)
        return -(-shards // self.max_data_per_block)

    @property
    def datagram_size(self) -> int:
        """Every video datagram of this session has this many bytes."""
        return HEADER_SIZE + self.shard_payload + (OVERHEAD if self.encrypt else 0)

    def validate(self) -> VideoConfig:
        """Itself if M3 would accept it; ConfigError (in M3's order) otherwise."""
        p, d = self.shard_payload, self.max_data_per_block
        if not (0 < p <= 0xFFFF and p % 2 == 0):
            raise ConfigError("shard_payload must be even and > 0")
        if p > MAX_SHARD_PAYLOAD:
            raise ConfigError(f"shard_payload {p} too large to fit a datagram (at most {MAX_SHARD_PAYLOAD})")
        if d <= 0:
            raise ConfigError("max_data_per_block must be > 0")
        if d + parity_count(d, self.percent) > self.scheme_ceiling:
            raise ConfigError(f"max_data_per_block {d} + recovery at {self.percent} % exceeds the "
                              f"{'GF(2^16)' if self.scheme == GF16 else 'GF(2^8)'} ceiling of "
                              f"{self.scheme_ceiling} shards a block")
        if self.max_blocks > 0xFFFF:
            raise ConfigError("max_frame_bytes too large for this shard/block configuration "
                              "(block count overflows u16)")
        if len(self.key) != KEY_SIZE or len(self.salt) != SALT_SIZE:
            raise ConfigError("key must be 16 bytes and salt 4")
        if self.encrypt and not any(self.key):
            raise ConfigError("encrypt requires a non-zero session key")
        return self
