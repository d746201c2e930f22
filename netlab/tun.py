"""A TUN device: raw IP packets in and out of a file descriptor (linux/if_tun.h)."""

from __future__ import annotations

import fcntl
import os
import struct
from typing import Final

TUNSETIFF: Final = 0x400454CA
IFF_TUN: Final = 0x0001
IFF_NO_PI: Final = 0x1000


def open_tun(name: str) -> int:
    """Create the TUN device ``name`` (at most 15 characters) in this network namespace;
    its non-blocking file descriptor. The device lives as long as the descriptor."""
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError:
        os.close(fd)
        raise
    return fd
