"""The session state machines, sans-IO: two endpoints over an in-memory link, a fake clock.

In the style of aioquic's tests/test_connection.py: time is a number the test moves,
timers are read with get_timer() and fired with handle_timer(), and everything goes
through the sessions' public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from lumen_core.control import (
    CODEC_IDS,
    Goodbye,
    GoodbyeCode,
    Hello,
    HelloExtension,
    KeyframeRequest,
    Ping,
    StatsReport,
    decode_message,
    encode_block,
    frame,
)
from lumen_core.control.base import decode_welcome
from lumen_core.control.extensions import WelcomeExtension, decode_block
from lumen_core.control.framing import FrameReader
from lumen_core.datagrams import INPUT, PAD_SNAPSHOT, InputEvent, parse_datagram
from lumen_core.fec import GF8
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_B, PadState
from lumen_core.input import Kind
from lumen_core.session import BASE, EXTENDED, ClientOptions, ClientSession, HostOffer, HostSession
from lumen_core.session.events import (
    AudioReceived,
    FrameTimingReceived,
    HelloReceived,
    InputReceived,
    KeyframeRequested,
    PadArrived,
    PadChanged,
    PeerReturned,
    PeerSilent,
    RateChanged,
    RumbleReceived,
    SessionEnded,
    StartReceived,
    StatsReceived,
    Streaming,
)

KEY = bytes(range(1, 17))
CLIENT = ClientOptions(width=1280, height=720, refresh_hz=60, video_port=40000, client_name="test client")
OFFER = HostOffer(video_port=9778, host_name="test host")


@dataclass
class Pair:
    """A client and a host joined by an in-memory link; ``now`` is the shared fake clock."""

    client: ClientSession
    host: HostSession
    now: float = 0.0
    client_events: list[Any] = field(default_factory=list)
    host_events: list[Any] = field(default_factory=list)
    drop_datagrams: bool = False
    client_cut: bool = False  # nothing from the client reaches the host

    def pump(self) -> None:
        """Carry bytes both ways until both sides are quiet; collect their events."""
        for _ in range(20):
            moved = False
            data = self.client.control_data_to_send()
            if data and not self.client_cut:
                self.host.receive_control(data, self.now)
                moved = True
            for dgram in self.client.datagrams_to_send():
                if not self.drop_datagrams and not self.client_cut:
                    self.host.receive_datagram(dgram, self.now)
            data = self.host.control_data_to_send()
            if data:
                self.client.receive_control(data, self.now)
                moved = True
            for dgram in self.host.datagrams_to_send():
                if not self.drop_datagrams:
                    self.client.receive_datagram(dgram, self.now)
            self.client_events += list(iter(self.client.next_event, None))
            self.host_events += list(iter(self.host.next_event, None))
            if not moved:
                return

    def advance(self, seconds: float) -> None:
        """Move the clock, firing every timer that falls due on the way, in order."""
        end = self.now + seconds
        while True:
            timers = [t for t in (self.client.get_timer(), self.host.get_timer()) if t is not None and t <= end]
            if not timers:
                break
            self.now = max(self.now, min(timers))
            self.client.handle_timer(self.now)
            self.host.handle_timer(self.now)
            self.pump()
        self.now = end

    def connect(self) -> HelloReceived:
        self.client.connect(self.now)
        self.pump()
        [hello] = [e for e in self.host_events if isinstance(e, HelloReceived)]
        return hello

    def stream(self) -> None:
        self.connect()
        self.host.accept(self.now, width=1280, height=720, refresh_hz=60)
        self.pump()
        assert self.client.streaming and self.host.streaming


def pair(client: ClientOptions = CLIENT, offer: HostOffer = OFFER) -> Pair:
    return Pair(ClientSession(client), HostSession(offer, key=KEY, now=0.0))


def of(kind: type, events: list[Any]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# -- the handshake and the modes ---------------------------------------------------


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


def test_an_invalid_welcome_is_refused_before_start() -> None:
    p = pair(offer=replace(OFFER, fec_scheme=GF8, max_data_per_block=250, fec_percent=15))
    p.stream_attempt = p.connect()
    p.host.accept(p.now, width=1280, height=720, refresh_hz=60)
    p.pump()
    [ended] = of(SessionEnded, p.client_events)
    assert ended.error and "ceiling of 255 shards" in ended.reason
    assert of(StartReceived, p.host_events) == []  # no Start: the host never streams


def test_a_codec_the_client_did_not_offer_ends_the_session() -> None:
    client = ClientSession(replace(CLIENT, codecs=("h264",)))
    client.connect(0.0)
    welcome = HostSession(OFFER, key=KEY, now=0.0)
    welcome.receive_control(client.control_data_to_send(), 0.0)
    welcome.accept(0.0, width=1280, height=720, refresh_hz=60)
    payload = welcome.control_data_to_send()[2:]
    base, trailing = decode_welcome(payload)
    _, ext = decode_block(trailing, WelcomeExtension)
    forged = base.encode() + encode_block(replace(ext, codec=CODEC_IDS["hevc"]))
    client.receive_control(frame(forged), 0.0)
    assert [type(e) for e in iter(client.next_event, None)] == [SessionEnded]
    assert "did not offer" in client.end_reason and client.close_request[0] == GoodbyeCode.NO_COMMON_CODEC


# -- timers ------------------------------------------------------------------------


def test_client_gives_up_without_a_welcome() -> None:
    p = pair()
    p.connect()
    assert p.client.get_timer() == pytest.approx(10.0)
    p.advance(9.9)
    assert not p.client.ended
    p.advance(0.2)
    assert "did not answer Hello within 10 s" in p.client.end_reason


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


def test_an_outage_within_the_grace_period_resumes_the_same_session() -> None:
    p = pair()
    p.stream()
    p.client_cut = True
    p.advance(5.0)
    assert of(PeerSilent, p.host_events) and not p.host.ended
    p.client_cut = False
    p.advance(0.6)  # the next ping gets through
    [back] = of(PeerReturned, p.host_events)
    assert 5.0 <= back.outage_s <= 6.0 and list(p.host.outages) == [round(back.outage_s, 3)]
    assert p.host.streaming and not p.host.peer_silent
    p.advance(20.0)  # and liveness is watched again, not left paused
    assert not p.host.ended and len(of(PeerSilent, p.host_events)) == 1


def test_client_gives_up_on_a_silent_host_after_the_grace_period() -> None:
    p = pair()
    p.stream()
    p.client.handle_timer(p.now)
    p.client.control_data_to_send()  # pings from now on go nowhere: the host is gone
    for t in (1.0, 3.5, 10.5):
        p.now = t
        p.client.handle_timer(t)
        p.client.control_data_to_send()
    events = list(iter(p.client.next_event, None))
    [silent] = of(PeerSilent, events)
    [ended] = of(SessionEnded, events)
    assert silent.silent_s >= 3.0 and ended.error and "lost the host: nothing heard for" in ended.reason
    assert p.client.close_request is not None and p.client.close_request[0] == GoodbyeCode.TIMEOUT


def test_port_unreachable_ends_a_session_only_when_the_peer_is_silent_too() -> None:
    p = pair()
    p.stream()
    p.host.unreachable(p.now + 0.1, "its video port")  # heard 0.1 s ago: a stray ICMP
    assert not p.host.ended
    p.host.unreachable(p.now + 0.6, "its video port")
    [ended] = of(SessionEnded, list(iter(p.host.next_event, None)))
    assert "client gone: its video port is closed" in ended.reason and ended.code == GoodbyeCode.TIMEOUT


def test_pings_measure_rtt_and_the_hosts_wall_clock_offset() -> None:
    p = Pair(ClientSession(CLIENT), HostSession(OFFER, key=KEY, now=0.0, wall_offset_ns=1_700_000_000 * 10**9))
    p.stream()
    p.client.handle_timer(p.now)  # a Ping now
    ping = p.client.control_data_to_send()
    p.now += 0.010
    p.host.receive_control(ping, p.now)
    pong = p.host.control_data_to_send()
    p.now += 0.010
    p.client.receive_control(pong, p.now)
    assert p.client.clock.rtt_ns == 20_000_000
    assert p.client.clock.offset_ns == 1_700_000_000 * 10**9  # host wall clock - client clock
    assert [type(decode_message(x)) for x in FrameReader().feed(ping)] == [Ping]


def test_stats_reports_twice_a_second_from_the_source() -> None:
    report = StatsReport(frames_received=5, frames_recovered=1, frames_lost=0, frames_decoded=5, decode_time_us=900)
    p = Pair(ClientSession(CLIENT, stats_source=lambda: report), HostSession(OFFER, key=KEY, now=0.0))
    p.stream()
    p.advance(3.05)
    stats = of(StatsReceived, p.host_events)
    assert len(stats) == 6 and stats[-1].frames_decoded == 5 and p.host.last_stats == stats[-1]


# -- streaming ---------------------------------------------------------------------


def test_keyframe_requests_are_rate_limited_and_never_sent_in_base_mode() -> None:
    p = pair()
    p.stream()
    assert p.client.request_keyframe(p.now, last_frame=41)
    assert not p.client.request_keyframe(p.now + 0.1)
    p.pump()
    assert p.client.request_keyframe(p.now + 0.3)
    p.pump()
    requests = of(KeyframeRequested, p.host_events)
    assert requests == [KeyframeRequested(last_frame=41), KeyframeRequested(last_frame=None)]
    base = pair(replace(CLIENT, extensions=False))
    base.stream()
    assert not base.client.request_keyframe(base.now)


def test_keys_and_buttons_are_reliable_in_extended_mode_and_datagrams_in_base() -> None:
    key = InputEvent(kind=Kind.KEY_DOWN, code=0x41)
    move = InputEvent(kind=Kind.MOUSE_MOVE, x=-7, y=13)
    p = pair()
    p.stream()
    p.client.send_input(key, p.now)
    p.client.send_input(move, p.now)
    assert [decode_message(x).TYPE for x in FrameReader().feed(p.client.control_data_to_send())] == [6]
    assert p.client.datagrams_to_send() == [move.encode()]
    base = pair(replace(CLIENT, extensions=False))
    base.stream()
    base.client.send_input(key, base.now)
    assert base.client.control_data_to_send() == b""
    base.pump()
    assert of(InputReceived, base.host_events) == [InputReceived(event=key, reliable=False)]
    p2 = pair()
    p2.stream()
    p2.client.send_input(key, p2.now)
    p2.client.send_input(move, p2.now)
    p2.pump()
    assert of(InputReceived, p2.host_events) == [InputReceived(event=key, reliable=True),
                                                InputReceived(event=move, reliable=False)]
    assert dict(p2.host.input_counts) == {"keys": 1, "mouse": 1}


def test_pads_in_both_modes_reach_the_same_state_and_heal_lost_events() -> None:
    state = PadState(buttons=LUMEN_BTN_A | LUMEN_BTN_B, lx=-32768, ly=1000, lt=255)
    for extended in (True, False):
        p = pair(replace(CLIENT, extensions=extended))
        p.stream()
        p.client.pad_arrived(0, "test pad", p.now)
        p.client.set_pad(0, state, p.now)
        sent = p.client.datagrams_to_send()
        assert (sent[-1][0] == PAD_SNAPSHOT) if extended else all(d[0] == INPUT for d in sent)
        # Every event is lost; only the periodic re-send can heal the host.
        p.advance(0.6)
        assert p.host.pads.state(0) == state, extended
        assert of(PadChanged, p.host_events)[-1] == PadChanged(pad=0, state=state)
        assert bool(of(PadArrived, p.host_events)) == extended
        if not extended:
            assert {parse_datagram(d).kind for d in sent} == {Kind.PAD_BUTTON, Kind.PAD_AXIS}


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


def test_unknown_malformed_and_misdirected_datagrams_are_counted_not_fatal() -> None:
    p = pair()
    p.stream()
    for data in (b"\x00junk", b"\xc9\x01", b"\xc8" + bytes(17)):  # unknown, short audio, input to a client
        p.client.receive_datagram(data, p.now)
    assert (p.client.datagrams_unknown, p.client.datagrams_malformed, p.client.datagrams_unexpected) == (1, 1, 1)
    p.host.receive_datagram(b"\xca" + bytes(6), p.now)  # rumble sent to the host
    p.host.receive_datagram(b"\xc8\x09" + bytes(16), p.now)  # an input kind that does not exist
    assert (p.host.datagrams_unexpected, p.host.datagrams_malformed) == (1, 1)
    assert not p.client.ended and not p.host.ended


def test_a_finished_control_stream_after_start_is_normal() -> None:
    p = pair(replace(CLIENT, extensions=False))
    p.stream()
    p.host.control_finished(p.now)
    p.client.control_finished(p.now)
    assert not p.host.ended and not p.client.ended
    q = pair()
    q.connect()
    q.host.control_finished(q.now)  # before Start: the handshake failed
    assert q.host.ended


def test_goodbye_ends_both_sides_without_an_answer() -> None:
    p = pair()
    p.stream()
    p.client.close(p.now, "the person quit")
    assert p.client.close_request == (0, "the person quit")
    p.pump()
    [ended] = of(SessionEnded, p.host_events)
    assert ended.by_peer and not ended.error and "the person quit" in ended.reason
    assert p.host.control_data_to_send() == b""  # a Goodbye is not answered with one
    q = pair()
    q.stream()
    q.host.end(q.now, error=True, reason="encoder died")
    q.pump()
    [client_end] = of(SessionEnded, q.client_events)
    assert client_end.error and client_end.code == GoodbyeCode.INTERNAL_ERROR and "encoder died" in client_end.reason


def test_base_host_closes_as_m3s_does() -> None:
    for error, close in ((False, (0, "done")), (True, (1, "error"))):
        p = pair(replace(CLIENT, extensions=False))
        p.stream()
        p.host.end(p.now, error=error)
        assert p.host.close_request == close and p.host.control_data_to_send() == b""


def test_a_protocol_error_after_start_ends_the_session_with_a_goodbye() -> None:
    p = pair()
    p.stream()
    p.host.receive_control(frame(b"NOPE" + bytes(4)), p.now)
    [ended] = of(SessionEnded, list(iter(p.host.next_event, None)))
    assert ended.code == GoodbyeCode.PROTOCOL_ERROR and "without the LMNE magic" in ended.reason
    p.client.receive_control(p.host.control_data_to_send(), p.now)
    assert p.client.ended and "LMNE" in p.client.end_reason
    assert KeyframeRequest(last_frame=None).encode()[2:6] == b"LMNE"


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
