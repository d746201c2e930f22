"""The client's adaptive audio jitter buffer, sans-IO: a fake clock, real Opus packets."""

from __future__ import annotations

import random

import opuslib_next as opus
import pytest

from lumen_client.audio import AudioReceiver
from lumen_core.audio import FRAME_S, FRAME_SAMPLES
from lumen_core.datagrams import AudioPacket


@pytest.fixture(scope="module")
def payloads() -> list[bytes]:
    encoder = opus.Encoder(48000, 2, opus.APPLICATION_RESTRICTED_LOWDELAY)
    tone = bytes(FRAME_SAMPLES * 4)
    return [encoder.encode(tone, FRAME_SAMPLES) for _ in range(10)]


def run(arrivals: list[tuple[float, int]], payloads: list[bytes], until: float, slots: int = 0
        ) -> tuple[AudioReceiver, int]:
    """Deliver (time, seq) in time order, polling every millisecond, until ``slots`` slots
    have played (the stream's end: what follows would be concealed) or ``until``."""
    played: list[bytes] = []
    rx = AudioReceiver(played.append)
    events = sorted(arrivals)
    t, i = 0.0, 0
    while t <= until and (not slots or rx.played + rx.concealed < slots):
        while i < len(events) and events[i][0] <= t:
            seq = events[i][1]
            rx.receive(AudioPacket(seq=seq, pts_ns=0, payload=payloads[seq % len(payloads)]), events[i][0])
            i += 1
        rx.poll(t)
        t += 0.001
    return rx, len(played)


def test_jitter_reordering_and_duplicates_play_every_packet(payloads: list[bytes]) -> None:
    rnd = random.Random(5)
    arrivals = []
    for seq in range(2000):  # 10 s
        sent = seq * FRAME_S
        delay = 0.0 if rnd.random() < 0.05 else rnd.uniform(0.010, 0.030)  # netem's reorder: some skip the delay
        arrivals.append((sent + delay, seq))
        if rnd.random() < 0.05:
            arrivals.append((sent + rnd.uniform(0.010, 0.030), seq))
    rx, played = run(arrivals, payloads, 10.5, slots=2000)
    assert rx.concealed == 0 and rx.lost == 0, (rx.concealed, rx.late)
    assert rx.played == 2000 and played == 2000 and rx.duplicates > 50
    assert 0.020 <= rx.target_s <= 0.040  # the jitter measured (20 ms spread), not the maximum allowed


def test_a_lost_packet_is_concealed_and_one_that_comes_too_late_is_told_apart(payloads: list[bytes]) -> None:
    arrivals = [(seq * FRAME_S + 0.002, seq) for seq in range(400) if seq not in (100, 200)]
    arrivals.append((200 * FRAME_S + 0.5, 200))  # half a second late: its slot has long been played
    rx, played = run(arrivals, payloads, 2.2, slots=400)
    assert rx.concealed == 2 and played == 400
    assert rx.late == 1 and rx.lost == 1  # 100 lost; 200 only late


def test_a_late_packet_whose_slot_has_not_played_is_played(payloads: list[bytes]) -> None:
    arrivals = [(seq * FRAME_S + 0.001, seq) for seq in range(400)]
    arrivals[300] = (300 * FRAME_S + 0.008, 300)  # later than the others, within the buffer's target
    rx, _ = run(arrivals, payloads, 2.2, slots=400)
    assert rx.concealed == 0 and rx.played == 400


def test_a_host_restart_resynchronises(payloads: list[bytes]) -> None:
    arrivals = [(seq * FRAME_S, seq) for seq in range(100)]
    arrivals += [(1.0 + n * FRAME_S, 50_000 + n) for n in range(100)]
    rx, _ = run(arrivals, payloads, 1.6)
    assert rx.played == 200
