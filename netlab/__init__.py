"""A lossy network for tests and benchmarks, without netem.

Two network namespaces, each with a TUN device, and a userspace forwarder between the
two devices that impairs what passes, per direction and seeded: loss (random and
Gilbert-Elliott bursts), delay and jitter, reordering, duplication, corruption with the
UDP checksum fixed (so the damage reaches the application), a rate limit with a
drop-tail queue, and timed blackholes, all changeable while running. It knows IPv4 and
UDP only as far as the checksum needs: QUIC, the video plane and M3's peers all pass
through it with real addresses.

    impairment.py   the sans-IO model: packets and the time in, packets and due times out
    tun.py          a TUN device's file descriptor
    lab.py          the namespaces, the devices and the forwarder thread
"""

from .impairment import Burst, Direction, Impairment
from .lab import NetLab, unavailable

__all__ = ["Burst", "Direction", "Impairment", "NetLab", "unavailable"]
