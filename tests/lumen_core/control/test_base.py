"""M3's three handshake messages (Hello, Welcome, Start): round trips with trailing bytes kept,
strict sizes and magic, and M3's lenient decoding fuzzed."""

from __future__ import annotations

import pytest
from fuzzing import fuzz_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.control import Hello, Start, Welcome, decode_hello, decode_start, decode_welcome
from lumen_core.errors import ProtocolError
from lumen_core.fec import GF8, GF16

u16 = st.integers(0, 2**16 - 1)


u32 = st.integers(0, 2**32 - 1)


WELCOMES = st.builds(Welcome, udp_port=u16, width=u32, height=u32, refresh_hz=u32,
                     fec_scheme=st.sampled_from([GF8, GF16]),
                     fec_percent=st.integers(0, 255), max_data_per_block=u16, shard_payload=u16, encrypt=st.booleans(),
                     key=st.binary(min_size=16, max_size=16), salt=st.binary(min_size=4, max_size=4), frames=u32)


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


@fuzz_settings
@given(st.binary(max_size=120))
def test_random_bytes_are_refused_or_decode_canonically(data: bytes) -> None:
    for decode, cls in ((decode_hello, Hello), (decode_welcome, Welcome), (decode_start, Start)):
        try:
            msg, trailing = decode(b"LMN1" + data)
        except ProtocolError:
            continue
        # M3's decoding is lenient (a scheme byte other than 1 is GF8, any non-zero
        # encrypt byte is on): the canonical form decodes to the same message.
        assert isinstance(msg, cls) and decode(msg.encode()) == (msg, b"")
        assert trailing == (b"LMN1" + data)[len(msg.encode()) :]
