"""The client's audio path: Opus packets in, PCM out, losses concealed.

lumen/1 audio is Opus at 48 kHz, stereo, 5 ms (240 samples) per datagram, in both
modes. Headless sessions decode and count (the rate is part of the stats); the desktop
client adds an output device behind the same receiver.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import opuslib_next as opus

from lumen_core.datagrams import AudioPacket

RATE: Final = 48000
CHANNELS: Final = 2
FRAME_SAMPLES: Final = 240
# A burst of loss longer than this is not concealed packet by packet: after 20 ms of
# made-up audio, silence is the honest answer.
MAX_CONCEALED: Final = 4

PcmSink = Callable[[bytes], None]


class AudioReceiver:
    def __init__(self, sink: PcmSink | None = None) -> None:
        self._decoder = opus.Decoder(RATE, CHANNELS)
        self._sink = sink
        self._next_seq: int | None = None
        self.packets = 0
        self.lost = 0
        self.concealed = 0
        self.late = 0

    def receive(self, packet: AudioPacket) -> None:
        if self._next_seq is not None:
            gap = (packet.seq - self._next_seq) & 0xFFFFFFFF
            if gap >= 0x80000000:  # older than one already played
                self.late += 1
                return
            self.lost += gap
            for _ in range(min(gap, MAX_CONCEALED)):
                self._play(self._decoder.decode(b"", FRAME_SAMPLES))
                self.concealed += 1
        self._next_seq = (packet.seq + 1) & 0xFFFFFFFF
        self.packets += 1
        try:
            # An empty payload is legal (M3): it is a lost frame to conceal.
            pcm = self._decoder.decode(packet.payload, FRAME_SAMPLES)
        except opus.OpusError:
            pcm = self._decoder.decode(b"", FRAME_SAMPLES)
            self.concealed += 1
        self._play(pcm)

    def _play(self, pcm: bytes) -> None:
        if self._sink is not None:
            self._sink(pcm)
