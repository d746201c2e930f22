"""lumen/1's audio format, both sides and both modes: Opus at 48 kHz, stereo, one 5 ms
frame (240 samples) per datagram; decoded, s16le interleaved."""

from __future__ import annotations

from typing import Final

RATE: Final = 48000
CHANNELS: Final = 2
FRAME_SAMPLES: Final = 240
FRAME_MS: Final = 5
FRAME_S: Final = FRAME_SAMPLES / RATE
PCM_FRAME_BYTES: Final = FRAME_SAMPLES * CHANNELS * 2
