"""The client's audio path, real all the way: the host's Opus tone over QUIC datagrams,
decoded, through the jitter buffer into PortAudio, out of a PulseAudio null sink."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hosts import ClientRun, start_host

from lumen_client.session import StreamOptions
from lumen_client.trust_store import TrustStore

pytestmark = pytest.mark.timeout(120)


def test_host_tone_plays_into_the_null_sink(tmp_path: Path, pulse_sink) -> None:  # type: ignore[no-untyped-def]
    import sounddevice as sd

    from lumen_client.audio.portaudio import AudioOutput

    sd._terminate()  # let PortAudio find the server the fixture started
    sd._initialize()
    host = start_host(tmp_path, "--tone-hz", "660", "--max-sessions", "1")
    recorder = pulse_sink.recorder()  # first: a null sink's clock runs while its monitor is read
    output = AudioOutput("pulse")
    try:
        run = ClientRun(StreamOptions(host="127.0.0.1", port=host.port, pin=host.fingerprint, duration_s=3.0,
                                      width=640, height=360), TrustStore(tmp_path / "p.json"), audio=output)
        result = run.start().join()
    finally:
        recorded = recorder.stop()
        output.close()
    assert output.error is None, output.error
    assert 180 <= result.stats["audio_packets_per_s"] <= 220
    # The null sink's clock is rough under load (FACTS.md): count playback, not its pace.
    assert output.played > 100, (output.played, output.underruns, output.odd_blocks, output.overflows)
    samples = np.frombuffer(recorded, dtype="<i2").reshape(-1, 2)[:, 0].astype(np.float64)
    assert np.abs(samples).max() > 2000, "the sink played silence"
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    peak_hz = np.argmax(spectrum) * 48000 / samples.size
    assert abs(peak_hz - 660) < 15, peak_hz
