"""lumen's extended control messages: every type round-trips, strict validation, and fuzzing
(whatever decodes re-encodes to the same thing)."""

from __future__ import annotations

import pytest
from control_strategies import STRATEGIES
from fuzzing import fuzz_settings, mutated
from hypothesis import given
from hypothesis import strategies as st

from lumen_core.control import Goodbye, PadArrival, Ping, StatsReport, UnknownMessage, decode_message
from lumen_core.control.messages import MESSAGE_TYPES
from lumen_core.errors import ProtocolError


def test_every_message_type_is_covered_by_the_round_trip_strategy() -> None:
    assert set(STRATEGIES) == set(MESSAGE_TYPES.values())


def test_extended_message_rules() -> None:
    assert decode_message(b"LMNE\x63") == UnknownMessage(type=0x63)  # a newer peer's message: ignored
    for bad in (b"", b"LMNE", b"LMN1\x01", b"XXXX\x03\x01\x04\x00\x00\x00\x00\x00"):
        with pytest.raises(ProtocolError):
            decode_message(bad)
    with pytest.raises(ValueError):
        Goodbye(code=0, reason="x" * 257).encode()


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


@fuzz_settings
@given(mutated(VALID_MESSAGES))
def test_mutated_messages_are_refused_or_decode_canonically(data: bytes) -> None:
    _check_message(data)
