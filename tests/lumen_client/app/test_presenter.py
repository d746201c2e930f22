"""The GL presenter on a real context (Xvfb, Mesa): both ways it converts a picture to
RGB (the shader, and libswscale for software rasterisers) show the pattern's colours;
the slot wakes the window from empty to full only and counts what it skips; a picture
counts as presented when its swap returns."""

from __future__ import annotations

import av
import pytest
from desktop_app import TOLERANCE
from lumen_host.pattern import BAR_RGB, bar_centres
from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

from lumen_client.app.presenter import colour_conversion, letterbox, swscale_colorspace
from lumen_client.pipeline import Picture

SIZE = (640, 360)


@pytest.fixture
def make_window(xvfb_display: str, qtbot):  # type: ignore[no-untyped-def]
    """VideoWindows deleted on this (the GUI) thread when the test ends: left to the garbage
    collector, a window's C++ side could be destroyed on whichever thread collects it."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from lumen_client.app.presenter import VideoWindow

    made: list[VideoWindow] = []

    def make() -> VideoWindow:
        made.append(VideoWindow())
        return made[-1]

    yield make
    for window in made:
        window.close()
        window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)


def _pictures(count: int) -> list[av.VideoFrame]:
    encoder, _ = open_encoder(EncoderSettings("h264", *SIZE, 60, 4000), ["libx264"])
    decoder = av.CodecContext.create("h264", "r")
    source, out = PatternVideo(*SIZE), []
    for n in range(count):
        frame = source.grab(n, n)
        frame.pts = n
        for packet in encoder.encode(frame):
            out += decoder.decode(av.Packet(bytes(packet)))
    return out


@pytest.mark.parametrize("conversion", ["shader", "cpu"])
def test_the_pattern_shows_its_colours(make_window, qtbot, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                       conversion: str) -> None:
    from lumen_client.app.presenter import CONVERSION_ENV

    monkeypatch.setenv(CONVERSION_ENV, conversion)
    window = make_window()
    window.resize(*SIZE)
    window.show()
    qtbot.waitUntil(window.isExposed, timeout=10_000)
    shown: list[tuple[Picture, int]] = []
    window.on_presented = lambda picture, at: shown.append((picture, at))
    pictures = _pictures(4)
    for n, frame in enumerate(pictures):
        window.sink.push(Picture(frame, 0, n, 0))
        qtbot.waitUntil(lambda n=n: len(shown) > n, timeout=10_000)
    assert window.cpu_conversion == (conversion == "cpu")
    assert [p.frame_index for p, _ in shown] == list(range(len(pictures)))
    assert shown[-1][0].frame.format.name == ("rgba" if conversion == "cpu" else "yuv420p")
    image = window.grabFramebuffer()
    x0, y0, w, h = letterbox(image.width(), image.height(), *SIZE)
    for (x, y), want in zip(bar_centres(*SIZE), BAR_RGB, strict=True):
        colour = image.pixelColor(x0 + x * w // SIZE[0], y0 + y * h // SIZE[1])
        got = (colour.red(), colour.green(), colour.blue())
        assert all(abs(g - v) <= TOLERANCE for g, v in zip(got, want, strict=True)), (conversion, got, want)


def test_pictures_pushed_faster_than_painted_are_skipped_not_queued(make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window()  # not shown: nothing is painted, the slot keeps the newest
    pictures = _pictures(3)
    for n, frame in enumerate(pictures):
        window.sink.push(Picture(frame, 0, n, 0))
    stats = window.stats
    assert (stats.received, stats.skipped, stats.presented) == (len(pictures), len(pictures) - 1, 0)


def test_matrix_names_agree_with_the_shader() -> None:
    assert swscale_colorspace(1, 360) == "ITU709" and swscale_colorspace(5, 1080) == "ITU601"
    assert swscale_colorspace(2, 720) == "ITU709" and swscale_colorspace(2, 480) == "ITU601"  # unspecified: by size
    assert swscale_colorspace(9, 2160) == "BT2020"
    full, _ = colour_conversion(1, 2, 720)
    assert abs(float(full[0][2]) - 2 * (1 - 0.2126)) < 1e-6  # Cr -> R of BT.709
