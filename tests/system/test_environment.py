"""The stand-ins the client's tests rely on really work: an OpenGL 4.x context under
Xvfb for the GL presenter, and a PulseAudio sink that PortAudio plays into and whose
monitor hears it. A failure here explains a failure in the GUI or audio tests."""

from __future__ import annotations

import numpy as np
from desktop import PulseSink


def test_qt_gets_an_opengl_context_under_xvfb(xvfb_display: str, qapp) -> None:  # type: ignore[no-untyped-def]
    # qapp: pytest-qt's QApplication, shared by every Qt test of the session.
    from PySide6.QtGui import QOffscreenSurface, QOpenGLContext, QSurfaceFormat

    fmt = QSurfaceFormat()
    fmt.setVersion(3, 3)
    fmt.setProfile(QSurfaceFormat.OpenGLContextProfile.CoreProfile)
    context = QOpenGLContext()
    context.setFormat(fmt)
    assert context.create(), "no OpenGL context: is Mesa (libgl1-mesa-dri) installed?"
    surface = QOffscreenSurface()
    surface.setFormat(context.format())
    surface.create()
    assert context.makeCurrent(surface)
    major, minor = context.format().majorVersion(), context.format().minorVersion()
    assert (major, minor) >= (3, 3)
    context.doneCurrent()


def test_portaudio_plays_into_the_null_sink(pulse_sink: PulseSink) -> None:
    import sounddevice as sd

    sd._terminate()  # PortAudio lists devices once: look again now that the server runs
    sd._initialize()
    names = [d["name"] for d in sd.query_devices()]
    assert "pulse" in names, names
    rate, tone_hz = 48000, 1000
    t = np.arange(rate * 2) / rate
    tone = (0.5 * np.sin(2 * np.pi * tone_hz * t)).astype(np.float32)
    recorder = pulse_sink.recorder(rate)
    sd.play(np.column_stack([tone, tone]), rate, device="pulse")
    sd.wait()
    recorded = recorder.stop()
    samples = np.frombuffer(recorded, dtype="<i2").reshape(-1, 2)[:, 0].astype(np.float64)
    assert samples.size > rate // 4 and np.abs(samples).max() > 1000, "the sink's monitor heard nothing"
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(samples.size)))
    peak_hz = np.argmax(spectrum) * rate / samples.size
    assert abs(peak_hz - tone_hz) < 20
