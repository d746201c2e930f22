"""Base or extended: what the two sides' versions negotiate, and base mode's bytes."""

from __future__ import annotations

from dataclasses import replace

import pytest
from session_pair import CLIENT, KEY, OFFER, of, pair

from lumen_core.control import Hello, frame
from lumen_core.session import BASE, EXTENDED, EXTENDED_V1, EXTENDED_V2, Mode
from lumen_core.session.events import StartReceived, Streaming
from lumen_core.session.mode import negotiated


def test_extended_handshake_negotiates_codec_names_and_mode() -> None:
    p = pair(replace(CLIENT, codecs=("hevc", "h264")))
    hello = p.connect()
    assert hello.mode == EXTENDED and hello.extension is not None
    assert hello.extension.codec_names == ("hevc", "h264") and p.host.client_name == "test client"
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    p.pump()
    [streaming] = of(Streaming, p.client_events)
    # The host prefers its own order among what the client offered.
    assert streaming.mode == EXTENDED and streaming.codec == "h264" and p.host.codec == "h264"
    assert streaming.extension is not None and streaming.extension.host_name == "test host"
    assert streaming.video.key == KEY and streaming.welcome.udp_port == 9778
    assert of(StartReceived, p.host_events) == [StartReceived(client_udp_port=40000)]


@pytest.mark.parametrize(("client_ext", "host_ext"), [(False, True), (True, False), (False, False)])
def test_either_side_without_extensions_gives_base_mode(client_ext: bool, host_ext: bool) -> None:
    p = pair(replace(CLIENT, extensions=client_ext), replace(OFFER, extensions=host_ext))
    assert p.connect().mode == BASE
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    p.pump()
    [streaming] = of(Streaming, p.client_events)
    assert streaming.mode == BASE and streaming.codec is None and streaming.extension is None
    assert p.host.codec == "hevc"  # what an M3 client expects
    # Base mode: nothing follows Start on the control stream, from either side.
    p.advance(5.0)
    assert p.client.control_data_to_send() == b"" and p.host.control_data_to_send() == b""


def test_base_mode_bytes_are_exactly_m3s() -> None:
    p = pair(replace(CLIENT, extensions=False), replace(OFFER, extensions=False))
    p.client.connect(p.now)
    hello = p.client.control_data_to_send()
    assert hello == frame(Hello(width=1280, height=720, refresh_hz=60).encode())  # 22 bytes, no block
    p.host.receive_control(hello, p.now)
    p.host.next_event()
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    welcome = p.host.control_data_to_send()
    assert len(welcome) == 2 + 53
    p.client.receive_control(welcome, p.now)
    assert p.client.control_data_to_send() == frame(b"LMN1" + (40000).to_bytes(2, "little"))


@pytest.mark.parametrize(("hello", "welcome", "mode"), [
    (None, None, BASE), (0, 2, BASE), (2, None, BASE),  # a side without a block: M3's protocol
    (1, 2, EXTENDED_V1), (2, 1, EXTENDED_V1),  # the lower version both know
    (2, 2, EXTENDED_V2), (7, 9, EXTENDED_V2),  # later versions are supersets of the newest known
])
def test_the_mode_is_extended_only_when_both_sides_sent_a_block(hello: int | None, welcome: int | None,
                                                                 mode: Mode) -> None:
    assert negotiated(hello, welcome) == mode
    assert mode.extended == (mode.extension_version > 0) and mode.auth == (mode is EXTENDED_V2)


def test_base_mode_adds_nothing_to_m3() -> None:
    assert not any((BASE.messages, BASE.keyframe_requests, BASE.reliable_input, BASE.seq_pads, BASE.frame_timing,
                    BASE.binds, BASE.auth)) and BASE.parity_floor == 0
