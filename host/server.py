"""The host's accept loop: one QUIC endpoint serving sessions back to back.

Connections are accepted concurrently (each has its own handshake deadline); at most
one of them streams at a time, holding the slot from its Hello to its teardown: a
newcomer meanwhile is refused as busy (M3's host leaves it waiting unanswered instead).
After ``max_sessions`` streamed sessions (0 = no limit) the host stops. A session that
fails is logged and the loop keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from collections import deque
from dataclasses import dataclass, field
from functools import partial

from aioquic.asyncio import serve

from lumen_core.control import EXTENSION_VERSION, GoodbyeCode, Hello
from lumen_core.fec import GF8, GF16
from lumen_core.fec.gf16 import load_leopard
from lumen_core.identity import Identity
from lumen_core.net.discovery import Advertiser
from lumen_core.net.quic import enlarge_socket_buffers, server_configuration
from lumen_core.session import HostOffer
from lumen_core.session.events import HelloReceived

from .audio import AudioSource
from .input import InputSink, make_input_sink
from .options import HostOptions
from .pads import PadSink, make_pad_sink
from .pairing import ClientRegistry, ClientsError, PairingGate, PinFile
from .session import HostConnection

log = logging.getLogger(__name__)

# How long a newcomer waits for an ending session to let go of the streaming slot.
TAKEOVER_WAIT_S = 5.0
# How often the clients file is checked for a revocation (``lumen-host clients revoke``).
REVOCATION_CHECK_S = 0.25
# Session summaries kept for --stats-json: a host that runs for months keeps the latest.
STATS_SESSIONS_KEPT = 1000


@dataclass
class HostServer:
    options: HostOptions
    identity: Identity
    audio_source: AudioSource
    pad_sink: PadSink = field(init=False)
    input_sink: InputSink = field(init=False)
    # The wall clock minus the monotonic one: every pts is the wall clock (as M3's).
    wall_offset_ns: int = field(default_factory=lambda: time.time_ns() - time.monotonic_ns())

    def __post_init__(self) -> None:
        self._active: HostConnection | None = None
        self._sessions_done = 0
        self._results: deque[dict[str, object]] = deque(maxlen=STATS_SESSIONS_KEPT)
        self._done = asyncio.Event()
        state = self.identity.key_path.parent
        self.clients = ClientRegistry(state)
        self.pins = PinFile(state)
        self.pairing_gate = PairingGate()
        # GF(2^16) as M3's host offers it; GF(2^8) where the Leopard binding is missing.
        self._scheme = GF16 if load_leopard() is not None else GF8
        if self._scheme == GF8:
            log.warning("reed-solomon-leopard is not installed: offering GF(2^8) FEC instead of M3's GF(2^16)")

    # -- what every client is offered -----------------------------------------------

    def offer(self, video_port: int | None = None) -> HostOffer:
        opts = self.options
        other = "hevc" if opts.codec == "h264" else "h264"
        # A recording is in one codec: only that one is offered.
        codecs = (opts.codec,) if opts.recording is not None else (opts.codec, other)
        mdpb = opts.max_data_per_block
        if self._scheme == GF8:
            # GF(2^8) blocks hold at most 255 shards with their parity.
            mdpb = min(mdpb, 255 * 100 // (100 + opts.fec_parity))
        return HostOffer(
            video_port=opts.video_port if video_port is None else video_port,
            codecs=codecs, base_codec="hevc", fec_scheme=self._scheme, fec_percent=opts.fec_parity,
            max_data_per_block=mdpb, shard_payload=opts.shard_payload,
            frames=opts.frames if opts.source == "m3-synthetic" else 0, host_name=opts.host_name,
            bitrate_kbps=opts.bitrate_kbps, extensions=opts.extensions, fingerprint=self.identity.fingerprint,
        )

    def admission_problem(self, hello: HelloReceived) -> str | None:
        """Why this client may not stream here (pairing policy), or None if it may."""
        if not self.options.pairing_required:
            return None
        if hello.client_key is not None and self.clients.authorized(hello.client_key) is not None:
            return None
        name = self.options.host_name
        return f"this client is not paired with {name}; run lumen-client pair {name}"

    def choose_mode(self, hello: Hello) -> tuple[int, int, int]:
        """The mode to stream: the client's, as M3's host echoes it, within --size and --fps
        (the M3 synthetic source echoes it exactly: it has no pictures to scale)."""
        opts = self.options
        if opts.source == "m3-synthetic":
            return hello.width, hello.height, hello.refresh_hz
        if opts.recording is not None:  # its pictures are the size they were recorded at
            return opts.recording.width, opts.recording.height, max(1, min(hello.refresh_hz or opts.fps, opts.fps))
        scale = min(1.0, opts.width / hello.width, opts.height / hello.height)
        width = max(256, int(hello.width * scale)) & ~1
        height = max(144, int(hello.height * scale)) & ~1
        return width, height, max(1, min(hello.refresh_hz or opts.fps, opts.fps))

    # -- the streaming slot ---------------------------------------------------------

    async def acquire(self, connection: HostConnection) -> bool:
        """Give ``connection`` the streaming slot if nobody holds it. A session that is
        ending, or whose client has gone silent (vanished without a goodbye, or cut
        off), does not hold it against a newcomer: the newcomer waits for its teardown."""
        active = self._active
        if active is not None and active is not connection:
            if not (active.core.ended or active.core.peer_silent):
                return False
            if not active.core.ended:
                log.info("%s is silent and %s is asking: ending the silent session", active.client_name,
                         connection.client_name)
                active.end(error=True, reason="another client connected while this one was silent")
            for _ in range(int(TAKEOVER_WAIT_S / 0.05)):
                if self._active is None or connection.core.ended:
                    break
                await asyncio.sleep(0.05)
            if self._active is not None:
                return False
        self._active = connection
        return True

    def release(self, connection: HostConnection, result: dict[str, object]) -> None:
        if self._active is connection:
            self._active = None
        self._sessions_done += 1
        self._results.append(result)
        if self.options.stats_json is not None:
            self.options.stats_json.write_text(json.dumps(list(self._results), indent=2))
        if self.options.max_sessions and self._sessions_done >= self.options.max_sessions:
            self._done.set()

    # -- running ----------------------------------------------------------------------

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._done.set)
        self.pad_sink = make_pad_sink(lambda pad, low, high: loop.call_soon_threadsafe(self._rumble, pad, low, high))
        self.input_sink = make_input_sink()
        log.info("gamepads go to the %s sink; keyboard and mouse to the %s sink", self.pad_sink.name,
                 self.input_sink.name)
        server = await serve(
            self.options.bind, self.options.port,
            configuration=server_configuration(self.identity),
            create_protocol=partial(HostConnection, host=self),
        )
        transport = server._transport  # aioquic's server holds its transport privately
        assert transport is not None  # serve() returns bound
        enlarge_socket_buffers(transport)
        log.info("listening on %s udp/%d (QUIC) and udp/%d (video)", self.options.bind, self.options.port,
                 self.options.video_port)
        self._log_policy()
        advertiser = await self._advertise() if self.options.advertise else None
        watch = loop.create_task(self._watch_revocations())
        try:
            await self._done.wait()
        finally:
            watch.cancel()
            if advertiser is not None:
                await loop.run_in_executor(None, advertiser.close)
            active = self._active
            if active is not None:
                active.end(reason="host is shutting down")
                for _ in range(50):  # let its teardown join the media threads
                    if self._active is None:
                        break
                    await asyncio.sleep(0.1)
            server.close()
            self.pad_sink.close()
            self.input_sink.close()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    def _log_policy(self) -> None:
        opts = self.options
        paired = len(self.clients.clients())
        if opts.pairing_required:
            log.info("pairing required: %d paired client(s); to pair one, run `lumen-host pair` on this machine and "
                     "type the PIN it prints into the client (`lumen-client pair HOST`)", paired)
        elif opts.loopback:
            log.info("bound to loopback: clients on this machine stream without pairing")
        else:
            log.warning("--allow-unpaired: any machine that reaches udp/%d can watch this host and send it input, "
                        "lumen M3's clients included; pair clients and drop the flag on a network you do not "
                        "control", opts.port)

    async def _watch_revocations(self) -> None:
        """End the session of a client whose pairing was revoked, at once."""
        while True:
            await asyncio.sleep(REVOCATION_CHECK_S)
            active = self._active
            if not self.options.pairing_required or active is None or active.client_key is None:
                continue
            try:
                # A stat per check: the file is parsed again only when it changed.
                if self.clients.authorized(active.client_key) is not None:
                    continue
                log.warning("%s's pairing was revoked: ending its session", active.client_name)
            except ClientsError as exc:  # a clients file that cannot be read fails closed
                log.error("%s: ending %s's session", exc, active.client_name)
            active.end(error=True, reason="this client's pairing was revoked on the host", code=GoodbyeCode.NOT_PAIRED)

    async def _advertise(self) -> Advertiser | None:
        """Announce the host on the LAN; a network that will not carry it is logged, not fatal."""
        opts = self.options
        try:
            advertiser = Advertiser(name=opts.host_name, bind=opts.bind, port=opts.port,
                                    fingerprint=self.identity.fingerprint,
                                    extension_version=EXTENSION_VERSION if opts.extensions else 0,
                                    pairing_required=opts.pairing_required)
            await asyncio.get_running_loop().run_in_executor(None, advertiser.start)
        except Exception as exc:  # zeroconf's errors are many (no multicast route, a name clash)
            log.warning("not announced on the LAN (mDNS): %s", exc)
            return None
        log.info("announced on the LAN as %r (_lumen._udp; --no-advertise turns it off)", advertiser.info.name)
        return advertiser

    def _rumble(self, pad: int, low: int, high: int) -> None:
        if self._active is not None:
            self._active.core.set_rumble(pad, low, high, self._active.now())
            self._active.drive()

