"""The control stream: framing in any chunking, M3's messages, extension blocks, extended
messages, strict validation, and fuzzing (whatever decodes re-encodes to the same thing)."""

from __future__ import annotations

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.control import (
    AuthChallenge,
    AuthProof,
    Goodbye,
    Hello,
    HelloExtension,
    KeyframeRequest,
    PadArrival,
    PadRemoval,
    PairConfirm,
    PairReply,
    Ping,
    Pong,
    RateUpdate,
    ReliableInput,
    Start,
    StatsReport,
    UnknownMessage,
    Welcome,
    WelcomeExtension,
    decode_block,
    decode_hello,
    decode_message,
    decode_start,
    decode_welcome,
    encode_block,
    frame,
)
from lumen_core.control.framing import FrameReader
from lumen_core.control.messages import MESSAGE_TYPES
from lumen_core.errors import ProtocolError
from lumen_core.fec import GF8, GF16

u16 = st.integers(0, 2**16 - 1)
u32 = st.integers(0, 2**32 - 1)
u64 = st.integers(0, 2**64 - 1)
text = st.text(max_size=20)

# One strategy per extended message type; the coverage test below checks none is missing.
STRATEGIES = {
    KeyframeRequest: st.builds(KeyframeRequest, last_frame=st.none() | u32),
    StatsReport: st.builds(StatsReport, frames_received=u64, frames_recovered=u64, frames_lost=u64,
                           frames_decoded=u64, decode_time_us=u32, keyframe_requests=st.none() | u64,
                           audio_packets=st.none() | u64, video_packets_expected=st.none() | u64,
                           video_packets_received=st.none() | u64, queue_delay_us=st.none() | u32),
    Ping: st.builds(Ping, token=u32, sent_ns=u64),
    Pong: st.builds(Pong, token=u32, ping_sent_ns=u64, peer_time_ns=u64),
    Goodbye: st.builds(Goodbye, code=u16, reason=text, retry_after_ms=st.none() | u32),
    ReliableInput: st.builds(ReliableInput, event=st.binary(min_size=18, max_size=18)),
    PadArrival: st.builds(PadArrival, pad=st.integers(0, 15), kind=st.integers(0, 3), buttons=u32,
                          capabilities=u16, name=text),
    PadRemoval: st.builds(PadRemoval, pad=st.integers(0, 15)),
    RateUpdate: st.builds(RateUpdate, bitrate_kbps=u32, fec_percent=st.integers(0, 1000),
                          reason=st.none() | st.text(max_size=20)),
    AuthChallenge: st.builds(AuthChallenge, nonce=st.binary(min_size=32, max_size=32)),
    AuthProof: st.builds(AuthProof, signature=st.binary(min_size=64, max_size=64)),
    PairReply: st.builds(PairReply, spake=st.binary(min_size=33, max_size=33),
                         confirm=st.binary(min_size=32, max_size=32)),
    PairConfirm: st.builds(PairConfirm, confirm=st.binary(min_size=32, max_size=32)),
}
WELCOMES = st.builds(Welcome, udp_port=u16, width=u32, height=u32, refresh_hz=u32,
                     fec_scheme=st.sampled_from([GF8, GF16]),
                     fec_percent=st.integers(0, 255), max_data_per_block=u16, shard_payload=u16, encrypt=st.booleans(),
                     key=st.binary(min_size=16, max_size=16), salt=st.binary(min_size=4, max_size=4), frames=u32)


def test_every_message_type_is_covered_by_the_round_trip_strategy() -> None:
    assert set(STRATEGIES) == set(MESSAGE_TYPES.values())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(*STRATEGIES.values()), min_size=1, max_size=8), st.data())
def test_extended_messages_round_trip_in_any_chunking(msgs: list, data: st.DataObject) -> None:  # type: ignore[type-arg]
    wire = b"".join(m.encode() for m in msgs)
    reader, got, pos = FrameReader(), [], 0
    while pos < len(wire):
        step = data.draw(st.integers(1, 40))
        got += [decode_message(p) for p in reader.feed(wire[pos : pos + step])]
        pos += step
    assert got == msgs and reader.pending == 0


@settings(max_examples=200, deadline=None)
@given(st.builds(Hello, abi_version=u32, width=u32, height=u32, refresh_hz=u32), WELCOMES,
       st.builds(Start, client_udp_port=u16), st.binary(max_size=30))
def test_base_messages_round_trip_and_keep_trailing_bytes(hello: Hello, welcome: Welcome, start: Start,
                                                         trailing: bytes) -> None:
    assert decode_hello(hello.encode() + trailing) == (hello, trailing)
    assert decode_welcome(welcome.encode() + trailing) == (welcome, trailing)
    assert decode_start(start.encode() + trailing) == (start, trailing)


def test_base_messages_refuse_short_payloads_and_other_magic() -> None:
    hello = Hello(width=1280, height=720, refresh_hz=60).encode()
    for bad in (hello[:19], b"LMN2" + hello[4:], b""):
        with pytest.raises(ProtocolError, match="bad Hello"):
            decode_hello(bad)
    with pytest.raises(ProtocolError, match="bad Start"):
        decode_start(b"LMN1\x01")


