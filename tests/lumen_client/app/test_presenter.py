"""The GL presenter on a real context (Xvfb, Mesa): both ways it converts a picture to
RGB (the shader, and libswscale with a blit for software rasterisers) show the pattern's
colours the right way up, at the picture's own size and scaled into a larger window;
the slot wakes the window from empty to full only and counts what it skips; a picture
counts as presented when its swap returns."""

from __future__ import annotations

import numpy as np
import pytest
from desktop_app import TOLERANCE, delete_now, pattern_pictures
from lumen_host.pattern import BAR_RGB, bar_centres

from lumen_client.app.presenter import colour_conversion, letterbox, swscale_colorspace
from lumen_client.pipeline import Picture
from lumen_core.band import read_band

SIZE = (640, 360)


@pytest.fixture
def make_window(xvfb_display: str, qtbot):  # type: ignore[no-untyped-def]
    """VideoWindows deleted on this (the GUI) thread when the test ends (delete_now)."""
    from lumen_client.app.presenter import VideoWindow

    made: list[VideoWindow] = []

    def make() -> VideoWindow:
        made.append(VideoWindow())
        return made[-1]

    yield make
    delete_now(*made)


def _assert_shows(window, last: int) -> None:  # type: ignore[no-untyped-def]
    """The window's framebuffer shows the pattern's bars, letterboxed, the right way up,
    and its band says picture ``last``."""
    image = window.grabFramebuffer()
    x0, y0, w, h = letterbox(image.width(), image.height(), *SIZE)
    for (x, y), want in zip(bar_centres(*SIZE), BAR_RGB, strict=True):
        colour = image.pixelColor(x0 + x * w // SIZE[0], y0 + y * h // SIZE[1])
        got = (colour.red(), colour.green(), colour.blue())
        assert all(abs(g - v) <= TOLERANCE for g, v in zip(got, want, strict=True)), (got, want)
    if y0:
        assert image.pixelColor(x0 + w // 2, y0 // 2).value() == 0  # the bar above the picture is black
    if x0:
        assert image.pixelColor(x0 // 2, y0 + h // 2).value() == 0  # and the one beside it
    rgb = image.convertToFormat(image.Format.Format_RGB888)
    pixels = np.frombuffer(rgb.constBits(), dtype=np.uint8).reshape(rgb.height(), rgb.bytesPerLine())
    rows, columns = np.linspace(y0, y0 + h - 1, SIZE[1]).astype(int), np.linspace(x0, x0 + w - 1, SIZE[0]).astype(int)
    luma = pixels[rows][:, 3 * columns]  # red: the band is black and white
    assert read_band(luma) == (last, last)


@pytest.mark.parametrize("conversion", ["shader", "cpu"])
@pytest.mark.parametrize("scale", [1, 2])
def test_the_pattern_shows_its_colours(make_window, qtbot, monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
                                       conversion: str, scale: int) -> None:
    from lumen_client.app.presenter import CONVERSION_ENV

    monkeypatch.setenv(CONVERSION_ENV, conversion)
    window = make_window()
    window.resize(SIZE[0] * scale, SIZE[1] * scale + 40)  # taller than the picture: letterboxed
    window.show()
    qtbot.waitUntil(window.isExposed, timeout=10_000)
    shown: list[tuple[Picture, int]] = []
    window.on_presented = lambda picture, at: shown.append((picture, at))
    pictures = pattern_pictures(5)
    for n, frame in enumerate(pictures[:4]):
        window.sink.push(Picture(frame, 0, n, 0))
        qtbot.waitUntil(lambda n=n: len(shown) > n, timeout=10_000)
    assert window.cpu_conversion == (conversion == "cpu")
    assert [p.frame_index for p, _ in shown] == list(range(4))
    last = shown[-1][0].frame
    if conversion == "cpu":  # converted at the size the window shows it
        assert (last.format.name, last.width, last.height) == ("bgra", SIZE[0] * scale, SIZE[1] * scale)
    else:
        assert (last.format.name, last.width, last.height) == ("yuv420p", *SIZE)
    _assert_shows(window, 3)

    # Resized: the picture already converted is shown scaled, the next one at the new size.
    window.resize(SIZE[0] * 3 // 2 + 30, SIZE[1] * 3 // 2)

    def repainted() -> None:
        # Mesa sees an X window's new size some paints after Qt does (Xvfb answers in its
        # own time): until then a paint draws into the old buffer.
        window.update()
        _assert_shows(window, 3)

    qtbot.waitUntil(repainted, timeout=10_000)
    window.sink.push(Picture(pictures[4], 0, 4, 0))
    qtbot.waitUntil(lambda: len(shown) == 5, timeout=10_000)
    if conversion == "cpu":
        assert (shown[-1][0].frame.width, shown[-1][0].frame.height) == (SIZE[0] * 3 // 2, SIZE[1] * 3 // 2)
    _assert_shows(window, 4)


def test_pictures_pushed_faster_than_painted_are_skipped_not_queued(make_window) -> None:  # type: ignore[no-untyped-def]
    window = make_window()  # not shown: nothing is painted, the slot keeps the newest
    pictures = pattern_pictures(3)
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
