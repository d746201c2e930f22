"""The host's audio: a source of 48 kHz stereo PCM, Opus-encoded in 5 ms packets.

Sources: a synthetic tone, or a PulseAudio/PipeWire source (a monitor, for desktop
audio) through sounddevice. One capture stream serves every session of the host:
opening desktop audio per session leaks streams in PulseAudio.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Final, Protocol

import numpy as np
import opuslib_next as opus

from lumen_core.audio import CHANNELS, FRAME_SAMPLES, PCM_FRAME_BYTES, RATE

log = logging.getLogger(__name__)

BITRATE: Final = 128_000
# Captured audio waiting to be encoded: 100 ms. Older audio is dropped, not delayed.
CAPTURE_BACKLOG_FRAMES: Final = 20


class AudioSource(Protocol):
    def read(self) -> bytes:
        """The next 5 ms as s16le interleaved stereo (silence if nothing is there)."""
        ...


class ToneSource:
    def __init__(self, frequency_hz: float = 440.0, level: float = 0.3) -> None:
        self.frequency_hz = frequency_hz
        self._level = level
        self._phase = 0

    def read(self) -> bytes:
        t = (self._phase + np.arange(FRAME_SAMPLES)) / RATE
        self._phase += FRAME_SAMPLES
        mono = (np.sin(2 * np.pi * self.frequency_hz * t) * self._level * 32767).astype("<i2")
        return np.repeat(mono, CHANNELS).tobytes()


class CaptureSource:
    """A sounddevice input stream kept open for the host's lifetime."""

    def __init__(self, device: str) -> None:
        import sounddevice as sd

        self._frames: deque[bytes] = deque(maxlen=CAPTURE_BACKLOG_FRAMES)
        self._lock = threading.Lock()
        self._silence = bytes(PCM_FRAME_BYTES)
        self._stream = sd.RawInputStream(
            samplerate=RATE, channels=CHANNELS, dtype="int16", blocksize=FRAME_SAMPLES,
            device=device, callback=self._callback, latency="low",
        )
        self._stream.start()

    def _callback(self, data, frames, time_info, status) -> None:
        with self._lock:
            self._frames.append(bytes(data))

    def read(self) -> bytes:
        with self._lock:
            return self._frames.popleft() if self._frames else self._silence

    def close(self) -> None:
        self._stream.stop()
        self._stream.close()


class OpusEncoder:
    def __init__(self) -> None:
        # restricted_lowdelay: CELT only, the lowest algorithmic delay Opus has.
        self._encoder = opus.Encoder(RATE, CHANNELS, opus.APPLICATION_RESTRICTED_LOWDELAY)
        self._encoder.bitrate = BITRATE
        self._encoder.vbr = 0

    def encode(self, pcm: bytes) -> bytes:
        return self._encoder.encode(pcm, FRAME_SAMPLES)
