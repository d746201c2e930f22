"""Socket settings both planes share."""

from __future__ import annotations

import socket
from typing import Final

# Linux caps SO_RCVBUF at net.core.rmem_max (208 KiB by default); the FORCE variants pass
# the cap where the process may (CAP_NET_ADMIN), the plain ones take what is allowed.
SO_SNDBUFFORCE: Final = 32
SO_RCVBUFFORCE: Final = 33


def big_buffers(sock: socket.socket, size: int) -> None:
    """Ask for ``size`` bytes of send and receive buffer, as far as the kernel allows."""
    for forced, plain in ((SO_SNDBUFFORCE, socket.SO_SNDBUF), (SO_RCVBUFFORCE, socket.SO_RCVBUF)):
        for opt in (forced, plain):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, size)
                break
            except OSError:
                continue
