"""Bind datagrams: the client's sealed 29 bytes move the host's video to its address, only
forward in seq, never replayed, and anything else on the video port is counted."""

from __future__ import annotations

import pytest

from lumen_core.video.bind import BindSealer, BindTracker
from lumen_core.video.crypto import CLIENT, HOST, Sealer, native_available

KEY = bytes(range(1, 17))
SALT = b"salt"
QUIC_PEER = ("192.0.2.1", 40000)
NAT = ("198.51.100.7", 61000)
NATIVE = [pytest.param(True, id="native", marks=pytest.mark.skipif(not native_available(), reason="_gcm not built")),
          pytest.param(False, id="cryptography")]


@pytest.mark.parametrize("native", NATIVE)
def test_a_bind_from_a_new_address_moves_the_video_and_a_repeat_does_not(native: bool) -> None:
    sealer, tracker = BindSealer(KEY, SALT, native=native), BindTracker(KEY, SALT, QUIC_PEER, native=native)
    first = sealer.next()
    assert len(first) == 29
    assert tracker.receive(first, NAT) and tracker.peer == NAT
    assert not tracker.receive(sealer.next(), NAT)  # a keepalive from where the video goes already
    assert (tracker.binds, tracker.moves, tracker.garbage) == (2, 1, 0)


def test_an_older_bind_from_the_old_address_cannot_pull_the_video_back() -> None:
    sealer, tracker = BindSealer(KEY, SALT), BindTracker(KEY, SALT, None)
    old, new = sealer.next(), sealer.next()
    assert tracker.receive(new, NAT)
    assert not tracker.receive(old, QUIC_PEER) and tracker.peer == NAT  # authentic, but older
    assert not tracker.receive(new, QUIC_PEER) and tracker.garbage == 1  # a replay


def test_what_is_not_a_bind_is_counted_as_garbage() -> None:
    tracker = BindTracker(KEY, SALT, QUIC_PEER)
    wrong_key = BindSealer(bytes(16), SALT).next()
    host_direction = Sealer(KEY, SALT, HOST).seal(b"LMNB\x01")  # sealed the way video is: not a client's
    other_text = Sealer(KEY, SALT, CLIENT).seal(b"LMNB\x02")  # a later version's bind: not ours
    for data in (b"", b"x" * 29, wrong_key, host_direction, other_text):
        assert not tracker.receive(data, NAT)
    assert tracker.peer == QUIC_PEER and tracker.garbage == 5 and tracker.binds == 0
