"""The host's audio sources: the desktop's sound, captured from PulseAudio, reaches a client."""

from __future__ import annotations

import contextlib
import subprocess
import threading
from pathlib import Path

import pytest
from hosts import ClientRun, start_host
from streams import options

from lumen_client.pipeline import Each
from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(180)


def test_desktop_audio_source_reaches_the_client(tmp_path: Path, pulse_sink) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    subprocess.run(["pactl", f"--server={pulse_sink.server}", "set-default-source", f"{pulse_sink.sink}.monitor"],
                   check=True, timeout=10)
    tone_hz, rate = 1000, 48000
    t = np.arange(rate * 8) / rate
    pcm = (np.sin(2 * np.pi * tone_hz * t) * 12000).astype("<i2").repeat(2).tobytes()
    player = subprocess.Popen(["pacat", f"--server={pulse_sink.server}", "--format=s16le", "--rate=48000",
                               "--channels=2", "--raw", f"--device={pulse_sink.sink}"], stdin=subprocess.PIPE)

    def feed() -> None:
        # The player is killed once the client has heard enough, usually mid-write.
        with contextlib.suppress(BrokenPipeError, ValueError):
            player.stdin.write(pcm)  # type: ignore[union-attr]
            player.stdin.close()  # type: ignore[union-attr]

    threading.Thread(target=feed, daemon=True).start()
    host = start_host(tmp_path, "--audio-source", "pulse", "--max-sessions", "1")
    heard = bytearray()
    try:
        run = ClientRun(options(host, 3.0, pin=host.fingerprint), TrustStore(tmp_path / "p.json"),
                        audio=Each(heard.extend)).start()
        result = run.join()
    finally:
        player.kill()
    assert 180 <= result.stats["audio_packets_per_s"] <= 220
    samples = np.frombuffer(bytes(heard), dtype="<i2").reshape(-1, 2)[:, 0].astype(np.float64)[rate // 2 :]
    assert np.abs(samples).max() > 2000, "the client heard silence"
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    assert abs(np.argmax(spectrum) * rate / samples.size - tone_hz) < 20
