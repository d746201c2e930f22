"""The test pattern's band: a frame number and a capture time drawn into the picture, so
whoever decodes it (a test, a latency probe) can read back which frame it is and when
the host captured it, whatever the transport did.

From the top of the luma plane: rows of 16 x 16 cells (width // 16 to a row) carrying
96 bits, most significant first, row by row: u32 frame number then u64 capture time
(the frame's pts: the host's wall clock, UNIX-epoch ns). A cell is white (Y 235) for 1
and black (Y 16) for 0; 16-pixel cells survive any sane bitrate.
"""

from __future__ import annotations

from typing import Final

import numpy as np

CELL: Final = 16
BAND_BITS: Final = 96


def bits_per_row(width: int) -> int:
    return width // CELL


def band_height(width: int) -> int:
    """Rows the band takes at this width."""
    return -(-BAND_BITS // bits_per_row(width)) * CELL


def draw_band(luma: np.ndarray, number: int, capture_ns: int, *, clear: bool = True) -> None:
    """Write the band (frame number, capture time) into a luma plane (rows x columns);
    ``clear``: paint its 0 cells black too (False where they are black already)."""
    w = luma.shape[1]
    bits = (number & 0xFFFFFFFF) << 64 | (capture_ns & 0xFFFFFFFFFFFFFFFF)
    per_row = bits_per_row(w)
    if clear:
        luma[: band_height(w)] = 16
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
