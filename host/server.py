"""The host's accept loop: one QUIC endpoint serving sessions back to back.

Connections are accepted concurrently (each has its own handshake deadline); at most
one of them streams at a time, holding the slot from Hello to teardown. After
``max_sessions`` streamed sessions (0 = no limit) the host stops. A session that fails
is logged and the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from aioquic.asyncio import serve

from lumen_core.control import GoodbyeCode
from lumen_core.identity import Identity
from lumen_core.net.quic import server_configuration

from .audio import AudioSource
from .pads import PadSink, make_pad_sink
from .session import HostSession

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HostOptions:
    bind: str = "127.0.0.1"
    port: int = 48100
    video_port: int = 48101
    max_sessions: int = 0
    width: int = 1280
    height: int = 720
    fps: int = 60
    bitrate_kbps: int = 20_000
    codec: str = "h264"
    source: str = "pattern"
    fec_parity: int = 20
    max_datagram: int = 1400
    rumble_test: bool = False
    stats_json: Path | None = None
    host_name: str = "lumen host"
    pace_mbps: int = 1000


class HostServer:
    def __init__(self, options: HostOptions, identity: Identity, audio_source: AudioSource) -> None:
        self.options = options
        self.identity = identity
        self.audio_source = audio_source
        self.pad_sink: PadSink | None = None
        self._active: HostSession | None = None
        self._sessions_done = 0
        self._results: list[dict[str, object]] = []
        self._done = asyncio.Event()

    # -- the streaming slot ---------------------------------------------------

    async def acquire(self, session: HostSession) -> bool:
        """Give ``session`` the streaming slot. A previous client that went silent is
        ended first (and its teardown awaited, so its video port is free); a live one
        keeps the slot and the newcomer is refused."""
        active = self._active
        if active is not None and active is not session:
            if not active.stale():
                return False
            active.end(GoodbyeCode.TIMEOUT, "replaced: client went silent")
            for _ in range(100):
                if self._active is not active:
                    break
                await asyncio.sleep(0.05)
            if self._active is not None:
                return False
        self._active = session
        return True

    def release(self, session: HostSession, result: dict[str, object]) -> None:
        if self._active is session:
            self._active = None
        self._sessions_done += 1
        self._results.append(result)
        if self.options.stats_json is not None:
            self.options.stats_json.write_text(json.dumps(self._results, indent=2))
        if self.options.max_sessions and self._sessions_done >= self.options.max_sessions:
            self._done.set()

    # -- running ----------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._done.set)
        self.pad_sink = make_pad_sink(lambda pad, low, high: loop.call_soon_threadsafe(self._rumble, pad, low, high))
        log.info("gamepads go to the %s sink", self.pad_sink.name)
        server = await serve(
            self.options.bind, self.options.port,
            configuration=server_configuration(self.identity),
            create_protocol=partial(HostSession, host=self),
        )
        log.info("listening on %s udp/%d (QUIC) and udp/%d (video)", self.options.bind, self.options.port,
                 self.options.video_port)
        try:
            await self._done.wait()
        finally:
            active = self._active
            if active is not None:
                active.end(GoodbyeCode.NORMAL, "host is shutting down")
                for _ in range(50):  # let its teardown join the media threads
                    if self._active is None:
                        break
                    await asyncio.sleep(0.1)
            server.close()
            self.pad_sink.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _rumble(self, pad: int, low: int, high: int) -> None:
        if self._active is not None:
            self._active.set_rumble(pad, low, high)
