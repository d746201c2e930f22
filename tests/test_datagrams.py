"""Side-plane datagrams: round trips, the demultiplexer, strict validation, fuzzing."""

from __future__ import annotations

import pytest
from fuzzing import fuzz_settings, mutated
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.datagrams import (
    AudioPacket,
    MouseMotion,
    MouseScroll,
    PadAxis,
    PadButton,
    PadSnapshot,
    Rumble,
    parse_datagram,
)
from lumen_core.errors import ProtocolError
from lumen_core.gamepad import BUTTON_NAMES, LUMEN_BTN_A, PadState

i16 = st.integers(-32768, 32767)
u8 = st.integers(0, 255)
pad = st.integers(0, 15)
u32 = st.integers(0, 2**32 - 1)
states = st.builds(PadState, buttons=st.sets(st.sampled_from(list(BUTTON_NAMES))).map(sum),
                   lx=i16, ly=i16, rx=i16, ry=i16, lt=u8, rt=u8)

DATAGRAMS = st.one_of(
    st.builds(AudioPacket, seq=u32, pts_ns=st.integers(0, 2**64 - 1), payload=st.binary(min_size=1, max_size=1275)),
    st.builds(Rumble, pad=pad, low=st.integers(0, 65535), high=st.integers(0, 65535)),
    st.builds(PadButton, pad=pad, seq=u32, flag=st.sampled_from(list(BUTTON_NAMES)), down=st.booleans()),
    st.one_of(
        st.builds(PadAxis, pad=pad, seq=u32, axis=st.integers(0, 3), value=i16),
        st.builds(PadAxis, pad=pad, seq=u32, axis=st.integers(4, 5), value=u8),
    ),
    st.builds(PadSnapshot, pad=pad, seq=u32, state=states),
    st.builds(MouseMotion, dx=i16, dy=i16),
    st.builds(MouseScroll, vertical=i16, horizontal=i16),
)


@settings(max_examples=1000, deadline=None)
@given(DATAGRAMS)
def test_round_trip(dgram) -> None:  # type: ignore[no-untyped-def]
    assert parse_datagram(dgram.encode()) == dgram


def test_layouts_match_the_contract() -> None:
    audio = AudioPacket(seq=1, pts_ns=2, payload=b"op").encode()
    assert audio == bytes.fromhex("c9" "00000001" "0000000000000002") + b"op"
    assert Rumble(pad=1, low=0x1234, high=0xFFFF).encode() == bytes.fromhex("ca01" "1234" "ffff")


def test_unknown_type_byte_is_none_not_an_error() -> None:
    assert parse_datagram(b"\x42anything") is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        bytes.fromhex("c9") + bytes(12),  # audio without payload
        bytes.fromhex("c9") + bytes(12) + bytes(1276),  # larger than any Opus packet
        bytes.fromhex("ca0100000000ff"),  # rumble too long
        bytes.fromhex("ca10" "0000" "0000"),  # pad 16
        PadButton(pad=0, seq=1, flag=LUMEN_BTN_A, down=True).encode()[:-1] + b"\x02",  # down = 2
        bytes.fromhex("cb00" "00000001" "00003000" "01"),  # two buttons in one event
        bytes.fromhex("cb00" "00000001" "00000800" "01"),  # 0x800 is no button
        bytes.fromhex("cc00" "00000001" "06" "0000"),  # axis 6
        bytes.fromhex("cc00" "00000001" "04" "0100"),  # trigger 256
        bytes.fromhex("cc00" "00000001" "05" "ffff"),  # trigger -1
        bytes.fromhex("d0" "0000"),  # motion too short
    ],
)
def test_malformed_known_types_raise_protocol_error(data: bytes) -> None:
    with pytest.raises(ProtocolError):
        parse_datagram(data)


VALID = [
    AudioPacket(seq=1, pts_ns=2, payload=b"\xfc" * 80).encode(),
    Rumble(pad=0, low=100, high=200).encode(),
    PadButton(pad=1, seq=5, flag=LUMEN_BTN_A, down=True).encode(),
    PadAxis(pad=1, seq=6, axis=1, value=-32767).encode(),
    PadAxis(pad=1, seq=6, axis=4, value=255).encode(),
    PadSnapshot(pad=2, seq=7, state=PadState(buttons=LUMEN_BTN_A, lx=5, lt=3)).encode(),
    MouseMotion(dx=-3, dy=4).encode(),
    MouseScroll(vertical=120, horizontal=0).encode(),
]


def _parse(data: bytes) -> None:
    try:
        parse_datagram(data)
    except ProtocolError:
        pass


@fuzz_settings
@given(st.binary(max_size=1400))
def test_random_bytes_only_raise_protocol_error(data: bytes) -> None:
    _parse(data)


@fuzz_settings
@given(mutated(VALID))
def test_mutated_datagrams_only_raise_protocol_error(data: bytes) -> None:
    _parse(data)
