"""The decoder backends behind one interface: the order they are tried in and what each
says it used (tests/lumen_client/decode/test_hwaccel.py decodes on a device where there is one)."""

from __future__ import annotations

import pytest

from lumen_client.decode import open_decoder


def test_auto_falls_back_to_software_where_no_device_opens() -> None:
    decoder = open_decoder("h264", "auto")
    if decoder.device is not None:
        pytest.skip(f"this machine decodes on {decoder.device}: test_hwaccel.py covers it")
    assert decoder.in_use() == "software"  # FFmpeg lists devices (cuda here) that do not open
