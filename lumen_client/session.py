"""A client session: connect, establish trust, stream, report.

``StreamSession`` owns the pieces of one session: the QUIC connection (control stream
and side planes on the asyncio loop, driven by the sans-IO lumen_core.session core),
the video socket, receiver and decoder (threads), audio, pads. The headless CLI, the
desktop client and ``--input-test`` all put it together with ``wiring.wire``: what it
produces goes to the sinks it is given, what the person does comes in through its typed
calls (any thread). ``run`` returns a ``SessionResult``.

It speaks to lumen's hosts in base mode (M3's protocol: the host's Welcome carries no
extension block) and to this project's host in extended mode; ``result.mode`` says which.

Trust (fail closed): with a pin, the host's fingerprint must equal it. Without one, a
stored pin must match; with neither, ``trust_first_use`` decides (the headless client
accepts and stores, the desktop client asks the person). A mismatch never falls back to
trust on first use.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import socket
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from aioquic.asyncio import connect
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from lumen_core.clock import ClockOffset
from lumen_core.control import GoodbyeCode, StatsReport
from lumen_core.control.base import DEFAULT_PORT
from lumen_core.datagrams import InputEvent
from lumen_core.errors import LumenError
from lumen_core.gamepad import PadState
from lumen_core.input import SCROLL_HORIZONTAL, Kind
from lumen_core.net.handoff import FrameQueue
from lumen_core.net.quic import SessionProtocol, client_configuration
from lumen_core.net.video import VideoReceiver, open_video_socket
from lumen_core.session import ClientOptions, ClientSession
from lumen_core.session.events import (
    AudioReceived,
    FrameTimingReceived,
    Paired,
    PeerReturned,
    PeerSilent,
    RateChanged,
    RumbleReceived,
    SessionEnded,
    Streaming,
)
from lumen_core.trust import format_fingerprint, pin_matches
from lumen_core.video import FrameReady

from .address import format_address
from .audio import AudioReceiver
from .decode.thread import DecoderThread
from .dial import DialTimeout, dial
from .pipeline import NO_SINKS, Rumble, Sinks
from .stats import HostTimes
from .trust_store import PinStore

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S: Final = 10.0
WELCOME_TIMEOUT_S: Final = 10.0
# A host that says it is busy is asked again this often, for this long from its first
# "busy", before giving up: its last client may be on its way out (gone without a
# goodbye, or just finishing). Counted from the answer, not the start: on a lossy link
# the connecting alone can take most of it.
BUSY_RETRY_S: Final = 0.5
BUSY_PATIENCE_S: Final = 6.0
# A handshake that stalls after QUIC connected (no Welcome, or the host's "no Start")
# is tried once more on a new connection.
HANDSHAKE_RETRIES: Final = 1
# The audio jitter buffer is asked for what is due this often (a packet is 5 ms).
AUDIO_TICK_S: Final = 0.004
# The host's rate changes kept for the stats (the latest).
RATE_CHANGES_KEPT: Final = 100


def _quiet_abandoned_connections(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """A connection attempt given up on (our own deadline) leaves aioquic's handshake
    future failed and unread: that is reported to the person already, not a bug to log."""
    if isinstance(context.get("exception"), ConnectionError) and "never retrieved" in context.get("message", ""):
        return
    loop.default_exception_handler(context)


class TrustError(Exception):
    """The host is not the one trusted: the message says why, for a person."""


class UnknownHost(TrustError):
    """No pin for this host, and the first-use decision was left to the person: the
    application asks, then connects again pinned to ``fingerprint`` if they accept."""

    def __init__(self, host: str, fingerprint: str) -> None:
        super().__init__(f"{host} is not trusted yet; its fingerprint is {format_fingerprint(fingerprint)}")
        self.host, self.fingerprint = host, fingerprint


class FingerprintChanged(TrustError):
    """A stored pin no longer matches: refused, never downgraded to first use."""

    def __init__(self, message: str, host: str, stored: str, observed: str) -> None:
        super().__init__(message)
        self.host, self.stored, self.observed = host, stored, observed


class SessionError(Exception):
    """The session could not be set up or ended in error; the message is for a person.
    ``code``: the host's Goodbye or close code, when it gave one."""

    def __init__(self, message: str, code: int | None = None, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after_s = retry_after_s


class NotPaired(SessionError):
    """The host requires pairing and does not know this client: pair with a PIN first."""

    def __init__(self, address: str) -> None:
        super().__init__(f"this client is not paired with {address}; run lumen-client pair {address}",
                         GoodbyeCode.NOT_PAIRED)
        self.address = address


@dataclass
class StreamOptions:
    host: str
    port: int = DEFAULT_PORT
    pin: str | None = None
    duration_s: float | None = None
    width: int = 1920
    height: int = 1080
    fps: int = 60
    codecs: tuple[str, ...] = ("h264", "hevc")
    decoder: str = "auto"
    bitrate_kbps: int | None = None  # None: the host's default
    extensions: bool = True  # False: speak M3's base protocol only, as lumen's own clients do
    client_name: str = field(default_factory=lambda: f"lumen-client on {platform.node()}"[:64])
    identity: Ed25519PrivateKey | None = None  # the client key a host that requires pairing knows
    pair_pin: str | None = None  # pair with the host using this PIN instead of streaming

    @property
    def address(self) -> str:
        """The host as a person would type it again."""
        return format_address(self.host, self.port)


@dataclass
class SessionResult:
    host_fingerprint: str = ""
    trusted_by: str = ""  # "pin", "stored pin", "first use" or "pairing"
    paired: bool = False  # a pairing connection succeeded (the host's fingerprint is now pinned)
    mode: str = ""  # "base" (an M3 host) or "extended"
    config: dict[str, Any] | None = None
    end_reason: str = ""
    error: bool = False  # the session died (the host vanished, a protocol error) instead of ending
    stats: dict[str, Any] = field(default_factory=dict)


class ClientConnection(SessionProtocol):
    def __init__(self, *args: Any, stream: StreamSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stream = stream

    def on_terminated(self, code: int, reason: str) -> None:
        self.stream.on_terminated(self, code, reason)


class StreamSession:
    def __init__(
        self,
        options: StreamOptions,
        trust_store: PinStore,
        trust_first_use: Callable[[str], bool | None],
        sinks: Sinks = NO_SINKS,
    ) -> None:
        self.options = options
        self._store = trust_store
        self._trust_first_use = trust_first_use
        self._sinks = sinks
        self._sinks_open = False
        self.result = SessionResult()
        self.core: ClientSession | None = None
        self._proto: ClientConnection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._streaming = asyncio.Event()
        self._ended = asyncio.Event()
        self._error: Exception | None = None
        self._video_socket: socket.socket | None = None
        self._receiver: VideoReceiver | None = None
        self._decoder: DecoderThread | None = None
        self._audio: AudioReceiver | None = None
        self._audio_clock: asyncio.Task[None] | None = None
        self._frames: FrameQueue[FrameReady] | None = None
        self.host_times = HostTimes()
        self.rumble_messages = 0
        self.rumble: dict[int, tuple[int, int]] = {}
        self.keyframes_wanted = 0  # asked for by the decoder (sent only in extended mode)
        self._started = 0.0
        self._first_audio: float | None = None
        self.busy_retries = 0
        self.handshake_retries = 0
        self.dials = 0  # QUIC attempts started, over every connection (lumen_client.dial)
        self._video_unread = 0  # video datagrams that came before any Welcome was accepted
        self.host_rate: tuple[int, int] | None = None  # the host's bitrate (kbit/s) and FEC %, as it last said
        self.rate_changes: deque[dict[str, Any]] = deque(maxlen=RATE_CHANGES_KEPT)
        self.outage_since: float | None = None  # monotonic time the host was last heard, during an outage

    # -- driving ---------------------------------------------------------------

    async def run(self) -> SessionResult:
        """Connect and stream until the duration ends, the host leaves, or stop(). A host
        that answers "busy" is asked again for BUSY_PATIENCE_S from its first "busy"."""
        self._loop = asyncio.get_running_loop()
        self._loop.set_exception_handler(_quiet_abandoned_connections)
        opts = self.options
        # Bound before Hello: Start carries this port, and video may follow it at once.
        self._video_socket = open_video_socket(("::" if ":" in opts.host else "0.0.0.0", 0))
        give_up: float | None = None  # set by the first "busy"
        handshake_retries = HANDSHAKE_RETRIES
        try:
            while True:
                try:
                    await self._attempt()
                    break
                except SessionError as exc:
                    if exc.code == GoodbyeCode.TIMEOUT and handshake_retries:
                        # The host answered QUIC but the handshake stalled: on a lossy link a
                        # new connection starts with fresh retransmission timers.
                        handshake_retries -= 1
                        self.handshake_retries += 1
                        log.info("%s; connecting again", exc)
                        continue
                    if exc.code == GoodbyeCode.NOT_PAIRED:  # refused at the handshake; a revocation ends a stream
                        raise NotPaired(opts.address) from None
                    if exc.code != GoodbyeCode.HOST_BUSY:
                        raise
                    if give_up is None:
                        give_up = self._loop.time() + BUSY_PATIENCE_S
                    if self._loop.time() + BUSY_RETRY_S > give_up:
                        raise
                    log.info("%s is busy; asking again in %.1f s", opts.host, BUSY_RETRY_S)
                    self.busy_retries += 1
                    await asyncio.sleep(BUSY_RETRY_S)
        finally:
            if self._receiver is None and self._video_socket is not None:
                self._video_socket.close()
        return self.result

    async def _attempt(self) -> None:
        """One connection: handshake, trust, Hello, and the stream if it is welcomed."""
        opts = self.options
        assert self._video_socket is not None
        self._error = None
        self._streaming.clear()
        self._ended.clear()
        self.result = SessionResult()
        self.core = ClientSession(ClientOptions(
            width=opts.width, height=opts.height, refresh_hz=opts.fps,
            video_port=self._video_socket.getsockname()[1], codecs=opts.codecs,
            client_name=opts.client_name, bitrate_kbps=opts.bitrate_kbps, extensions=opts.extensions,
            handshake_timeout_s=WELCOME_TIMEOUT_S, wall_offset_ns=time.time_ns() - time.monotonic_ns(),
            identity=opts.identity, pair_pin=opts.pair_pin,
        ), stats_source=self._stats_report)
        self._proto = None
        try:
            connection = await dial(partial(connect, opts.host, opts.port, configuration=client_configuration(),
                                            create_protocol=partial(ClientConnection, stream=self)),
                                    CONNECT_TIMEOUT_S)
        except DialTimeout:
            raise SessionError(f"no answer from {opts.host}:{opts.port} within {CONNECT_TIMEOUT_S:.0f} s "
                               "(is lumen-host running there, and udp/" + f"{opts.port} open?)") from None
        except OSError as exc:
            raise SessionError(f"cannot reach {opts.host}:{opts.port}: {exc.strerror or exc}") from None
        except ConnectionError as exc:
            raise self._error or SessionError(f"connection to {opts.host}:{opts.port} failed: {exc}") from None
        self.dials += connection.attempts
        try:
            assert isinstance(connection.protocol, ClientConnection)  # create_protocol made it
            self._connected(connection.protocol)
            if self._error is not None:
                raise self._error
            await self._stream()
        finally:
            await self._teardown()
            await connection.close()
        if self._error is not None:
            raise self._error

    async def _stream(self) -> None:
        await asyncio.wait({asyncio.ensure_future(self._streaming.wait()), asyncio.ensure_future(self._ended.wait())},
                           return_when=asyncio.FIRST_COMPLETED)
        if not self._streaming.is_set():
            if self.result.paired:
                return
            raise self._error or SessionError(self.result.end_reason or "the host ended the session")
        self._started = time.monotonic()
        duration = self.options.duration_s
        if duration is None:
            await self._ended.wait()
        else:
            try:
                async with asyncio.timeout(duration):
                    await self._ended.wait()
            except TimeoutError:
                self.result.end_reason = "duration reached"
        core, proto = self.core, self._proto
        if core is not None and proto is not None and not core.ended:
            core.close(proto.now(), "client done")
            proto.drive()

    def stop(self) -> None:
        """Any thread: end the session."""
        self.call_soon(self._finish, "stopped by the user")

    def _finish(self, reason: str) -> None:
        if not self._ended.is_set():
            self.result.end_reason = self.result.end_reason or reason
            self._ended.set()

    async def _teardown(self) -> None:
        if self._audio_clock is not None:
            self._audio_clock.cancel()
        for part in (self._receiver, self._decoder):
            if part is not None:
                part.stop()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._join)
        if self._sinks_open:  # after the decoder's last picture: nothing is pushed after close
            self._sinks_open = False
            for sink in self._sinks.all():
                sink.close()
        if self._receiver is None:
            self._video_unread += self._drain_video_socket()
        self.result.stats = self.stats()

    def _drain_video_socket(self) -> int:
        """Datagrams that reached the video socket although no stream was welcomed."""
        sock, count = self._video_socket, 0
        if sock is None:
            return 0
        sock.setblocking(False)
        try:
            while True:
                sock.recv(65536)
                count += 1
        except OSError:  # BlockingIOError: empty; anything else: nothing more to read
            pass
        finally:
            sock.setblocking(True)
        return count

    def _join(self) -> None:
        for part in (self._receiver, self._decoder):
            if part is not None:
                part.join()

    # -- connection events (event loop thread) -------------------------------------

    def _connected(self, proto: ClientConnection) -> None:
        """The dial's winner: trust its certificate, then start the session on it."""
        self._proto = proto
        observed = proto.peer_fingerprint() or ""
        self.result.host_fingerprint = observed
        host_key = f"{self.options.host}:{self.options.port}"
        try:
            if self.options.pair_pin is not None:
                self.result.trusted_by = "pairing"  # the PIN exchange binds this fingerprint, or fails
            else:
                self._check_trust(host_key, observed)
        except (TrustError, LumenError, OSError) as exc:  # a broken trust store fails closed too
            self._error = exc if isinstance(exc, TrustError) else TrustError(str(exc))
            proto.close_now(GoodbyeCode.PROTOCOL_ERROR, "host not trusted")
            self._finish("host not trusted")
            return
        assert self.core is not None
        proto.attach(self.core, self._on_core_event)
        self.core.connect(proto.now(), observed)
        proto.drive()

    def on_terminated(self, proto: ClientConnection, code: int, reason: str) -> None:
        if proto is not self._proto:
            return  # an attempt that lost the dial, or the connection before a retry
        if self.core is None or self._proto.session is None:
            self._finish(reason or f"connection closed (code {code})")

    def _check_trust(self, host_key: str, observed: str) -> None:
        shown = format_fingerprint(observed)
        if self.options.pin is not None:
            if not pin_matches(self.options.pin, observed):
                raise TrustError(f"the host's fingerprint {shown} does not match --pin "
                                 f"{format_fingerprint(self.options.pin)}: refusing to connect")
            self.result.trusted_by = "pin"
            return
        stored = self._store.get(host_key)
        if stored is not None:
            if not pin_matches(stored, observed):
                raise FingerprintChanged(
                    f"WARNING: the fingerprint of {host_key} changed: stored {format_fingerprint(stored)}, "
                    f"host presented {shown}. Refusing to connect. If the host really was reinstalled, "
                    f"forget its pin (in {self._store.path}) and connect again.",
                    host_key, stored, observed,
                )
            self.result.trusted_by = "stored pin"
            return
        decision = self._trust_first_use(observed)
        if decision is None:
            raise UnknownHost(host_key, observed)
        if not decision:
            raise TrustError(f"the host's fingerprint {shown} was not accepted")
        self._store.put(host_key, observed)
        self.result.trusted_by = "first use"

    def _on_core_event(self, event: object) -> None:
        if isinstance(event, Streaming):
            self._configure(event)
        elif isinstance(event, Paired):
            try:
                self._store.put(f"{self.options.host}:{self.options.port}", event.host_fingerprint)
            except (LumenError, OSError) as exc:
                self._error = SessionError(f"paired, but the host's fingerprint could not be stored: {exc}")
            else:
                self.result.paired = True
        elif isinstance(event, AudioReceived):
            if self._audio is not None:
                if self._first_audio is None:
                    self._first_audio = time.monotonic()
                self._audio.receive(event.packet, self._loop.time() if self._loop else 0.0)
        elif isinstance(event, RumbleReceived):
            self.rumble_messages += 1
            self.rumble[event.pad] = (event.low, event.high)
            if self._sinks.rumble is not None:
                self._sinks.rumble.push(Rumble(event.pad, event.low, event.high))
        elif isinstance(event, FrameTimingReceived):
            self.host_times.put(event.frame_index, event.host_us)
        elif isinstance(event, RateChanged):
            self.host_rate = (event.bitrate_kbps, event.fec_percent)
            self.rate_changes.append({"kbps": event.bitrate_kbps, "fec_percent": event.fec_percent,
                                      "reason": event.reason})
        elif isinstance(event, PeerSilent):
            self.outage_since = time.monotonic() - event.silent_s
            log.warning("the host has not been heard for %.1f s; waiting up to %.0f s", event.silent_s,
                        event.grace_s)
        elif isinstance(event, PeerReturned):
            self.outage_since = None
            log.info("the host is back after %.1f s", event.outage_s)
        elif isinstance(event, SessionEnded):
            self.result.end_reason = self.result.end_reason or event.reason
            if event.error and not self._streaming.is_set():
                self._error = SessionError(event.reason, event.code, event.retry_after_s)
            elif event.error:
                self.result.error = True
            self._finish(event.reason)

    def _configure(self, event: Streaming) -> None:
        assert self._video_socket is not None and self._proto is not None and self.core is not None
        welcome, ext = event.welcome, event.extension
        self.result.mode = event.mode.name
        self.result.config = {
            "mode": event.mode.name, "codec": event.codec or "from the bitstream", "width": welcome.width,
            "height": welcome.height, "fps": welcome.refresh_hz,
            "fec": f"{'gf16' if welcome.fec_scheme else 'gf8'} {welcome.fec_percent} %",
            "shard_payload": welcome.shard_payload, "encrypted": welcome.encrypt, "video_port": welcome.udp_port,
            "client_video_port": self._video_socket.getsockname()[1],
            "host_name": ext.host_name if ext else None, "bitrate_kbps": ext.bitrate_kbps if ext else None,
        }
        peer = self._proto.peer_address()
        host_ip = peer[0] if peer else self.options.host
        frames: FrameQueue[FrameReady] = FrameQueue()
        self._frames = frames
        loop = self._loop
        assert loop is not None
        self._decoder = DecoderThread(
            event.codec, frames, self.core.clock, partial(loop.call_soon_threadsafe, self._request_keyframe),
            self._sinks.video, self.options.decoder, self.host_times,
            waits_for_host_keyframe=not event.mode.keyframe_requests,
        )
        self._receiver = VideoReceiver(self._video_socket, (host_ip, welcome.udp_port), event.video, frames,
                                       binds=event.mode.binds,
                                       on_heard=partial(loop.call_soon_threadsafe, self._video_heard),
                                       on_unreachable=partial(loop.call_soon_threadsafe, self._video_unreachable))
        for sink in self._sinks.all():
            sink.open()
        self._sinks_open = True
        self._audio = AudioReceiver(self._sinks.audio.push if self._sinks.audio is not None else None)
        self._audio_clock = loop.create_task(self._play_audio(self._audio))
        self._decoder.start()
        self._receiver.start()
        self._streaming.set()

    async def _play_audio(self, audio: AudioReceiver) -> None:
        """The audio clock: what the jitter buffer has due is played every AUDIO_TICK_S."""
        loop = asyncio.get_running_loop()
        while not self._ended.is_set():
            audio.poll(loop.time())
            await asyncio.sleep(AUDIO_TICK_S)

    def _video_heard(self) -> None:
        core, proto = self.core, self._proto
        if core is not None and proto is not None:
            core.heard(proto.now())
            proto.drive()

    def _video_unreachable(self) -> None:
        core, proto = self.core, self._proto
        if core is not None and proto is not None:
            core.unreachable(proto.now(), "its video port")
            proto.drive()

    def _request_keyframe(self) -> None:
        self.keyframes_wanted += 1
        core, proto = self.core, self._proto
        if core is not None and proto is not None:
            last = self._decoder.last_decoded if self._decoder is not None else None
            if core.request_keyframe(proto.now(), last):
                proto.drive()

    def _stats_report(self) -> StatsReport:
        rx, dec = self._receiver, self._decoder
        p50 = dec.decode_time.percentiles_ms() if dec else None
        return StatsReport(
            frames_received=rx.stats.frames_completed if rx else 0,
            frames_recovered=rx.stats.frames_recovered if rx else 0,
            frames_lost=(rx.order_stats.lost if rx else 0) + (dec.dropped if dec else 0),
            frames_decoded=dec.decoded if dec else 0,
            decode_time_us=int((p50["p50"] if p50 else 0) * 1000),
            keyframe_requests=self.core.keyframe_requests if self.core else 0,
            audio_packets=self._audio.packets if self._audio else 0,
            video_packets_expected=rx.stats.packets_expected if rx else 0,
            video_packets_received=rx.stats.packets_received - rx.stats.replayed if rx else 0,
            queue_delay_us=self.host_times.queue.interval_us(),
        )

    # -- what the person does (any thread) ---------------------------------------------

    def _act(self, action: Callable[[ClientSession, float], None]) -> None:
        """Run ``action`` on the event loop, if the session is streaming by then."""
        self.call_soon(self._act_now, action)

    def _act_now(self, action: Callable[[ClientSession, float], None]) -> None:
        core, proto = self.core, self._proto
        if core is not None and proto is not None and core.streaming:
            action(core, proto.now())
            proto.drive()

    def pad_arrived(self, pad: int, name: str) -> None:
        self._act(lambda core, now: core.pad_arrived(pad, name, now))

    def pad_removed(self, pad: int) -> None:
        self._act(lambda core, now: core.pad_removed(pad, now))

    def set_pad_state(self, pad: int, state: PadState) -> None:
        self._act(lambda core, now: core.set_pad(pad, state, now))

    def send_key(self, vk: int, down: bool) -> None:
        """A key by its Windows virtual-key code (lumen/1's key codes)."""
        if 0 < vk <= 0xFF:
            event = InputEvent(kind=Kind.KEY_DOWN if down else Kind.KEY_UP, code=vk)
            self._act(lambda core, now: core.send_input(event, now))

    def send_mouse_button(self, button: int, down: bool) -> None:
        """1 left, 2 middle, 3 right, 4 back (X1), 5 forward (X2)."""
        if 1 <= button <= 5:
            event = InputEvent(kind=Kind.MOUSE_BUTTON_DOWN if down else Kind.MOUSE_BUTTON_UP, code=button)
            self._act(lambda core, now: core.send_input(event, now))

    def send_mouse_motion(self, dx: int, dy: int) -> None:
        event = InputEvent(kind=Kind.MOUSE_MOVE, x=dx, y=dy)
        self._act(lambda core, now: core.send_input(event, now))

    def send_mouse_position(self, x: int, y: int, width: int, height: int) -> None:
        """The pointer at (x, y) of a width x height picture (absolute mouse)."""
        if width > 0 and height > 0:
            event = InputEvent(kind=Kind.MOUSE_MOVE_ABS, x=x, y=y, flags=(width << 16) | height)
            self._act(lambda core, now: core.send_input(event, now))

    def send_scroll(self, vertical: int, horizontal: int) -> None:
        """Wheel motion in 120ths of a detent: positive = up, positive = left."""
        for amount, code in ((vertical, 0), (horizontal, SCROLL_HORIZONTAL)):
            if amount:
                event = InputEvent(kind=Kind.MOUSE_SCROLL, code=code, x=amount)
                self._act(partial(_send_input, event))

    # -- facts for the overlay and the application (any thread) -----------------------

    @property
    def streaming(self) -> bool:
        return self._streaming.is_set()

    @property
    def connection(self) -> ClientConnection | None:
        """The QUIC connection of the attempt under way (diagnostics and tests)."""
        return self._proto

    @property
    def mode(self) -> str:
        return self.result.mode

    def counters(self) -> dict[str, int]:
        """Cheap running totals for a live overlay."""
        rx, dec = self._receiver, self._decoder
        return {
            "frames_received": rx.stats.frames_completed if rx else 0,
            "frames_decoded": dec.decoded if dec else 0,
            "frames_lost": (rx.order_stats.lost if rx else 0) + (dec.dropped if dec else 0),
            "frames_recovered": rx.stats.frames_recovered if rx else 0,
            "video_bytes": rx.stats.datagram_bytes if rx else 0,
        }

    @property
    def codec(self) -> str | None:
        """The codec being decoded: negotiated, or read from the bitstream (base mode)."""
        if self._decoder is not None and self._decoder.codec is not None:
            return self._decoder.codec
        return self.core.codec if self.core is not None else None

    @property
    def decoder_backend(self) -> str:
        return self._decoder.backend if self._decoder else "-"

    @property
    def waiting_for_keyframe(self) -> bool:
        """The picture is frozen until a keyframe arrives (after a loss, in base mode)."""
        return self._decoder.waiting_for_keyframe if self._decoder else False

    @property
    def clock(self) -> ClockOffset:
        """The host clock offset."""
        assert self.core is not None
        return self.core.clock

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Any thread: run ``fn`` on the session's event loop (dropped once it is over)."""
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:
                pass  # the loop closed in between: the session is over anyway

    # -- results -------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        rx, dec, audio, core = self._receiver, self._decoder, self._audio, self.core
        elapsed = time.monotonic() - self._started if self._started else 0.0
        audio_span = time.monotonic() - self._first_audio if self._first_audio else 0.0
        rtt = core.clock.rtt_ns if core else None
        out: dict[str, Any] = {
            "mode": self.result.mode,
            "duration_s": round(elapsed, 3),
            "decoder": dec.backend if dec else None,
            "codec": dec.codec if dec else None,
            "frames_received": rx.stats.frames_completed if rx else 0,
            "frames_decoded": dec.decoded if dec else 0,
            "frames_recovered": rx.stats.frames_recovered if rx else 0,
            "frames_lost": rx.order_stats.lost if rx else 0,  # never whole in time
            "frames_reordered": rx.order_stats.reordered if rx else 0,  # whole out of order, put back in it
            "frames_late": rx.order_stats.late if rx else 0,  # whole only after their turn was given up
            "frames_dropped": dec.dropped if dec else 0,  # complete, but no keyframe to decode them from
            "decode_errors": dec.errors if dec else 0,  # FFmpeg refused an access unit (a keyframe was asked for)
            "frames_skipped": self._frames.skipped if self._frames else 0,  # the decoder was behind
            "keyframe_requests": core.keyframe_requests if core else 0,
            "outages": list(core.outages) if core else [],
            "freezes": dec.freezes.summary(time.monotonic()) if dec else None,
            "busy_retries": self.busy_retries, "handshake_retries": self.handshake_retries,
            "dials": self.dials,
            "rate_changes": list(self.rate_changes),
            "keyframes_wanted": self.keyframes_wanted,
            "quic_datagrams_received": self._proto.quic_datagrams_received if self._proto else 0,
            "quic_datagrams_dropped": self._proto.quic_datagrams_dropped if self._proto else 0,  # aioquic's queue full
            "video": {
                "datagrams": rx.stats.datagrams if rx else self._video_unread,
                "bytes": rx.stats.datagram_bytes if rx else 0,
                "packets_received": rx.stats.packets_received if rx else 0,
                "packets_dropped": rx.stats.packets_dropped if rx else 0,
                "fec_recovered_shards": rx.stats.fec_recovered_shards if rx else 0,
                "late_shards": rx.stats.late_shards if rx else 0,  # rebuilt by FEC, then arrived after all
                "unauthentic": rx.stats.unauthentic if rx else 0,
                "replayed": rx.stats.replayed if rx else 0,
                "receive_errors": rx.receive_errors if rx else 0,  # recvmsg failed (an ICMP error, say)
                "binds_sent": rx.binds_sent if rx else 0,
                "fec": rx.fec_engine if rx else None,
            },
            "audio_packets": audio.packets if audio else 0,
            "audio_packets_per_s": round(audio.packets / audio_span, 1) if audio and audio_span > 0 else 0.0,
            "audio_lost": audio.lost if audio else 0,
            "audio_played": audio.played if audio else 0,
            "audio_played_per_s": round(audio.played / audio_span, 1) if audio and audio_span > 0 else 0.0,
            "audio_concealed": audio.concealed if audio else 0,
            "audio_late": audio.late if audio else 0,
            "audio_duplicates": audio.duplicates if audio else 0,
            "audio_target_ms": round(audio.target_s * 1000, 1) if audio else None,
            "rumble_messages": self.rumble_messages,
            "rumble": {str(pad): list(v) for pad, v in self.rumble.items()},
            "rtt_ms": round(rtt / 1e6, 3) if rtt is not None else None,
            "clock_offset_ms": round(core.clock.offset_ns / 1e6, 3) if core else None,
            "latency_ms": {
                "capture_to_reassembled": dec.reassembled_latency.percentiles_ms() if dec else None,
                "host_processing": self.host_times.host.percentiles_ms(),
                "sent_to_reassembled": self.host_times.network.percentiles_ms(),
                "capture_to_decoded": dec.decoded_latency.percentiles_ms() if dec else None,
                "decode": dec.decode_time.percentiles_ms() if dec else None,
            },
        }
        if core is not None:
            out["datagrams_unknown"] = core.datagrams_unknown
            out["datagrams_malformed"] = core.datagrams_malformed
        return out


def _send_input(event: InputEvent, core: ClientSession, now: float) -> None:
    core.send_input(event, now)
