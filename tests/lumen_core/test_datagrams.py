"""The side-plane datagrams: round trips, little-endian layouts, M3's lenient decoding
(trailing bytes ignored), and fuzzing: whatever decodes re-encodes to the bytes it came from."""

from __future__ import annotations

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.datagrams import (
    AUDIO_HEADER_SIZE,
    INPUT_SIZE,
    AudioPacket,
    FrameTiming,
    InputEvent,
    PadAxis,
    PadButton,
    PadSnapshot,
    Rumble,
    parse_datagram,
)
from lumen_core.errors import ProtocolError
from lumen_core.gamepad import ALL_BUTTONS, BUTTON_NAMES, PadState

u16 = st.integers(0, 2**16 - 1)
u32 = st.integers(0, 2**32 - 1)
i32 = st.integers(-(2**31), 2**31 - 1)
i16 = st.integers(-32768, 32767)
pad = st.integers(0, 15)
states = st.builds(PadState, buttons=st.integers(0, ALL_BUTTONS).map(lambda b: b & ALL_BUTTONS), lx=i16, ly=i16,
                   rx=i16, ry=i16, lt=st.integers(0, 255), rt=st.integers(0, 255))
DATAGRAMS = st.one_of(
    st.builds(InputEvent, kind=st.integers(0, 8), code=u32, x=i32, y=i32, flags=u32),
    st.builds(AudioPacket, seq=u32, pts_ns=st.integers(0, 2**64 - 1), payload=st.binary(max_size=300)),
    st.builds(Rumble, pad=u16, low=u16, high=u16),
    st.builds(PadButton, pad=pad, seq=u32, flag=st.sampled_from(sorted(BUTTON_NAMES)), down=st.booleans()),
    st.builds(PadAxis, pad=pad, seq=u32, axis=st.integers(0, 3), value=i16),
    st.builds(PadAxis, pad=pad, seq=u32, axis=st.integers(4, 5), value=st.integers(0, 255)),
    st.builds(PadSnapshot, pad=pad, seq=u32, state=states),
    st.builds(FrameTiming, frame_index=u32, host_us=u32),
)


@settings(max_examples=500, deadline=None)
@given(DATAGRAMS, st.binary(max_size=8))
def test_round_trip_with_trailing_bytes_ignored(dgram, trailing: bytes) -> None:  # type: ignore[no-untyped-def]
    data = dgram.encode()
    assert parse_datagram(data) == dgram
    if not isinstance(dgram, AudioPacket):  # audio's payload runs to the end
        assert parse_datagram(data + trailing) == dgram


def test_layouts_are_little_endian_as_m3s() -> None:
    assert INPUT_SIZE == 18 and AUDIO_HEADER_SIZE == 13
    assert Rumble(pad=1, low=2, high=3).encode() == b"\xca\x01\x00\x02\x00\x03\x00"
    button = PadButton(pad=2, seq=0x01020304, flag=0x1000, down=True)
    assert button.encode() == bytes.fromhex("cb02" "04030201" "00100000" "01")
    assert PadAxis(pad=0, seq=1, axis=1, value=-2).encode() == bytes.fromhex("cc000100000001feff")
    assert len(PadSnapshot(pad=0, seq=1, state=PadState()).encode()) == 20
    assert FrameTiming(frame_index=7, host_us=1500).encode() == bytes.fromhex("ce07000000dc050000")
    assert FrameTiming(frame_index=1, host_us=-5).encode()[5:] == bytes(4)  # clamped, never negative


def test_unknown_type_byte_is_none_not_an_error() -> None:
    for first in (0x00, 0xB1, 0xC7, 0xCF, 0xFF):
        assert parse_datagram(bytes([first]) + bytes(30)) is None


@pytest.mark.parametrize("data", [
    b"",
    bytes.fromhex("c802000000"),  # input, short
    bytes.fromhex("c809") + bytes(16),  # input of an unknown kind
    bytes.fromhex("c9070000007bca9a3b000000"),  # audio, 12 bytes
    bytes.fromhex("ca01003412ff"),  # rumble, 6 bytes
    PadButton(pad=0, seq=1, flag=0x1000, down=True).encode()[:-1],
    bytes.fromhex("cb00010000000300000001"),  # two buttons in one flag
    bytes.fromhex("cb00010000000010000002"),  # down = 2
    bytes.fromhex("cb10010000000010000001"),  # pad 16
    bytes.fromhex("cc000100000006ffff"),  # axis 6
    bytes.fromhex("cc00010000000400ff"),  # trigger out of range
    bytes.fromhex("cd0001000000" + "00004000" + "00" * 10),  # snapshot: an unknown button bit
])
def test_malformed_known_types_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_datagram(data)


def _check(data: bytes) -> None:
    try:
        dgram = parse_datagram(data)
    except ProtocolError:
        return
    if dgram is not None:
        encoded = dgram.encode()
        assert data[: len(encoded)] == encoded  # decoding lost nothing it kept


@fuzz_settings
@given(st.binary(max_size=40))
def test_random_bytes_are_refused_or_decode_exactly(data: bytes) -> None:
    _check(data)


VALID = [InputEvent(kind=7, code=0x1000, x=1, flags=2).encode(), AudioPacket(seq=3, pts_ns=4, payload=b"op").encode(),
         Rumble(pad=1, low=9, high=8).encode(), PadSnapshot(pad=1, seq=5, state=PadState(buttons=0x1001)).encode(),
         PadAxis(pad=2, seq=1, axis=5, value=200).encode(), FrameTiming(frame_index=1, host_us=2).encode()]


@fuzz_settings
@given(mutated(VALID))
def test_mutated_datagrams_are_refused_or_decode_exactly(data: bytes) -> None:
    _check(data)
