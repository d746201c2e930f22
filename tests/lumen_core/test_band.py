"""The band on its own: what draw_band writes, read_band reads back, at the sizes the
pattern allows and with the values' extremes, and whatever it draws over."""

from __future__ import annotations

import numpy as np
import pytest

from lumen_core.band import BAND_BITS, CELL, band_height, draw_band, read_band


@pytest.mark.parametrize("width", [256, 640, 1920, 4096])
@pytest.mark.parametrize(("number", "capture_ns"), [(0, 0), (1, 1), (0xFFFFFFFF, 0xFFFFFFFFFFFFFFFF),
                                                    (123_456, 1_764_000_000_123_456_789)])
def test_what_is_drawn_is_read_back(width: int, number: int, capture_ns: int) -> None:
    luma = np.full((band_height(width) + 32, width), 200, dtype=np.uint8)  # not black: clear=True paints 0s
    draw_band(luma, number, capture_ns)
    assert read_band(luma) == (number, capture_ns)
    assert (luma[band_height(width):] == 200).all(), "the band stays in its rows"


def test_values_are_taken_modulo_their_width() -> None:
    luma = np.zeros((band_height(640), 640), dtype=np.uint8)
    draw_band(luma, 2**32 + 5, 2**64 + 7, clear=False)
    assert read_band(luma) == (5, 7)


def test_band_height_fits_the_bits() -> None:
    for width in (256, 640, 1280, 1920):
        rows = band_height(width) // CELL
        assert rows * (width // CELL) >= BAND_BITS > (rows - 1) * (width // CELL)
