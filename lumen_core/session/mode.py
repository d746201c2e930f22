"""What a session may do, as data: base mode is M3's protocol and nothing more; extended
mode is everything lumen adds (docs/protocol.md, "Extended mode"). The session state
machines consult these flags instead of branching on the peer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, slots=True)
class Mode:
    name: str
    extension_version: int  # 0: no extension block was exchanged
    messages: bool  # extended control messages after Start (Ping, Goodbye, StatsReport, ...)
    keyframe_requests: bool
    reliable_input: bool  # keys and mouse buttons on the control stream
    seq_pads: bool  # pad events and snapshots with sequence numbers (0xCB-0xCD)
    frame_timing: bool  # the host's per-frame processing time (0xCE)
    binds: bool  # client-to-host bind and keepalive datagrams on the video port
    parity_floor: int  # the fewest recovery shards the host sends a block (FEC percent > 0)
    auth: bool = False  # version 2: the client proves a key before the Welcome, and can pair

    @property
    def extended(self) -> bool:
        return self.extension_version > 0


BASE: Final = Mode("base", 0, False, False, False, False, False, False, 0)
EXTENDED_V1: Final = Mode("extended", 1, True, True, True, True, True, True, 2)
EXTENDED_V2: Final = Mode("extended", 2, True, True, True, True, True, True, 2, auth=True)
EXTENDED: Final = EXTENDED_V2  # what this implementation speaks


def negotiated(hello_version: int | None, welcome_version: int | None) -> Mode:
    """The mode both sides run: extended only if both announced a block."""
    if not hello_version or not welcome_version:
        return BASE
    version = min(hello_version, welcome_version)
    # Later versions are supersets of the ones this implementation knows.
    return EXTENDED_V2 if version >= 2 else EXTENDED_V1
