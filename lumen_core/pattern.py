"""The synthetic test pattern's contract: what the host draws, what a client can read.

Frames are YUV 4:2:0 (BT.709 limited range, as the encoder is told). From the top:

- the **band**: rows of 16 x 16 cells (width // 16 to a row) carrying 96 bits, most
  significant first, row by row: u32 frame number then u64 capture time (the frame's
  pts: the host's wall clock, UNIX-epoch ns). A cell is
  white (Y 235) for 1 and black (Y 16) for 0; 16-pixel cells survive any sane bitrate.
- **colour bars**: eight bars of 75% colour (white, yellow, cyan, green, magenta, red,
  blue, black) from the band down to three quarters of the height;
- **motion**: below the bars a grey ramp with a white box that moves 8 px a frame, so
  the encoder has real motion to code.

The frame must be at least 256 x 144 pixels.
"""

from __future__ import annotations

from typing import Final

import numpy as np

CELL: Final = 16
BAND_BITS: Final = 96
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


def bits_per_row(width: int) -> int:
    return width // CELL


def bars_top(width: int) -> int:
    """First row below the band."""
    return -(-BAND_BITS // bits_per_row(width)) * CELL


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


def draw_band(luma: np.ndarray, number: int, capture_ns: int, *, clear: bool = True) -> None:
    """Write the band (frame number, capture time) into a luma plane (rows x columns);
    ``clear``: paint its 0 cells black too (False where they are black already)."""
    w = luma.shape[1]
    bits = (number & 0xFFFFFFFF) << 64 | (capture_ns & 0xFFFFFFFFFFFFFFFF)
    per_row = bits_per_row(w)
    if clear:
        luma[: bars_top(w)] = 16
    for i in range(BAND_BITS):
        if bits >> (BAND_BITS - 1 - i) & 1:
            row, col = divmod(i, per_row)
            luma[row * CELL : (row + 1) * CELL, col * CELL : (col + 1) * CELL] = 235


def read_band(luma: np.ndarray) -> tuple[int, int]:
    """(frame number, pts ns) from a decoded picture's luma plane (rows x columns)."""
    per_row = bits_per_row(luma.shape[1])
    bits = 0
    for i in range(BAND_BITS):
        row, col = divmod(i, per_row)
        cell = luma[row * CELL + 4 : (row + 1) * CELL - 4, col * CELL + 4 : (col + 1) * CELL - 4]
        bits = bits << 1 | int(cell.mean() > 125)
    return bits >> 64, bits & 0xFFFFFFFFFFFFFFFF
