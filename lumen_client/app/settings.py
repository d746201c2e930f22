"""The desktop client's settings and saved hosts, persisted with QSettings."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from PySide6.QtCore import QSettings

RESOLUTIONS = ((1280, 720), (1920, 1080), (2560, 1440), (3840, 2160))


@dataclass
class SavedHost:
    name: str
    address: str
    last_seen: str = ""  # ISO date of the last stream, "" if never
    mac: str = ""  # for Wake-on-LAN, "" if unknown
    paired: bool = False  # paired with a PIN (the pin in the trust store came from the pairing)


@dataclass
class Settings:
    store: QSettings
    width: int = 1920
    height: int = 1080
    fps: int = 60
    bitrate_kbps: int = 0  # 0: the host's default
    codec: str = "h264"
    decoder: str = "auto"
    audio_device: str = ""  # "": the system default
    gamepads: bool = True
    fullscreen: bool = False
    vsync: bool = True  # no tearing, at up to a refresh interval of latency (Moonlight's default)
    hosts: list[SavedHost] = field(default_factory=list)

    @classmethod
    def load(cls, store: QSettings | None = None) -> Settings:
        store = store or QSettings("lumen", "lumen-client")
        s = cls(store=store)
        for key in ("width", "height", "fps", "bitrate_kbps"):
            setattr(s, key, int(str(store.value(key, getattr(s, key)))))  # QSettings gives str or int back
        for key in ("codec", "decoder", "audio_device"):
            setattr(s, key, str(store.value(key, getattr(s, key))))
        for key in ("gamepads", "fullscreen", "vsync"):
            value = store.value(key, getattr(s, key))
            setattr(s, key, value in (True, "true", "1", 1))
        count = store.beginReadArray("hosts")
        for i in range(count):
            store.setArrayIndex(i)
            s.hosts.append(SavedHost(str(store.value("name", "")), str(store.value("address", "")),
                                     str(store.value("last_seen", "")), str(store.value("mac", "")),
                                     store.value("paired", False) in (True, "true", "1", 1)))
        store.endArray()
        return s

    def save(self) -> None:
        store = self.store
        for key in ("width", "height", "fps", "bitrate_kbps", "codec", "decoder", "audio_device", "gamepads",
                    "fullscreen", "vsync"):
            store.setValue(key, getattr(self, key))
        store.beginWriteArray("hosts", len(self.hosts))
        for i, host in enumerate(self.hosts):
            store.setArrayIndex(i)
            store.setValue("name", host.name)
            store.setValue("address", host.address)
            store.setValue("last_seen", host.last_seen)
            store.setValue("mac", host.mac)
            store.setValue("paired", host.paired)
        store.endArray()
        store.sync()

    def touch(self, address: str) -> None:
        for host in self.hosts:
            if host.address == address:
                host.last_seen = datetime.date.today().isoformat()
        self.save()
