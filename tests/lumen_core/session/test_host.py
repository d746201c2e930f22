"""The host's session state machine against a client session (session_pair)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from session_pair import CLIENT, KEY, OFFER, of, pair

from lumen_core.control import (
    CODEC_IDS,
    Goodbye,
    GoodbyeCode,
    Hello,
    HelloExtension,
    decode_message,
    encode_block,
    frame,
)
from lumen_core.control.base import decode_welcome
from lumen_core.control.framing import FrameReader
from lumen_core.session import BASE, EXTENDED, HostSession
from lumen_core.session.events import (
    AudioReceived,
    FrameTimingReceived,
    HelloReceived,
    PeerSilent,
    RateChanged,
    RumbleReceived,
    SessionEnded,
)


def test_an_extended_host_answers_an_m3_hello_with_m3s_welcome() -> None:
    p = pair(replace(CLIENT, extensions=False))
    p.connect()
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    payload = p.host.control_data_to_send()[2:]
    welcome, trailing = decode_welcome(payload)
    assert trailing == b"" and welcome.fec_percent == 20 and welcome.max_data_per_block == 4096


@pytest.mark.parametrize(("hello", "code"), [
    (Hello(abi_version=2, width=1280, height=720, refresh_hz=60), GoodbyeCode.UNSUPPORTED_VERSION),
    (Hello(width=1281, height=720, refresh_hz=60), GoodbyeCode.PROTOCOL_ERROR),
    (Hello(width=1280, height=0, refresh_hz=60), GoodbyeCode.PROTOCOL_ERROR),
    (Hello(width=8194, height=720, refresh_hz=60), GoodbyeCode.PROTOCOL_ERROR),
])
def test_hellos_m3s_host_refuses_are_refused(hello: Hello, code: int) -> None:
    for extended in (True, False):
        host = HostSession(OFFER, key=KEY, now=0.0)
        block = encode_block(HelloExtension(codecs=bytes([CODEC_IDS["h264"]]))) if extended else b""
        host.receive_control(frame(hello.encode() + block), 0.0)
        [ended] = list(iter(host.next_event, None))
        assert isinstance(ended, SessionEnded) and ended.error and ended.code == code
        if extended:  # told why, then closed with the code
            [goodbye] = [decode_message(p) for p in FrameReader().feed(host.control_data_to_send())]
            assert isinstance(goodbye, Goodbye) and goodbye.code == code
            assert host.close_request == (code, goodbye.reason)
        else:  # M3's host closes without a word
            assert host.control_data_to_send() == b"" and host.close_request == (0, "")


def test_busy_host_refuses_with_a_reason_in_both_modes() -> None:
    for extended in (True, False):
        p = pair(replace(CLIENT, extensions=extended))
        p.connect()
        p.host.refuse(GoodbyeCode.HOST_BUSY, "another client is streaming from this host", p.now)
        p.pump()
        assert p.host.close_request == (GoodbyeCode.HOST_BUSY, "another client is streaming from this host")
        if not extended:  # an M3 client learns it from the QUIC close
            p.client.connection_lost("another client is streaming from this host", p.now, GoodbyeCode.HOST_BUSY)
            p.pump()
        [ended] = of(SessionEnded, p.client_events)
        assert ended.error and "another client is streaming" in ended.reason


def test_no_common_codec_is_refused() -> None:
    p = pair(replace(CLIENT, codecs=("av1",)))
    p.client.connect(p.now)
    p.pump()
    [ended] = of(SessionEnded, p.host_events)
    assert ended.code == GoodbyeCode.NO_COMMON_CODEC and "client decodes av1" in ended.reason
    [client_end] = of(SessionEnded, p.client_events)
    assert client_end.by_peer and client_end.code == GoodbyeCode.NO_COMMON_CODEC
    assert client_end.reason.startswith("refused: host sends")  # the one line a person sees


def test_malformed_extension_blocks_end_the_handshake_with_the_field_named() -> None:
    host = HostSession(OFFER, key=KEY, now=0.0)
    hello = Hello(width=1280, height=720, refresh_hz=60).encode()
    host.receive_control(frame(hello + b"LMNX\x01" + b"\x01\x05\x00ab"), 0.0)  # codecs runs past the end
    [ended] = list(iter(host.next_event, None))
    assert isinstance(ended, SessionEnded) and "HelloExtension: field 1 runs past the end" in ended.reason
    [goodbye] = [decode_message(p) for p in FrameReader().feed(host.control_data_to_send())]
    assert isinstance(goodbye, Goodbye) and goodbye.code == GoodbyeCode.PROTOCOL_ERROR  # a lumen client: told why
    host = HostSession(OFFER, key=KEY, now=0.0)
    host.receive_control(frame(hello + b"LMNX\x00"), 0.0)
    assert "version 0" in host.end_reason
    # Trailing bytes that are not a block are M3's business: ignored (base mode).
    host = HostSession(OFFER, key=KEY, now=0.0)
    host.receive_control(frame(hello + b"\xde\xad\xbe\xef"), 0.0)
    [hello_event] = list(iter(host.next_event, None))
    assert isinstance(hello_event, HelloReceived) and hello_event.mode == BASE


def test_unknown_extension_fields_are_skipped_and_later_versions_accepted() -> None:
    host = HostSession(OFFER, key=KEY, now=0.0)
    fields = b"\x63\x02\x00zz" + b"\x01\x01\x00\x02"  # unknown tag 99, then codecs = [hevc]
    host.receive_control(frame(Hello(width=1280, height=720, refresh_hz=60).encode() + b"LMNX\x07" + fields), 0.0)
    [hello] = list(iter(host.next_event, None))
    assert hello.mode == EXTENDED and hello.extension.codec_names == ("hevc",)


def test_host_handshake_deadline_covers_hello_to_start() -> None:
    host = HostSession(OFFER, key=KEY, now=0.0)
    assert host.get_timer() == pytest.approx(10.0)
    host.handle_timer(10.0)
    [ended] = list(iter(host.next_event, None))
    assert ended.code == GoodbyeCode.TIMEOUT and host.close_request == (0, "")  # silent, as M3's host
    # After a Hello with a block and a Welcome, the deadline says why.
    p = pair()
    p.connect()
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    p.host.handle_timer(10.0)
    assert p.host.close_request is not None and p.host.close_request[0] == GoodbyeCode.TIMEOUT


def test_extended_host_notices_a_silent_client_and_base_host_waits_for_quic() -> None:
    p = pair()
    p.stream()
    p.drop_datagrams = True
    p.advance(2.0)  # pings keep it alive
    assert not p.host.ended and not p.host.peer_silent
    p.client_cut = True  # the client goes silent
    p.advance(3.1)
    [silent] = of(PeerSilent, p.host_events)
    assert silent.silent_s >= 3.0 and silent.grace_s == 10.0 and not p.host.ended
    p.host.send_audio(0, 0, b"x")  # nothing goes to a client that is not there
    assert p.host.datagrams_to_send() == []
    p.advance(7.0)
    [ended] = of(SessionEnded, p.host_events)
    assert ended.code == GoodbyeCode.TIMEOUT and "client gone: nothing heard for 10.0 s" in ended.reason
    base = pair(replace(CLIENT, extensions=False))
    base.stream()
    base.advance(60.0)  # an M3 client says nothing for a minute: only QUIC's idle timeout decides
    assert not base.host.ended


def test_rumble_is_state_resent_until_it_changes() -> None:
    p = pair()
    p.stream()
    p.host.set_rumble(0, 0x8000, 0x4000, p.now)
    p.host.set_rumble(0, 0x8000, 0x4000, p.now)  # unchanged: not sent again now
    p.pump()
    assert of(RumbleReceived, p.client_events) == [RumbleReceived(pad=0, low=0x8000, high=0x4000)]
    p.advance(1.05)
    assert len(of(RumbleReceived, p.client_events)) == 3  # re-sent every 500 ms


def test_audio_both_modes_and_frame_timing_only_extended() -> None:
    for extended in (True, False):
        p = pair(replace(CLIENT, extensions=extended))
        p.stream()
        p.host.send_audio(7, 123, b"opus")
        p.host.send_frame_timing(3, 4567)
        p.pump()
        [audio] = of(AudioReceived, p.client_events)
        assert audio.packet.seq == 7 and audio.packet.payload == b"opus"
        assert of(FrameTimingReceived, p.client_events) == ([FrameTimingReceived(frame_index=3, host_us=4567)]
                                                            if extended else [])


def test_base_host_closes_as_m3s_does() -> None:
    for error, close in ((False, (0, "done")), (True, (1, "error"))):
        p = pair(replace(CLIENT, extensions=False))
        p.stream()
        p.host.end(p.now, error=error)
        assert p.host.close_request == close and p.host.control_data_to_send() == b""


def test_rate_updates_reach_an_extended_client_only() -> None:
    p = pair()
    p.stream()
    p.host.send_rate_update(8000, 30, "loss 12%")
    p.pump()
    [changed] = of(RateChanged, p.client_events)
    assert (changed.bitrate_kbps, changed.fec_percent, changed.reason) == (8000, 30, "loss 12%")
    base = pair(replace(CLIENT, extensions=False))
    base.stream()
    base.host.send_rate_update(8000, 30, "loss 12%")
    assert base.host.control_data_to_send() == b""
