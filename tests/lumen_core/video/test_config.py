"""The video plane's configuration: what M3 refuses is refused before a packet exists."""

from __future__ import annotations

import pytest
from video_wire import KEY

from lumen_core.fec import GF8
from lumen_core.video import Packetizer, VideoConfig
from lumen_core.video.config import ConfigError


def test_packetizer_refuses_configs_m3_refuses() -> None:
    with pytest.raises(ConfigError, match="ceiling of 255"):
        Packetizer(VideoConfig(scheme=GF8, max_data_per_block=250, percent=15, key=KEY))
    with pytest.raises(ConfigError, match="non-zero session key"):
        Packetizer(VideoConfig(encrypt=True, key=bytes(16)))
