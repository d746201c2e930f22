"""Wake-on-LAN: the magic packet (six 0xFF bytes, then the MAC sixteen times), sent the
way Moonlight sends it, so a host set up for Moonlight wakes for lumen too: to every
address the host was known by and to the limited broadcast address, on the standard
port 9, 47009 (Moonlight's Internet Hosting Tool) and the five ports GameStream opened."""

from __future__ import annotations

import re
import socket
from collections.abc import Iterable
from typing import Final

WAKE_PORTS: Final = (9, 47009, 47998, 47999, 48000, 48002, 48010)
BROADCAST: Final = "255.255.255.255"
_MAC: Final = re.compile(r"[0-9a-fA-F]{2}([:-]?)(?:[0-9a-fA-F]{2}\1){4}[0-9a-fA-F]{2}")


def parse_mac(text: str) -> bytes:
    """``aa:bb:cc:dd:ee:ff``, with dashes, or bare hex -> 6 bytes; ValueError otherwise."""
    text = text.strip()
    if not _MAC.fullmatch(text):
        raise ValueError(f"{text!r} is not a MAC address (like 3c:7c:3f:1e:22:9a)")
    return bytes.fromhex(re.sub(r"[:-]", "", text))


def format_mac(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


def magic_packet(mac: bytes) -> bytes:
    if len(mac) != 6:
        raise ValueError("a MAC address is 6 bytes")
    return b"\xff" * 6 + mac * 16


def wake(mac: bytes, addresses: Iterable[str] = (), ports: Iterable[int] = WAKE_PORTS,
         broadcast: bool = True) -> int:
    """Send the magic packet for ``mac``; how many datagrams went out (0: none could)."""
    payload = magic_packet(mac)
    targets = [*dict.fromkeys(addresses), *([BROADCAST] if broadcast else [])]
    sent = 0
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        for address in targets:
            for port in ports:
                try:
                    sock.sendto(payload, (address, port))
                    sent += 1
                except OSError:  # no route to one address is no reason to skip the rest
                    continue
    return sent
