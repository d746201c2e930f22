"""Is a host up right now? One datagram, no handshake: a QUIC packet of a version no
one speaks (0x?a?a?a?a, reserved by RFC 9000 §15 to force version negotiation), which
any QUIC server answers with a Version Negotiation packet naming what it does speak
(aioquic and quinn both do, so lumen's hosts and this project's alike). The host keeps
no state for it and the client learns the round trip, the way Moonlight's host list
shows online and offline."""

from __future__ import annotations

import os
import select
import socket
import struct
import time
from dataclasses import dataclass
from typing import Final

PROBE_VERSION: Final = 0x1A2A3A4A
PROBE_SIZE: Final = 1200  # servers may ignore shorter long-header packets (RFC 9000 §14.1)
CID_SIZE: Final = 8


@dataclass(frozen=True, slots=True)
class ProbeResult:
    rtt_s: float
    versions: tuple[int, ...]  # what the host's QUIC speaks (1 = QUIC v1)


def probe_packet(dcid: bytes, scid: bytes) -> bytes:
    head = bytes([0xC0]) + struct.pack("!I", PROBE_VERSION) + bytes([len(dcid)]) + dcid + bytes([len(scid)]) + scid
    return head + bytes(PROBE_SIZE - len(head))


def parse_version_negotiation(data: bytes, dcid: bytes, scid: bytes) -> tuple[int, ...] | None:
    """The versions a Version Negotiation packet answering (dcid, scid) lists, or None if
    ``data`` is not one (wrong form, wrong connection IDs, malformed)."""
    if len(data) < 7 or not data[0] & 0x80 or data[1:5] != b"\0\0\0\0":
        return None
    pos = 5
    ids = []
    for _ in range(2):
        if pos >= len(data):
            return None
        n = data[pos]
        ids.append(data[pos + 1 : pos + 1 + n])
        pos += 1 + n
    if pos > len(data) or ids != [scid, dcid] or (len(data) - pos) % 4:
        return None
    return tuple(struct.unpack(f"!{(len(data) - pos) // 4}I", data[pos:]))


def probe(host: str, port: int, timeout_s: float = 1.0) -> ProbeResult | None:
    """The host's answer, or None if nothing answered within ``timeout_s`` (or the
    address does not resolve, or the port is closed)."""
    try:
        family, _, _, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except (OSError, UnicodeError):
        return None
    dcid, scid = os.urandom(CID_SIZE), os.urandom(CID_SIZE)
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(addr)
            sent = time.monotonic()
            sock.send(probe_packet(dcid, scid))
            deadline = sent + timeout_s
            while (left := deadline - time.monotonic()) > 0:
                ready, _, _ = select.select([sock], [], [], left)
                if not ready:
                    break
                versions = parse_version_negotiation(sock.recv(2048), dcid, scid)
                if versions is not None:
                    return ProbeResult(time.monotonic() - sent, versions)
        except OSError:  # refused (ICMP port unreachable), no route
            return None
    return None
