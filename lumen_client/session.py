"""A client session: connect, establish trust, stream, report.

``StreamSession`` wires the pieces: the QUIC protocol (control and side planes, on the
asyncio loop), the video receiver and decoder (threads), audio, pads. The headless CLI
and the desktop client both drive it; ``run`` returns a ``SessionResult``.

Trust (fail closed): with a pin, the host's fingerprint must equal it. Without one, a
stored pin must match; with neither, ``trust_first_use`` decides (the headless client
accepts and stores, the desktop client asks the person). A mismatch never falls back to
trust on first use.
"""

from __future__ import annotations

import asyncio
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Final

from aioquic.asyncio import connect

from lumen_core import PROTOCOL_VERSION
from lumen_core.control import (
    Config,
    Goodbye,
    GoodbyeCode,
    Hello,
    KeyEvent,
    KeyframeRequest,
    Message,
    MouseButtonEvent,
    PadArrival,
    PadRemoval,
    Ping,
    Pong,
    StatsReport,
)
from lumen_core.datagrams import AudioPacket, Datagram, MouseMotion, MouseScroll, Rumble
from lumen_core.errors import LumenError
from lumen_core.gamepad import PadState
from lumen_core.net.handoff import LatestSlot
from lumen_core.net.quic import LumenProtocol, client_configuration
from lumen_core.net.video import VideoReceiver
from lumen_core.pad_sender import PadSender
from lumen_core.trust import format_fingerprint, pin_matches
from lumen_core.video import FrameReady

from .audio import AudioReceiver
from .stats import ClockOffset
from .trust_store import TrustStore
from .video_decoder import DecoderThread, PictureSink

log = logging.getLogger(__name__)

PING_INTERVAL_S: Final = 0.5
STATS_INTERVAL_S: Final = 1.0
CONNECT_TIMEOUT_S: Final = 10.0
CONFIG_TIMEOUT_S: Final = 10.0


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
    """The session could not be set up or ended in error; the message is for a person."""


@dataclass
class StreamOptions:
    host: str
    port: int = 48100
    pin: str | None = None
    duration_s: float | None = None
    width: int = 1920
    height: int = 1080
    fps: int = 60
    codecs: tuple[str, ...] = ("h264", "hevc")
    decoder: str = "auto"
    bitrate_kbps: int | None = None  # None: the host's default
    client_name: str = field(default_factory=lambda: f"lumen-client on {platform.node()}"[:64])


@dataclass
class SessionResult:
    host_fingerprint: str = ""
    trusted_by: str = ""  # "pin", "stored pin" or "first use"
    config: dict[str, Any] | None = None
    end_reason: str = ""
    stats: dict[str, Any] = field(default_factory=dict)