def test_extension_blocks_round_trip_and_skip_unknown_fields() -> None:
    ext = HelloExtension(codecs=bytes([2, 1]), client_name="Pat's laptop", bitrate_kbps=50_000, audio_channels=2,
                         client_key=bytes(range(32)), pair=bytes(33))
    block = encode_block(ext)
    assert block[:5] == b"LMNX\x02"
    assert decode_block(block, HelloExtension) == (2, ext) and ext.codec_names == ("hevc", "h264")
    with_unknown = block + b"\xfe\x03\x00abc"  # a field of a later version
    assert decode_block(with_unknown, HelloExtension) == (2, ext)
    assert decode_block(b"", HelloExtension) is None and decode_block(b"LMNX", HelloExtension) is None
    assert decode_block(b"\x00\x01\x02\x03\x04", HelloExtension) is None  # not ours: M3 ignores it too
    wext = WelcomeExtension(codec=1, host_name="den", bitrate_kbps=20_000, audio_channels=2)
    assert decode_block(encode_block(wext, 3), WelcomeExtension) == (3, wext)


@pytest.mark.parametrize(("fields", "why"), [
    (b"", "HelloExtension.codecs is missing"),
    (b"\x01\x00\x00", "HelloExtension.codecs: value out of range"),
    (b"\x01\x01\x00\x01\x01\x01\x00\x02", "HelloExtension.codecs appears twice"),
    (b"\x01\x01\x00\x01\x03\x02\x00\x01\x00", "HelloExtension.bitrate_kbps: 2 bytes for a u32"),
    (b"\x01\x01\x00\x01\x03\x04\x00\x01\x00\x00\x00", "HelloExtension.bitrate_kbps: value out of range"),
    (b"\x01\x01\x00\x01\x02\x02\x00\xff\xfe", "HelloExtension.client_name: not UTF-8"),
    (b"\x01\x01\x00\x01\x04", "HelloExtension: truncated field header"),
    (b"\x01\x09\x00\x01", "HelloExtension: field 1 runs past the end"),
])
def test_malformed_extension_fields_are_refused_by_name(fields: bytes, why: str) -> None:
    with pytest.raises(ProtocolError) as raised:
        decode_block(b"LMNX\x01" + fields, HelloExtension)
    assert str(raised.value) == why


def test_encoders_refuse_what_decoders_would() -> None:
    with pytest.raises(ValueError, match="codecs"):
        encode_block(HelloExtension(codecs=b""))
    with pytest.raises(ValueError, match="version"):
        encode_block(HelloExtension(codecs=b"\x01"), 0)


def test_extended_message_framing_rules() -> None:
    assert decode_message(b"LMNE\x63") == UnknownMessage(type=0x63)  # a newer peer's message: ignored
    for bad in (b"", b"LMNE", b"LMN1\x01", b"XXXX\x03\x01\x04\x00\x00\x00\x00\x00"):
        with pytest.raises(ProtocolError):
            decode_message(bad)
    with pytest.raises(ValueError):
        frame(bytes(65536))
    with pytest.raises(ValueError):
        Goodbye(code=0, reason="x" * 257).encode()
    reader = FrameReader()
    assert list(reader.feed(b"\x05\x00LMN")) == [] and reader.pending == 5


# -- fuzzing: every parser takes any bytes; what it accepts re-encodes identically -----

VALID_MESSAGES = [m.encode()[2:] for m in (
    Ping(token=1, sent_ns=2), Goodbye(code=4, reason="busy"), PadArrival(pad=3, kind=1, buttons=0xF000,
                                                                         capabilities=1, name="pad"),
    StatsReport(frames_received=1, frames_recovered=0, frames_lost=0, frames_decoded=1, decode_time_us=5),
)]


def _check_message(data: bytes) -> None:
    try:
        msg = decode_message(data)
    except ProtocolError:
        return
    if isinstance(msg, UnknownMessage):
        assert data[4] not in MESSAGE_TYPES
        return
    assert decode_message(msg.encode()[2:]) == msg  # the canonical form decodes to the same message


@fuzz_settings
@given(st.binary(max_size=120))
def test_random_bytes_are_refused_or_decode_canonically(data: bytes) -> None:
    _check_message(data)
    _check_message(b"LMNE" + data)
    for decode, cls in ((decode_hello, Hello), (decode_welcome, Welcome), (decode_start, Start)):
        try:
            msg, trailing = decode(b"LMN1" + data)
        except ProtocolError:
            continue
        # M3's decoding is lenient (a scheme byte other than 1 is GF8, any non-zero
        # encrypt byte is on): the canonical form decodes to the same message.
        assert isinstance(msg, cls) and decode(msg.encode()) == (msg, b"")
        assert trailing == (b"LMN1" + data)[len(msg.encode()) :]


@fuzz_settings
@given(mutated(VALID_MESSAGES))
def test_mutated_messages_are_refused_or_decode_canonically(data: bytes) -> None:
    _check_message(data)


BLOCKS = [encode_block(HelloExtension(codecs=b"\x01\x02", client_name="x", bitrate_kbps=1000)),
          encode_block(WelcomeExtension(codec=2, host_name="h"))]


@fuzz_settings
@given(mutated(BLOCKS))
def test_mutated_blocks_are_refused_or_decode_canonically(data: bytes) -> None:
    for cls in (HelloExtension, WelcomeExtension):
        try:
            decoded = decode_block(data, cls)  # type: ignore[type-var]
        except ProtocolError:
            continue
        if decoded is not None:
            version, ext = decoded
            assert decode_block(encode_block(ext, version), cls) == (version, ext)  # type: ignore[type-var]
