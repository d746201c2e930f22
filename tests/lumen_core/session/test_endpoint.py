"""What both sessions share (lumen_core.session.endpoint): liveness, datagrams, the control stream's end."""

from __future__ import annotations

from dataclasses import replace

from session_pair import CLIENT, of, pair

from lumen_core.control import GoodbyeCode, KeyframeRequest, frame
from lumen_core.session.events import PeerReturned, PeerSilent, SessionEnded


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


def test_port_unreachable_ends_a_session_only_when_the_peer_is_silent_too() -> None:
    p = pair()
    p.stream()
    p.host.unreachable(p.now + 0.1, "its video port")  # heard 0.1 s ago: a stray ICMP
    assert not p.host.ended
    p.host.unreachable(p.now + 0.6, "its video port")
    [ended] = of(SessionEnded, list(iter(p.host.next_event, None)))
    assert "client gone: its video port is closed" in ended.reason and ended.code == GoodbyeCode.TIMEOUT


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


def test_a_protocol_error_after_start_ends_the_session_with_a_goodbye() -> None:
    p = pair()
    p.stream()
    p.host.receive_control(frame(b"NOPE" + bytes(4)), p.now)
    [ended] = of(SessionEnded, list(iter(p.host.next_event, None)))
    assert ended.code == GoodbyeCode.PROTOCOL_ERROR and "without the LMNE magic" in ended.reason
    p.client.receive_control(p.host.control_data_to_send(), p.now)
    assert p.client.ended and "LMNE" in p.client.end_reason
    assert KeyframeRequest(last_frame=None).encode()[2:6] == b"LMNE"
