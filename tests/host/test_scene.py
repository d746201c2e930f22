"""The scene source: moving content that costs an encoder what a desktop or a game does,
and still carries the band the client's latency probe reads."""

from __future__ import annotations

import av
import numpy as np
from lumen_host.scene import SceneVideo
from lumen_host.video import EncoderSettings, open_encoder

from lumen_core.band import read_band


def test_the_scene_follows_the_bitrate_and_carries_the_band() -> None:
    scene = SceneVideo(640, 360)
    encoder, _ = open_encoder(EncoderSettings("h264", 640, 360, 60, 4000))
    decoder = av.CodecContext.create("h264", "r")
    sizes, bands = [], []
    for n in range(120):
        frame = scene.grab(n, 1_000_000 + n)
        frame.pts = n
        packets = encoder.encode(frame)
        sizes.append(sum(p.size for p in packets))
        for packet in packets:
            for picture in decoder.decode(packet):
                bands.append(read_band(picture.to_ndarray(format="gray")))
    kbps = sum(sizes[60:]) * 8 / 1000  # the second second
    assert 2800 <= kbps <= 5200, kbps  # within a third of --bitrate 4000
    assert sizes[0] > 40_000  # a keyframe of real content, not a flat pattern's few kB
    assert bands[:5] == [(n, 1_000_000 + n) for n in range(5)]
    assert not np.array_equal(scene.planes(1, 0).copy(), scene.planes(2, 0)), "it moves"


def test_a_frame_is_the_size_asked_and_the_same_for_the_same_seed() -> None:
    a, b = SceneVideo(320, 180, seed=3), SceneVideo(320, 180, seed=3)
    frame = a.grab(4, 99)
    assert (frame.width, frame.height) == (320, 180)
    assert np.array_equal(a.planes(4, 99), b.planes(4, 99))
    assert not np.array_equal(SceneVideo(320, 180, seed=4).planes(4, 99), a.planes(4, 99))
    a.close()
    b.close()
