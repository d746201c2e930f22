"""The desktop client's settings: what is saved is what loads back, the saved hosts in order."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

from lumen_client.app.settings import SavedHost, Settings


def ini(path: Path) -> QSettings:
    return QSettings(str(path), QSettings.Format.IniFormat)


def test_a_fresh_store_gives_moonlights_defaults(tmp_path: Path) -> None:
    s = Settings.load(ini(tmp_path / "s.ini"))
    assert (s.width, s.height, s.fps, s.bitrate_kbps, s.codec, s.decoder) == (1920, 1080, 60, 0, "h264", "auto")
    assert s.vsync and s.gamepads and not s.fullscreen and s.hosts == []


def test_what_is_saved_loads_back(tmp_path: Path) -> None:
    s = Settings.load(ini(tmp_path / "s.ini"))
    s.width, s.height, s.fps, s.bitrate_kbps, s.codec, s.decoder = 1280, 720, 120, 30_000, "hevc", "software"
    s.audio_device, s.gamepads, s.fullscreen, s.vsync = "pulse", False, True, False
    s.hosts = [SavedHost("den", "10.0.0.2:9777", mac="aa:bb:cc:dd:ee:ff", paired=True), SavedHost("attic", "attic")]
    s.save()
    again = Settings.load(ini(tmp_path / "s.ini"))  # a new QSettings reads the file, not a cache
    assert {k: v for k, v in vars(again).items() if k != "store"} == {k: v for k, v in vars(s).items() if k != "store"}


def test_touching_a_host_dates_its_last_stream(tmp_path: Path) -> None:
    s = Settings.load(ini(tmp_path / "s.ini"))
    s.hosts = [SavedHost("den", "den"), SavedHost("attic", "attic")]
    s.touch("attic")
    loaded = Settings.load(ini(tmp_path / "s.ini")).hosts
    assert loaded[0].last_seen == "" and len(loaded[1].last_seen) == 10  # an ISO date
