"""Socket buffers: as big as the kernel lets this process have, never an error."""

from __future__ import annotations

import socket

from lumen_core.net.sockets import big_buffers


def test_buffers_grow_as_far_as_allowed() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        before = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        big_buffers(sock, 8 << 20)
        after = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
        assert after > before  # the kernel doubles what it grants; capped by rmem_max without CAP_NET_ADMIN
        assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= 2 * min(8 << 20, 212_992)


def test_a_closed_socket_is_left_alone() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.close()
    big_buffers(sock, 1 << 20)  # every setsockopt fails: nothing raised, nothing to do
    assert sock.fileno() == -1
