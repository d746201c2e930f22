"""Whether Opus works here: this machine has libopus (./dev installs it), and a machine
without it gets one sentence with the install command (tests/lumen_client/test_cli.py
runs that case through both command lines)."""

from __future__ import annotations

import opuslib_next

from lumen_core.audio import CHANNELS, FRAME_SAMPLES, RATE
from lumen_core.opus import INSTALL_HINT, missing


def test_libopus_loads_and_round_trips_a_frame() -> None:
    assert missing() is None
    encoder = opuslib_next.Encoder(RATE, CHANNELS, opuslib_next.APPLICATION_AUDIO)
    packet = encoder.encode(bytes(FRAME_SAMPLES * CHANNELS * 2), FRAME_SAMPLES)
    pcm = opuslib_next.Decoder(RATE, CHANNELS).decode(packet, FRAME_SAMPLES)
    assert len(pcm) == FRAME_SAMPLES * CHANNELS * 2


def test_the_hint_names_the_packages() -> None:
    assert "apt install libopus0" in INSTALL_HINT and "dnf install opus" in INSTALL_HINT