class ClientProtocol(LumenProtocol):
    def __init__(self, *args: Any, session: StreamSession, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.session = session

    def on_handshake(self) -> None:
        self.session.on_handshake(self)

    def on_message(self, msg: Message) -> None:
        self.session.on_message(msg)

    def on_datagram(self, dgram: Datagram) -> None:
        self.session.on_datagram(dgram)

    def on_closed(self, reason: str) -> None:
        self.session.on_closed(reason)


class StreamSession:
    def __init__(
        self,
        options: StreamOptions,
        trust_store: TrustStore,
        trust_first_use: Callable[[str], bool | None],
        on_picture: PictureSink | None = None,
        on_rumble: Callable[[int, int, int], None] | None = None,
        on_audio: Callable[[bytes], None] | None = None,
    ) -> None:
        self.options = options
        self._on_audio = on_audio
        self._store = trust_store
        self._trust_first_use = trust_first_use
        self._on_picture = on_picture
        self._on_rumble = on_rumble
        self.result = SessionResult()
        self.clock = ClockOffset()
        self._proto: ClientProtocol | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._config_received = asyncio.Event()
        self._ended = asyncio.Event()
        self._error: Exception | None = None
        self._receiver: VideoReceiver | None = None
        self._decoder: DecoderThread | None = None
        self._audio: AudioReceiver | None = None
        self._frames: LatestSlot[FrameReady] | None = None
        self._pads = PadSender()
        self._ping_token = 0
        self._pings: dict[int, int] = {}
        self._keyframe_requests = 0
        self._last_keyframe_request = 0.0
        self.rumble_messages = 0
        self.rumble: dict[int, tuple[int, int]] = {}
        self._started = 0.0
        self._first_audio: float | None = None

    # -- driving ---------------------------------------------------------------

    async def run(self) -> SessionResult:
        """Connect and stream until the duration ends, the host leaves, or stop()."""
        self._loop = asyncio.get_running_loop()
        opts = self.options
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT_S):
                connection = connect(opts.host, opts.port, configuration=client_configuration(),
                                     create_protocol=partial(ClientProtocol, session=self))
                proto = await connection.__aenter__()
        except TimeoutError:
            raise SessionError(f"no answer from {opts.host}:{opts.port} within {CONNECT_TIMEOUT_S:.0f} s") from None
        except OSError as exc:
            raise SessionError(f"cannot reach {opts.host}:{opts.port}: {exc.strerror or exc}") from None
        except ConnectionError as exc:
            raise SessionError(self._error_text(exc)) from None
        try:
            if self._error is not None:
                raise self._error
            await self._stream(proto)  # type: ignore[arg-type]
        finally:
            await self._teardown()
            await connection.__aexit__(None, None, None)
        if self._error is not None:
            raise self._error
        return self.result

    def _error_text(self, exc: BaseException) -> str:
        if self._error is not None:
            return str(self._error)
        return f"connection to {self.options.host}:{self.options.port} failed: {exc}"

    async def _stream(self, proto: ClientProtocol) -> None:
        opts = self.options
        try:
            async with asyncio.timeout(CONFIG_TIMEOUT_S):
                await asyncio.wait({asyncio.ensure_future(self._config_received.wait()),
                                    asyncio.ensure_future(self._ended.wait())},
                                   return_when=asyncio.FIRST_COMPLETED)
        except TimeoutError:
            raise SessionError("the host did not answer Hello") from None
        if not self._config_received.is_set():
            raise self._error or SessionError(f"the host ended the session: {self.result.end_reason}")
        self._started = time.monotonic()
        tasks = [asyncio.ensure_future(self._pinger(proto)), asyncio.ensure_future(self._reporter(proto)),
                 asyncio.ensure_future(self._pad_resender(proto))]
        try:
            if opts.duration_s is None:
                await self._ended.wait()
            else:
                try:
                    async with asyncio.timeout(opts.duration_s):
                        await self._ended.wait()
                except TimeoutError:
                    self.result.end_reason = "duration reached"
        finally:
            for task in tasks:
                task.cancel()
        if not proto.closed:
            proto.goodbye(GoodbyeCode.NORMAL, "client done")

    def stop(self) -> None:
        """Any thread: end the session."""
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(self._finish, "stopped by the user")
            except RuntimeError:
                pass  # the loop closed in between: the session is over anyway

    def _finish(self, reason: str) -> None:
        if not self._ended.is_set():
            self.result.end_reason = self.result.end_reason or reason
            self._ended.set()

    async def _teardown(self) -> None:
        for part in (self._receiver, self._decoder):
            if part is not None:
                part.stop()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._join)
        self.result.stats = self.stats()

    def _join(self) -> None:
        for part in (self._receiver, self._decoder):
            if part is not None:
                part.join()

    # -- protocol events (event loop thread) -------------------------------------

    def on_handshake(self, proto: ClientProtocol) -> None:
        self._proto = proto
        observed = proto.peer_fingerprint() or ""
        self.result.host_fingerprint = observed
        host_key = f"{self.options.host}:{self.options.port}"
        try:
            self._check_trust(host_key, observed)
        except (TrustError, LumenError, OSError) as exc:  # a broken trust store fails closed too
            self._error = exc if isinstance(exc, TrustError) else TrustError(str(exc))
            proto.close(error_code=0x100 + GoodbyeCode.PROTOCOL_ERROR, reason_phrase="host not trusted")
            self._finish("host not trusted")
            return
        opts = self.options
        proto.send_message(Hello(
            protocol_version=PROTOCOL_VERSION, client_name=opts.client_name, codecs=opts.codecs,
            max_width=opts.width, max_height=opts.height, max_fps=opts.fps, audio_channels=2,
            bitrate_kbps=opts.bitrate_kbps,
        ))

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

    def on_message(self, msg: Message) -> None:
        if isinstance(msg, Config):
            self._configure(msg)
        elif isinstance(msg, Pong):
            sent = self._pings.pop(msg.token, None)
            if sent is not None:
                self.clock.add(sent, msg.peer_time_ns, time.monotonic_ns())
        elif isinstance(msg, Ping):
            assert self._proto is not None
            self._proto.send_message(Pong(token=msg.token, ping_sent_ns=msg.sent_ns, peer_time_ns=time.monotonic_ns()))
        elif isinstance(msg, Goodbye):
            self.result.end_reason = f"host: {msg.reason or msg.code}"
            if msg.code not in (GoodbyeCode.NORMAL,) and not self._config_received.is_set():
                self._error = SessionError(f"the host refused the session: {msg.reason or msg.code}")
            self._finish(self.result.end_reason)

    def _configure(self, config: Config) -> None:
        if self._config_received.is_set():
            return
        if config.codec not in self.options.codecs:
            self._error = SessionError(f"the host chose {config.codec}, which this client did not offer")
            self._finish("bad config")
            return
        self.result.config = {
            "codec": config.codec, "width": config.width, "height": config.height, "fps": config.fps,
            "bitrate_kbps": config.bitrate_kbps, "fec_parity_percent": config.fec_parity_percent,
            "host_name": config.host_name,
        }
        frames: LatestSlot[FrameReady] = LatestSlot()
        self._frames = frames
        loop = self._loop
        assert loop is not None
        request = partial(loop.call_soon_threadsafe, self._request_keyframe)
        self._decoder = DecoderThread(config.codec, frames, self.clock, request, self._on_picture, self.options.decoder)
        self._receiver = VideoReceiver((self.options.host, config.video_port), config.video_key, frames,
                                       lambda _last: request())
        self._audio = AudioReceiver(config.audio_frame_samples, self._on_audio)
        self._decoder.start()
        self._receiver.start()
        self._config_received.set()

    def _request_keyframe(self) -> None:
        now = time.monotonic()
        if now - self._last_keyframe_request < 0.1 or self._proto is None:
            return  # the reassembler and decoder may both ask for the same loss
        self._last_keyframe_request = now
        self._keyframe_requests += 1
        self._proto.send_message(KeyframeRequest())

    def on_datagram(self, dgram: Datagram) -> None:
        if isinstance(dgram, AudioPacket) and self._audio is not None:
            if self._first_audio is None:
                self._first_audio = time.monotonic()
            self._audio.receive(dgram)
        elif isinstance(dgram, Rumble):
            self.rumble_messages += 1
            self.rumble[dgram.pad] = (dgram.low, dgram.high)
            if self._on_rumble is not None:
                self._on_rumble(dgram.pad, dgram.low, dgram.high)

    def on_closed(self, reason: str) -> None:
        self._finish(self.result.end_reason or reason)

    # -- gamepads ------------------------------------------------------------------

    def pad_arrived(self, pad: int, name: str, kind: int = 0, buttons: int = 0, capabilities: int = 1) -> None:
        """Event loop thread (use call_soon_threadsafe from others)."""
        if self._proto is not None:
            self._proto.send_message(PadArrival(pad=pad, kind=kind, buttons=buttons, capabilities=capabilities,
                                                name=name[:128]))

    def pad_removed(self, pad: int) -> None:
        self._pads.remove(pad)
        if self._proto is not None:
            self._proto.send_message(PadRemoval(pad=pad))

    def set_pad_state(self, pad: int, state: PadState) -> None:
        """Event loop thread: send the change of ``pad`` to ``state``."""
        if self._proto is None:
            return
        for data in self._pads.update(pad, state, time.monotonic_ns()):
            self._proto.send_datagram(data)

    # -- keyboard and mouse (event loop thread; others use call_soon) ---------------

    def send_key(self, keycode: int, down: bool, modifiers: int) -> None:
        if self._proto is not None and 0 < keycode <= 0x2FF:
            self._proto.send_message(KeyEvent(keycode=keycode, down=down, modifiers=modifiers & 0xF))

    def send_mouse_button(self, button: int, down: bool) -> None:
        if self._proto is not None and 1 <= button <= 5:
            self._proto.send_message(MouseButtonEvent(button=button, down=down))

    def send_mouse_motion(self, dx: int, dy: int) -> None:
        if self._proto is not None:
            clamp = lambda v: max(-32768, min(32767, v))  # noqa: E731
            self._proto.send_datagram(MouseMotion(dx=clamp(dx), dy=clamp(dy)).encode())

    def send_scroll(self, vertical: int, horizontal: int) -> None:
        if self._proto is not None:
            clamp = lambda v: max(-32768, min(32767, v))  # noqa: E731
            self._proto.send_datagram(MouseScroll(vertical=clamp(vertical), horizontal=clamp(horizontal)).encode())

    @property
    def streaming(self) -> bool:
        return self._config_received.is_set()

    def counters(self) -> dict[str, int]:
        """Cheap running totals for a live overlay (any thread)."""
        rx, dec = self._receiver, self._decoder
        return {
            "frames_received": rx.stats.frames_complete if rx else 0,
            "frames_decoded": dec.decoded if dec else 0,
            "frames_lost": rx.stats.frames_lost if rx else 0,
            "frames_recovered": rx.stats.frames_recovered if rx else 0,
            "video_bytes": rx.stats.bytes if rx else 0,
        }

    @property
    def decoder_backend(self) -> str:
        return self._decoder.backend if self._decoder else "-"

    def set_rumble_handler(self, handler: Callable[[int, int, int], None] | None) -> None:
        """Where the host's rumble goes (pad, low, high); called on the event loop thread."""
        self._on_rumble = handler

    def call_soon(self, fn: Callable[..., None], *args: Any) -> None:
        """Any thread: run ``fn`` on the session's event loop (dropped once it is over)."""
        if self._loop is not None and not self._loop.is_closed():
            try:
                self._loop.call_soon_threadsafe(fn, *args)
            except RuntimeError:
                pass

    # -- periodic ------------------------------------------------------------------

    async def _pinger(self, proto: ClientProtocol) -> None:
        while True:
            self._ping_token = (self._ping_token + 1) & 0xFFFFFFFF
            sent = time.monotonic_ns()
            self._pings = {t: s for t, s in self._pings.items() if sent - s < 5_000_000_000}
            self._pings[self._ping_token] = sent
            proto.send_message(Ping(token=self._ping_token, sent_ns=sent))
            await asyncio.sleep(PING_INTERVAL_S)

    async def _reporter(self, proto: ClientProtocol) -> None:
        while True:
            await asyncio.sleep(STATS_INTERVAL_S)
            rx, dec = self._receiver, self._decoder
            if rx is None or dec is None:
                continue
            p50 = dec.decode_time.percentiles_ms()
            proto.send_message(StatsReport(
                frames_received=rx.stats.frames_complete, frames_recovered=rx.stats.frames_recovered,
                frames_lost=rx.stats.frames_lost, frames_decoded=dec.decoded,
                decode_time_us=int((p50["p50"] if p50 else 0) * 1000),
                keyframe_requests=self._keyframe_requests,
                audio_packets=self._audio.packets if self._audio else 0,
            ))

    async def _pad_resender(self, proto: ClientProtocol) -> None:
        while True:
            await asyncio.sleep(0.05)
            for data in self._pads.handle_timer(time.monotonic_ns()):
                proto.send_datagram(data)

    # -- results -------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        rx, dec, audio = self._receiver, self._decoder, self._audio
        elapsed = time.monotonic() - self._started if self._started else 0.0
        audio_span = time.monotonic() - self._first_audio if self._first_audio else 0.0
        rtt = self.clock.rtt_ns
        out: dict[str, Any] = {
            "duration_s": round(elapsed, 3),
            "decoder": dec.backend if dec else None,
            "frames_received": rx.stats.frames_complete if rx else 0,
            "frames_decoded": dec.decoded if dec else 0,
            "frames_recovered": rx.stats.frames_recovered if rx else 0,
            "frames_lost": rx.stats.frames_lost if rx else 0,
            "frames_dropped": (rx.stats.frames_dropped if rx else 0) + (dec.dropped if dec else 0),
            "frames_skipped": self._frames.skipped if self._frames else 0,  # decoder was behind
            "keyframe_requests": self._keyframe_requests,
            "video_datagrams": rx.stats.datagrams if rx else 0,
            "video_rejected": (rx.stats.malformed + rx.stats.forged + rx.stats.replayed) if rx else 0,
            "audio_packets": audio.packets if audio else 0,
            "audio_packets_per_s": round(audio.packets / audio_span, 1) if audio and audio_span > 0 else 0.0,
            "audio_lost": audio.lost if audio else 0,
            "rumble_messages": self.rumble_messages,
            "rumble": {str(pad): list(v) for pad, v in self.rumble.items()},
            "rtt_ms": round(rtt / 1e6, 3) if rtt is not None else None,
            "clock_offset_ms": round(self.clock.offset_ns / 1e6, 3),
            "latency_ms": {
                "capture_to_reassembled": dec.reassembled_latency.percentiles_ms() if dec else None,
                "host_processing": dec.host_latency.percentiles_ms() if dec else None,
                "sent_to_reassembled": dec.network_latency.percentiles_ms() if dec else None,
                "capture_to_decoded": dec.decoded_latency.percentiles_ms() if dec else None,
                "decode": dec.decode_time.percentiles_ms() if dec else None,
            },
        }
        if self._proto is not None:
            out["datagrams_unknown"] = self._proto.datagrams_unknown
            out["datagrams_malformed"] = self._proto.datagrams_malformed
        return out
