"""The host's settings (what ``lumen-host``'s command line sets), with no heavy imports."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from lumen_core.control.base import DEFAULT_PORT

if TYPE_CHECKING:
    from .replay import Recording

DEFAULT_VIDEO_PORT = 9778


@dataclass(frozen=True)
class HostOptions:
    bind: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    video_port: int = DEFAULT_VIDEO_PORT
    max_sessions: int = 0
    seconds: float = 0.0  # end each session after this long (0: when the client leaves)
    width: int = 1280
    height: int = 720
    fps: int = 60
    bitrate_kbps: int = 20_000
    codec: str = "h264"
    source: str = "pattern"  # pattern, scene, screen, m3-synthetic, replay (of ``recording``)
    frames: int = 300  # m3-synthetic: frames per session
    fec_parity: int = 20
    shard_payload: int = 1200
    max_data_per_block: int = 4096
    rumble_test: bool = False
    stats_json: Path | None = None
    host_name: str = "lumen host"
    pace_mbps: int = 1000
    encoders: Sequence[str] | None = None  # None: probe (hardware first)
    extensions: bool = True
    rate_control: bool = True  # extended mode: bitrate and FEC follow the client's reports
    advertise: bool = True  # announce the host on the LAN (mDNS/DNS-SD)
    allow_unpaired: bool = False  # serve clients that are not paired (and M3's, which cannot pair)
    require_pairing: bool = False  # even bound to loopback (other users of this machine reach it too)
    recording: Recording | None = None  # --replay: the stream sent instead of an encoder's

    @property
    def loopback(self) -> bool:
        """Bound to loopback: only this machine's clients can reach the host."""
        if self.bind == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.bind).is_loopback
        except ValueError:
            return False

    @property
    def pairing_required(self) -> bool:
        return self.require_pairing or (not self.loopback and not self.allow_unpaired)

    @property
    def bind_any(self) -> str:
        """The wildcard address of the bind address's family, for the video socket."""
        return "::" if ":" in self.bind else "0.0.0.0"
