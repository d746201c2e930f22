"""Audio out: a small jitter buffer in front of a sounddevice callback that never blocks.

Packets of 5 ms arrive with network jitter; playback starts once TARGET_MS are queued
and keeps at most MAX_MS (older audio is dropped: latency must not build up). When the
queue runs dry the callback plays silence, counts an underrun, and waits to refill.
"""

from __future__ import annotations

import logging
from collections import deque
from typing import TYPE_CHECKING, Final

from lumen_core.audio import CHANNELS, FRAME_MS, FRAME_SAMPLES, PCM_FRAME_BYTES, RATE

if TYPE_CHECKING:
    from sounddevice import RawOutputStream

log = logging.getLogger(__name__)

TARGET_MS: Final = 20
MAX_MS: Final = 60
# What PortAudio is asked for. "low" makes ALSA's PulseAudio plugin run the stream in
# starts and stops (measured: 144 callbacks/s instead of 200); 30 ms keeps it steady.
DEVICE_LATENCY_S: Final = 0.03


class AudioOutput:
    """The session's audio sink on a PortAudio device (``device``: a name or index, None
    for the default). A device that cannot be opened leaves the stream silent, logged
    and in ``error``: the picture goes on."""

    def __init__(self, device: str | int | None = None) -> None:
        self._device = device
        self._queue: deque[bytes] = deque(maxlen=MAX_MS // FRAME_MS)
        self._silence = bytes(PCM_FRAME_BYTES)
        self._filling = True
        self._stream: RawOutputStream | None = None
        self.error: str | None = None
        self.underruns = 0
        self.played = 0
        self.odd_blocks = 0  # callbacks asking for another size than one packet
        self.overflows = 0  # packets dropped because MAX_MS was queued

    def open(self) -> None:
        import sounddevice as sd

        self._queue.clear()
        self._filling = True
        try:
            self._stream = sd.RawOutputStream(
                samplerate=RATE, channels=CHANNELS, dtype="int16", blocksize=FRAME_SAMPLES,
                device=self._device, callback=self._callback, latency=DEVICE_LATENCY_S,
            )
            self._stream.start()
        except Exception as exc:  # sd.PortAudioError, ValueError for an unknown device, OSError
            self._stream = None
            self.error = str(exc)
            log.warning("no audio output: %s", exc)

    @property
    def depth_ms(self) -> int:
        return len(self._queue) * FRAME_MS

    def push(self, pcm: bytes) -> None:
        """Any thread: queue 5 ms of s16le stereo (a full queue drops its oldest)."""
        if self._stream is None:
            return
        if len(self._queue) == self._queue.maxlen:
            self.overflows += 1
        self._queue.append(pcm)

    def _callback(self, outdata: memoryview, frames: int, time_info: object, status: object) -> None:
        # PortAudio's thread: no locks, no allocation beyond the copy, never blocks.
        if self._filling and len(self._queue) * FRAME_MS >= TARGET_MS:
            self._filling = False
        if frames != FRAME_SAMPLES:
            self.odd_blocks += 1
        if self._filling or not self._queue or frames != FRAME_SAMPLES:
            outdata[:] = self._silence if len(outdata) == len(self._silence) else bytes(len(outdata))
            if not self._filling and frames == FRAME_SAMPLES:
                self.underruns += 1
                self._filling = True
            return
        outdata[:] = self._queue.popleft()
        self.played += 1

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.stop()
            stream.close()
