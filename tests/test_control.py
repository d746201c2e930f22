"""Control-stream messages: round trips, framing in any chunking, strict validation, fuzzing."""

from __future__ import annotations

import struct

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.control import (
    MAX_MESSAGE_SIZE,
    MESSAGE_TYPES,
    Config,
    ControlDecoder,
    Goodbye,
    Hello,
    KeyEvent,
    KeyframeRequest,
    MouseButtonEvent,
    PadArrival,
    PadRemoval,
    Ping,
    Pong,
    StatsReport,
    UnknownMessage,
    decode_body,
)
from lumen_core.errors import ProtocolError

u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
token = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=16)
dim = st.integers(16, 16384)

# One strategy per message type; the coverage test below checks none is missing.
STRATEGIES = {
    Hello: st.builds(Hello, protocol_version=st.integers(1, 65535), client_name=st.text(max_size=20),
              codecs=st.lists(token, min_size=1, max_size=4).map(tuple), max_width=dim, max_height=dim,
              max_fps=st.integers(1, 1000), audio_channels=st.integers(1, 8),
              bitrate_kbps=st.none() | st.integers(100, 10_000_000)),
    Config: st.builds(Config, codec=token, width=dim, height=dim, fps=st.integers(1, 1000),
              bitrate_kbps=st.integers(1, 10_000_000), fec_parity_percent=st.integers(0, 200),
              audio_codec=token, audio_sample_rate=st.integers(8000, 192000), audio_channels=st.integers(1, 8),
              audio_frame_samples=st.integers(1, 5760), video_port=st.integers(1, 65535),
              video_key=st.binary(min_size=16, max_size=16), max_datagram=st.integers(256, 65507),
              host_name=st.text(max_size=20)),
    KeyframeRequest: st.builds(KeyframeRequest, last_frame=st.none() | u32),
    StatsReport: st.builds(StatsReport, frames_received=u64, frames_recovered=u64, frames_lost=u64, frames_decoded=u64,
              decode_time_us=u32, keyframe_requests=st.none() | u64, audio_packets=st.none() | u64),
    Ping: st.builds(Ping, token=u32, sent_ns=u64),
    Pong: st.builds(Pong, token=u32, ping_sent_ns=u64, peer_time_ns=u64),
    KeyEvent: st.builds(KeyEvent, keycode=st.integers(1, 0x2FF), down=st.booleans(),
                        modifiers=st.none() | st.integers(0, 15)),
    MouseButtonEvent: st.builds(MouseButtonEvent, button=st.integers(1, 5), down=st.booleans()),
    Goodbye: st.builds(Goodbye, code=st.integers(0, 65535), reason=st.text(max_size=50)),
    PadArrival: st.builds(PadArrival, pad=st.integers(0, 15), kind=st.integers(0, 3), buttons=u32,
              capabilities=st.integers(0, 65535), name=st.text(max_size=30)),
    PadRemoval: st.builds(PadRemoval, pad=st.integers(0, 15)),
}
MESSAGES = st.one_of(*STRATEGIES.values())


def test_every_message_type_is_covered_by_the_round_trip_strategy() -> None:
    assert set(STRATEGIES) == set(MESSAGE_TYPES.values())


@settings(max_examples=600, deadline=None)
@given(st.lists(MESSAGES, min_size=1, max_size=5), st.data())
def test_round_trip_in_any_chunking(msgs: list, data: st.DataObject) -> None:  # type: ignore[type-arg]
    wire = b"".join(m.encode() for m in msgs)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(wire)), max_size=6)))
    decoder, got, prev = ControlDecoder(), [], 0
    for cut in [*cuts, len(wire)]:
        got += list(decoder.feed(wire[prev:cut]))
        prev = cut
    assert got == msgs and decoder.pending == 0


def _frame(msg_type: int, fields: list[tuple[int, bytes]], version: int = 1) -> bytes:
    body = bytes([msg_type, version]) + b"".join(struct.pack("!BH", t, len(v)) + v for t, v in fields)
    return body


def test_unknown_fields_are_ignored_and_order_is_free() -> None:
    body = _frame(6, [(3, (7).to_bytes(8, "big")), (99, b"future"), (1, (5).to_bytes(4, "big")),
                      (2, (6).to_bytes(8, "big"))])
    assert decode_body(body) == Pong(token=5, ping_sent_ns=6, peer_time_ns=7)


