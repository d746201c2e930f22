"""Wake-on-LAN: the magic packet, to the ports Moonlight sends it to, as a sleeping
machine's network card sees it (real UDP sockets standing in for the card)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator

import pytest

from lumen_core.net.wake import WAKE_PORTS, format_mac, magic_packet, parse_mac, wake

MAC = bytes.fromhex("3c7c3f1e229a")


@pytest.mark.parametrize("text", ["3c:7c:3f:1e:22:9a", "3C-7C-3F-1E-22-9A", "3c7c3f1e229a", " 3c:7c:3f:1e:22:9a "])
def test_macs_are_read_as_people_write_them(text: str) -> None:
    assert parse_mac(text) == MAC and format_mac(MAC) == "3c:7c:3f:1e:22:9a"


@pytest.mark.parametrize("text", ["", "3c:7c:3f:1e:22", "3c:7c-3f:1e:22:9a", "3c:7c:3f:1e:22:9g",
                                  "3c:7c:3f:1e:22:9a:00"])
def test_what_is_not_a_mac_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a MAC address"):
        parse_mac(text)


def test_the_magic_packet_is_six_ff_then_the_mac_sixteen_times() -> None:
    packet = magic_packet(MAC)
    assert len(packet) == 102 and packet[:6] == b"\xff" * 6 and packet[6:] == MAC * 16


@pytest.fixture
def listeners() -> Iterator[dict[int, socket.socket]]:
    if os.geteuid() != 0:
        pytest.skip("port 9 is privileged: the wake test binds it as root")
    socks = {}
    try:
        for port in WAKE_PORTS:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("127.0.0.1", port))
            sock.settimeout(2.0)
            socks[port] = sock
        yield socks
    except OSError as exc:
        pytest.skip(f"a wake port is taken on this machine: {exc}")
    finally:
        for sock in socks.values():
            sock.close()


def test_wake_reaches_every_port_moonlight_uses(listeners: dict[int, socket.socket]) -> None:
    sent = wake(MAC, addresses=["127.0.0.1", "127.0.0.1"], broadcast=False)
    assert sent == len(WAKE_PORTS)  # the address once, though it was given twice
    for port, sock in listeners.items():
        assert sock.recv(200) == magic_packet(MAC), port


def test_an_address_that_cannot_be_reached_does_not_stop_the_rest(listeners: dict[int, socket.socket]) -> None:
    sent = wake(MAC, addresses=["not-an-address", "127.0.0.1"], broadcast=False)
    assert sent == len(WAKE_PORTS)
    assert listeners[9].recv(200) == magic_packet(MAC)
