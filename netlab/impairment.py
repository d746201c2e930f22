"""One direction of an impaired link, sans-IO: ``submit(packet, now)`` for each packet
that enters it, then ``due(now)`` for the packets whose time to leave has come, and
``next_deadline()`` for when to ask again. Time is the caller's (seconds); randomness is
the seed's, so a run is repeatable for the same arrivals.

The order a packet meets things in follows a real path: a blackhole swallows it; the
bottleneck (``rate_kbps``) queues it behind the bytes before it and drops it when the
queue holds more than ``queue_ms`` of them; then it is lost (random or in a burst),
corrupted, duplicated, and delayed by ``delay_ms`` +- ``jitter_ms`` (uniform), except
that a ``reorder`` share skips the delay and overtakes what is waiting, as netem's does.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field, replace


@dataclass(frozen=True, slots=True)
class Burst:
    """Gilbert-Elliott loss: a good and a bad state, each with its own loss rate."""

    enter: float  # P(good -> bad) per packet
    leave: float  # P(bad -> good) per packet
    loss_bad: float = 1.0
    loss_good: float = 0.0

    @property
    def mean_loss(self) -> float:
        bad = self.enter / (self.enter + self.leave) if self.enter + self.leave else 0.0
        return bad * self.loss_bad + (1 - bad) * self.loss_good


@dataclass(frozen=True, slots=True)
class Impairment:
    loss: float = 0.0
    burst: Burst | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    reorder: float = 0.0
    duplicate: float = 0.0
    corrupt: float = 0.0
    rate_kbps: float = 0.0  # 0: no bottleneck
    queue_ms: float = 50.0
    drop_icmp: bool = False  # a firewall that lets no ICMP through (a closed port is then silent)


@dataclass(slots=True)
class Counters:
    packets: int = 0  # entered the link
    delivered: int = 0
    lost: int = 0  # random or burst loss
    blackholed: int = 0
    queue_dropped: int = 0  # the bottleneck's queue was full
    duplicated: int = 0
    corrupted: int = 0
    reordered: int = 0  # sent past the delay
    icmp_dropped: int = 0
    corrupted_to: dict[int, int] = field(default_factory=dict)  # UDP destination port -> packets corrupted

    def as_dict(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]


@dataclass
class Direction:
    impairment: Impairment = field(default_factory=Impairment)
    seed: int = 0

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)
        self._queue: list[tuple[float, int, bytes]] = []
        self._order = 0
        self._bad = False
        self._link_free = 0.0
        self._blackhole_until = 0.0
        self.counters = Counters()

    def set(self, impairment: Impairment | None = None, **changes: object) -> None:
        """Change the impairment from now on (packets already in flight keep theirs)."""
        self.impairment = replace(impairment or self.impairment, **changes)  # type: ignore[arg-type]

    def blackhole(self, until: float) -> None:
        """Swallow every packet that enters before ``until``."""
        self._blackhole_until = until

    def submit(self, packet: bytes, now: float) -> None:
        imp, rnd, c = self.impairment, self._random, self.counters
        c.packets += 1
        if now < self._blackhole_until:
            c.blackholed += 1
            return
        if imp.drop_icmp and len(packet) >= 20 and packet[0] >> 4 == 4 and packet[9] == 1:
            c.icmp_dropped += 1
            return
        leave = now
        if imp.rate_kbps > 0:
            start = max(now, self._link_free)
            if start - now > imp.queue_ms / 1000:
                c.queue_dropped += 1
                return
            self._link_free = start + len(packet) * 8 / (imp.rate_kbps * 1000)
            leave = self._link_free
        if self._lost(imp, rnd):
            c.lost += 1
            return
        if imp.corrupt and rnd.random() < imp.corrupt:
            damaged = corrupt_udp(packet, rnd)
            if damaged is not None:
                packet = damaged
                c.corrupted += 1
                port = udp_destination(packet)
                c.corrupted_to[port] = c.corrupted_to.get(port, 0) + 1
        copies = 1
        if imp.duplicate and rnd.random() < imp.duplicate:
            copies = 2
            c.duplicated += 1
        for _ in range(copies):
            delay = imp.delay_ms
            if imp.reorder and rnd.random() < imp.reorder:
                delay = 0.0
                c.reordered += 1
            elif imp.jitter_ms:
                delay = max(0.0, delay + rnd.uniform(-imp.jitter_ms, imp.jitter_ms))
            self._order += 1
            heapq.heappush(self._queue, (leave + delay / 1000, self._order, packet))

    def _lost(self, imp: Impairment, rnd: random.Random) -> bool:
        if imp.burst is not None:
            b = imp.burst
            self._bad = (rnd.random() >= b.leave) if self._bad else (rnd.random() < b.enter)
            if rnd.random() < (b.loss_bad if self._bad else b.loss_good):
                return True
        return bool(imp.loss) and rnd.random() < imp.loss

    def due(self, now: float) -> list[bytes]:
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now:
            out.append(heapq.heappop(queue)[2])
        self.counters.delivered += len(out)
        return out

    def next_deadline(self) -> float | None:
        return self._queue[0][0] if self._queue else None


def corrupt_udp(packet: bytes, rnd: random.Random) -> bytes | None:
    """``packet`` (IPv4) with one byte of its UDP payload changed and the UDP checksum
    made right again, so the receiver's kernel hands the damage to the application; None
    for anything that is not a UDP packet with a payload."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:
        return None
    ihl = (packet[0] & 0x0F) * 4
    if len(packet) <= ihl + 8:
        return None
    data = bytearray(packet)
    at = rnd.randrange(ihl + 8, len(data))
    data[at] ^= rnd.randrange(1, 256)
    data[ihl + 6 : ihl + 8] = b"\0\0"
    udp = data[ihl:]
    pseudo = bytes(data[12:20]) + bytes((0, 17)) + len(udp).to_bytes(2, "big")
    checksum = _ones_complement(pseudo + udp) or 0xFFFF
    data[ihl + 6 : ihl + 8] = checksum.to_bytes(2, "big")
    return bytes(data)


def _ones_complement(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_destination(packet: bytes) -> int:
    """The destination port of an IPv4 UDP packet (0 for anything else)."""
    if len(packet) < 20 or packet[0] >> 4 != 4 or packet[9] != 17:
        return 0
    ihl = (packet[0] & 0x0F) * 4
    return int.from_bytes(packet[ihl + 2 : ihl + 4], "big") if len(packet) >= ihl + 4 else 0