def test_unknown_message_type_is_reported_not_fatal() -> None:
    assert decode_body(bytes([200, 3]) + b"whatever") == UnknownMessage(type=200, version=3)


@pytest.mark.parametrize(
    "body, why",
    [
        (b"", "no type"),
        (bytes([5]), "no version"),
        (bytes([5, 0]), "version 0"),
        (_frame(5, [(1, b"\x00\x00\x00\x01")]), "missing sent_ns"),
        (_frame(5, [(1, b"\x00\x01"), (2, bytes(8))]), "u32 of two bytes"),
        (_frame(5, [(1, bytes(4)), (1, bytes(4)), (2, bytes(8))]), "repeated scalar"),
        (_frame(8, [(1, b"\x09"), (2, b"\x01")]), "button out of range"),
        (_frame(8, [(1, b"\x01"), (2, b"\x02")]), "bool of 2"),
        (_frame(9, [(1, bytes(2)), (2, b"\xff\xfe")]), "reason not UTF-8"),
        (_frame(2, [(12, bytes(15))]), "short key"),
        (bytes([5, 1, 1, 0]), "truncated field header"),
        (bytes([5, 1, 1, 0, 9, 1]), "field runs past the message"),
        (_frame(1, [(1, b"\x00\x01"), (2, b"x"), (4, b"\x04\x00"), (5, b"\x04\x00"), (6, b"\x00\x3c"),
                    (7, b"\x02")]), "hello without codecs"),
    ],
)
def test_malformed_messages_raise_protocol_error(body: bytes, why: str) -> None:
    with pytest.raises(ProtocolError):
        decode_body(body)


def test_oversized_length_prefix_fails_before_buffering() -> None:
    decoder = ControlDecoder()
    with pytest.raises(ProtocolError):
        list(decoder.feed(struct.pack("!I", MAX_MESSAGE_SIZE + 1)))


def test_encoder_refuses_out_of_range_values() -> None:
    with pytest.raises(ValueError):
        MouseButtonEvent(button=0, down=True).encode()
    with pytest.raises(ValueError):
        Goodbye(code=0, reason="x" * 600).encode()


VALID = [
    Hello(protocol_version=1, client_name="t", codecs=("h264", "hevc"), max_width=1920, max_height=1080,
          max_fps=60, audio_channels=2).encode(),
    Config(codec="h264", width=1280, height=720, fps=60, bitrate_kbps=20000, fec_parity_percent=20,
           audio_codec="opus", audio_sample_rate=48000, audio_channels=2, audio_frame_samples=240,
           video_port=48101, video_key=bytes(16), max_datagram=1400, host_name="h").encode(),
    KeyframeRequest(last_frame=9).encode(),
    StatsReport(frames_received=1, frames_recovered=2, frames_lost=3, frames_decoded=4, decode_time_us=5).encode(),
    Ping(token=1, sent_ns=2).encode(),
    Pong(token=1, ping_sent_ns=2, peer_time_ns=3).encode(),
    KeyEvent(keycode=30, down=True, modifiers=1).encode(),
    MouseButtonEvent(button=1, down=False).encode(),
    Goodbye(code=1, reason="bye").encode(),
    PadArrival(pad=0, kind=1, buttons=0xFFFF, capabilities=1, name="pad").encode(),
    PadRemoval(pad=3).encode(),
]


def _decode_all(data: bytes) -> None:
    decoder = ControlDecoder()
    try:
        for msg in decoder.feed(data):
            assert isinstance(msg, UnknownMessage) or type(msg) in MESSAGE_TYPES.values()
    except ProtocolError:
        pass


@fuzz_settings
@given(st.binary(max_size=512))
def test_random_bytes_only_raise_protocol_error(data: bytes) -> None:
    _decode_all(data)
    try:
        decode_body(data)
    except ProtocolError:
        pass


@fuzz_settings
@given(mutated(VALID))
def test_mutated_messages_only_raise_protocol_error(data: bytes) -> None:
    _decode_all(data)
    try:
        decode_body(data[4:])
    except ProtocolError:
        pass
