"""The reachability probe: one QUIC packet of an unspoken version, answered with Version
Negotiation by this project's host and by lumen M3's, and by nothing when no host is there."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from fuzzing import fuzz_settings, mutated
from hosts import free_udp_port, start_host
from hypothesis import given
from hypothesis import strategies as st
from m3 import start_m3_host

from lumen_core.net.probe import PROBE_SIZE, parse_version_negotiation, probe, probe_packet

QUIC_V1 = 1


def test_a_running_host_answers_with_the_versions_it_speaks(tmp_path: Path) -> None:
    host = start_host(tmp_path)
    try:
        answer = probe("127.0.0.1", host.port, timeout_s=2.0)
    finally:
        host.stop()
    assert answer is not None and QUIC_V1 in answer.versions and 0 < answer.rtt_s < 2.0
    assert "session" not in host.log().split("listening on", 1)[1]  # no connection was made for it


def test_lumen_m3s_host_answers_too(tmp_path: Path) -> None:
    port = free_udp_port()
    host = start_m3_host(tmp_path, port)
    try:
        answer = probe("127.0.0.1", port, timeout_s=2.0)
    finally:
        host.stop()
    assert answer is not None and QUIC_V1 in answer.versions


def test_nothing_listening_nothing_resolving_is_offline() -> None:
    assert probe("127.0.0.1", free_udp_port(), timeout_s=0.5) is None
    assert probe("no-such-host.invalid", 9777, timeout_s=0.5) is None


def test_the_probe_is_a_full_size_long_header_packet_of_a_reserved_version() -> None:
    packet = probe_packet(b"D" * 8, b"S" * 8)
    assert len(packet) == PROBE_SIZE and packet[0] & 0xC0 == 0xC0
    assert packet[1:5].hex()[1::2] == "aaaa"  # 0x?a?a?a?a


DCID, SCID = b"probe-d!", b"probe-s!"
ANSWER = b"\x80\0\0\0\0" + bytes([8]) + SCID + bytes([8]) + DCID + struct.pack("!2I", 1, 0x6B3343CF)


def test_only_an_answer_to_this_probe_counts() -> None:
    assert parse_version_negotiation(ANSWER, DCID, SCID) == (1, 0x6B3343CF)
    assert parse_version_negotiation(ANSWER, os.urandom(8), SCID) is None  # another probe's
    assert parse_version_negotiation(b"\x40" + ANSWER[1:], DCID, SCID) is None  # a short header
    assert parse_version_negotiation(ANSWER[:-1], DCID, SCID) is None  # a torn version list


@fuzz_settings
@given(st.one_of(st.binary(max_size=64), mutated([ANSWER])))
def test_any_bytes_are_an_answer_with_its_versions_or_none(data: bytes) -> None:
    result = parse_version_negotiation(data, DCID, SCID)
    if result is not None:  # exactly the form of an answer to this probe, and its list
        assert data[1:5] == b"\0\0\0\0" and data[6:14] == SCID and data[15:23] == DCID
        assert result == struct.unpack(f"!{len(result)}I", data[23:])
