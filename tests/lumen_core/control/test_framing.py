"""The control stream's framing (u16 LE length + payload): any chunking gives back the
same messages, partial frames wait, and what cannot be framed is refused."""

from __future__ import annotations

import pytest
from control_strategies import STRATEGIES
from hypothesis import given, settings
from hypothesis import strategies as st

from lumen_core.control import decode_message, frame
from lumen_core.control.framing import FrameReader


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


def test_a_partial_frame_waits_and_an_oversize_payload_is_refused() -> None:
    reader = FrameReader()
    assert list(reader.feed(b"\x05\x00LMN")) == [] and reader.pending == 5
    assert list(reader.feed(b"E\x63")) == [b"LMNE\x63"] and reader.pending == 0
    assert list(reader.feed(frame(b"") + frame(b"ab"))) == [b"", b"ab"]
    assert frame(bytes(65535))[:2] == b"\xff\xff"
    with pytest.raises(ValueError):
        frame(bytes(65536))
