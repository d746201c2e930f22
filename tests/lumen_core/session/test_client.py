"""The client's session state machine against a host session (session_pair)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from session_pair import CLIENT, KEY, OFFER, Pair, of, pair

from lumen_core.control import CODEC_IDS, GoodbyeCode, Ping, StatsReport, decode_message, encode_block, frame
from lumen_core.control.base import decode_welcome
from lumen_core.control.extensions import WelcomeExtension, decode_block
from lumen_core.control.framing import FrameReader
from lumen_core.datagrams import INPUT, PAD_SNAPSHOT, InputEvent, parse_datagram
from lumen_core.fec import GF8
from lumen_core.gamepad import LUMEN_BTN_A, LUMEN_BTN_B, PadState
from lumen_core.input import Kind
from lumen_core.session import ClientSession, HostSession
from lumen_core.session.events import (
    InputReceived,
    KeyframeRequested,
    PadArrived,
    PadChanged,
    PeerSilent,
    SessionEnded,
    StartReceived,
    StatsReceived,
)


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


def test_client_gives_up_without_a_welcome() -> None:
    p = pair()
    p.connect()
    assert p.client.get_timer() == pytest.approx(10.0)
    p.advance(9.9)
    assert not p.client.ended
    p.advance(0.2)
    assert "did not answer Hello within 10 s" in p.client.end_reason


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
