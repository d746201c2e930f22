"""The host's test pattern: what it draws when there is no screen to capture.

Frames are YUV 4:2:0 (BT.709 limited range, as the encoder is told). From the top:

- the **band** (lumen_core/band.py: the frame number and capture time, which a client
  or a test reads back from the decoded picture);
- **colour bars**: eight bars of 75% colour (white, yellow, cyan, green, magenta, red,
  blue, black) from the band down to three quarters of the height;
- **motion**: below the bars a grey ramp with a white box that moves 8 px a frame, so
  the encoder has real motion to code.

The frame must be at least 256 x 144 pixels.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from lumen_core.band import band_height, draw_band

MIN_WIDTH: Final = 256
MIN_HEIGHT: Final = 144

# 75% bars as (R, G, B) and their BT.709 limited-range YCbCr.
BAR_RGB: Final = (
    (191, 191, 191), (191, 191, 0), (0, 191, 191), (0, 191, 0),
    (191, 0, 191), (191, 0, 0), (0, 0, 191), (0, 0, 0),
)


def rgb_to_ycbcr709(r: float, g: float, b: float) -> tuple[int, int, int]:
    r, g, b = r / 255, g / 255, b / 255
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    cb = (b - y) / 1.8556
    cr = (r - y) / 1.5748
    return round(16 + 219 * y), round(128 + 224 * cb), round(128 + 224 * cr)


def bars_top(width: int) -> int:
    """First row below the band."""
    return band_height(width)


def bars_bottom(height: int) -> int:
    return (height * 3 // 4) & ~1


def bar_centres(width: int, height: int) -> list[tuple[int, int]]:
    """(x, y) of the middle of each colour bar, to sample a presented picture."""
    bar_w = width // 8
    y = (bars_top(width) + bars_bottom(height)) // 2
    return [(i * bar_w + bar_w // 2, y) for i in range(8)]


class PatternSource:
    """Draws frames into preallocated planes (the host calls it once per frame)."""

    def __init__(self, width: int, height: int) -> None:
        if width < MIN_WIDTH or height < MIN_HEIGHT or width % 2 or height % 2:
            raise ValueError(f"test pattern needs an even size of at least {MIN_WIDTH}x{MIN_HEIGHT}")
        self.width, self.height = width, height
        self._background = self._draw_background()
        self._frame = self._background.copy()

    def _draw_background(self) -> np.ndarray:
        w, h = self.width, self.height
        buf = np.empty(w * h * 3 // 2, dtype=np.uint8)
        y = buf[: w * h].reshape(h, w)
        u = buf[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
        v = buf[w * h * 5 // 4 :].reshape(h // 2, w // 2)
        y[:], u[:], v[:] = 16, 128, 128
        top, bottom = bars_top(w), bars_bottom(h)
        bar_w = w // 8
        for i, rgb in enumerate(BAR_RGB):
            yy, cb, cr = rgb_to_ycbcr709(*rgb)
            x0, x1 = i * bar_w, (i + 1) * bar_w if i < 7 else w
            y[top:bottom, x0:x1] = yy
            u[top // 2 : bottom // 2, x0 // 2 : x1 // 2] = cb
            v[top // 2 : bottom // 2, x0 // 2 : x1 // 2] = cr
        ramp = np.linspace(16, 235, w).astype(np.uint8)
        y[bottom:, :] = ramp
        return buf

    def frame(self, number: int, capture_ns: int) -> np.ndarray:
        """The I420 bytes of frame ``number`` (a reused buffer: copy it to keep it)."""
        w, h = self.width, self.height
        buf = self._frame
        buf[:] = self._background
        y = buf[: w * h].reshape(h, w)
        draw_band(y, number, capture_ns, clear=False)
        bottom = bars_bottom(h)
        box = min(64, h - bottom)
        x = (number * 8) % max(1, w - box)
        y[bottom : bottom + box, x : x + box] = 235
        return buf
