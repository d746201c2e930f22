"""A source that looks like real content to an encoder: ``--source scene``.

The test pattern is flat colour: it compresses to well under a megabit whatever the
bitrate, so every frame is a datagram or two, and FEC, pacing and loss behave nothing
like they do with a desktop or a game. The scene is a detailed picture (noise over
several octaves, hard-edged shapes, fine stripes) twice the frame's size, panned in a
slow Lissajous figure, with a film grain that changes every frame: the encoder finds
motion to predict and detail it cannot, so its output follows ``--bitrate`` (20 Mbit/s
at 1280x720@60 gives keyframes of a few hundred kB), as real content does. The band of
lumen_core.band still carries the frame number and capture time.
"""

from __future__ import annotations

from typing import Final

import av
import numpy as np

from lumen_core.band import draw_band

from .pattern import MIN_HEIGHT, MIN_WIDTH

GRAIN: Final = 24  # the grain's peak-to-peak amplitude, in luma steps
GRAIN_FRAMES: Final = 8  # distinct grain fields, cycled at shifting offsets


def _octaves(rng: np.random.Generator, h: int, w: int, sizes: tuple[int, ...]) -> np.ndarray:
    """Value noise: random grids of each cell size, blown up and summed (0..1)."""
    out = np.zeros((h, w), dtype=np.float32)
    for size in sizes:
        grid = rng.random((h // size + 2, w // size + 2), dtype=np.float32)
        layer = np.repeat(np.repeat(grid, size, axis=0), size, axis=1)[:h, :w]
        out += layer / len(sizes)
    return out


class SceneVideo:
    def __init__(self, width: int, height: int, seed: int = 7) -> None:
        if width < MIN_WIDTH or height < MIN_HEIGHT or width % 2 or height % 2:
            raise ValueError(f"the scene needs an even size of at least {MIN_WIDTH}x{MIN_HEIGHT}")
        self.width, self.height = width, height
        rng = np.random.default_rng(seed)
        th, tw = height * 2, width * 2
        luma = _octaves(rng, th, tw, (2, 5, 16, 64, 256)) * 180 + 16
        for _ in range(120):  # hard edges: what text and windows give an encoder
            y0, x0 = int(rng.integers(0, th - 8)), int(rng.integers(0, tw - 8))
            luma[y0 : y0 + int(rng.integers(4, 120)), x0 : x0 + int(rng.integers(4, 200))] = rng.integers(16, 200)
        luma[:, ::7] += 25  # fine stripes
        # Room for the grain on top: values stay within 16..235 after adding it.
        self._luma = np.clip(luma, 16, 235 - GRAIN).astype(np.uint8)
        self._cb = np.clip(_octaves(rng, th // 2, tw // 2, (4, 32, 128)) * 120 + 68, 16, 240).astype(np.uint8)
        self._cr = np.clip(_octaves(rng, th // 2, tw // 2, (4, 32, 128)) * 120 + 68, 16, 240).astype(np.uint8)
        self._grain = rng.integers(0, GRAIN, (GRAIN_FRAMES, height + 16, width + 16), dtype=np.uint8)
        self._planes = np.empty(width * height * 3 // 2, dtype=np.uint8)

    def _offset(self, number: int) -> tuple[int, int]:
        t = number / 60
        x = (1 + np.sin(t * 0.9)) / 2 * (self.width - 2)
        y = (1 + np.sin(t * 1.3 + 1)) / 2 * (self.height - 2)
        return int(y) & ~1, int(x) & ~1

    def planes(self, number: int, pts_ns: int) -> np.ndarray:
        """The I420 bytes of frame ``number`` (a reused buffer)."""
        w, h = self.width, self.height
        oy, ox = self._offset(number)
        buf = self._planes
        y = buf[: w * h].reshape(h, w)
        grain = self._grain[number % GRAIN_FRAMES]
        gy, gx = (number * 5) % 16, (number * 3) % 16
        np.add(self._luma[oy : oy + h, ox : ox + w], grain[gy : gy + h, gx : gx + w], out=y)
        buf[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)[:] = self._cb[oy // 2 : oy // 2 + h // 2,
                                                                           ox // 2 : ox // 2 + w // 2]
        buf[w * h * 5 // 4 :].reshape(h // 2, w // 2)[:] = self._cr[oy // 2 : oy // 2 + h // 2,
                                                                    ox // 2 : ox // 2 + w // 2]
        draw_band(y, number, pts_ns)
        return buf

    def grab(self, number: int, pts_ns: int) -> av.VideoFrame:
        frame = av.VideoFrame.from_ndarray(self.planes(number, pts_ns).reshape(self.height * 3 // 2, self.width),
                                           format="yuv420p")
        frame.colorspace = av.video.reformatter.Colorspace.ITU709
        frame.color_range = av.video.reformatter.ColorRange.MPEG
        return frame

    def close(self) -> None:
        pass
