"""One client's session on the host: the lumen/1 conversation and the media it drives.

Theory of operation:
- A connection has HANDSHAKE_DEADLINE_S to complete TLS and send Hello; a silent client
  is closed then, so it can never hold anything up.
- On Hello the session asks the server for the host's one streaming slot. If another
  client is streaming and was heard from recently, this one gets Goodbye(HOST_BUSY).
- Streaming: the video pipeline (threads) sends on the video plane; audio and rumble go
  out as datagrams from the event loop; pad input is applied to the pad sink.
- A client not heard from for STALE_AFTER_S is gone (killed, unplugged): the session
  ends without waiting for QUIC's idle timeout.
- Teardown runs once, on every exit path: threads stopped and joined, sockets closed,
  the slot released.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, Final

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
from lumen_core.datagrams import AudioPacket, Datagram, PadAxis, PadButton, PadSnapshot, Rumble
from lumen_core.gamepad import PadTracker
from lumen_core.net.quic import LumenProtocol
from lumen_core.net.video import VideoSender

from .audio import FRAME_SAMPLES, RATE, OpusEncoder
from .pads import rumble_from_triggers
from .video import EncoderSettings, PatternVideo, ScreenVideo, VideoPipeline

if TYPE_CHECKING:
    from .server import HostServer

log = logging.getLogger(__name__)

HANDSHAKE_DEADLINE_S: Final = 10.0
# Clients ping every 0.5 s: four missed pings and the client is gone.
STALE_AFTER_S: Final = 2.0
RUMBLE_RESEND_S: Final = 0.5
AUDIO_INTERVAL_S: Final = FRAME_SAMPLES / RATE
# After a stall, at most this many audio packets are sent to catch up; older audio is gone.
AUDIO_CATCH_UP: Final = 4


class HostSession(LumenProtocol):
    def __init__(self, *args: Any, host: HostServer, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._host = host
        self._loop = asyncio.get_event_loop()
        self._deadline = self._loop.call_later(HANDSHAKE_DEADLINE_S, self._handshake_timeout)
        self._hello_seen = False
        self._streaming = False
        self._torn_down = False
        self._last_heard = time.monotonic()
        self._tasks: list[asyncio.Task[None]] = []
        self._video_socket: socket.socket | None = None
        self._sender: VideoSender | None = None
        self._pipeline: VideoPipeline | None = None
        self._tracker = PadTracker()
        self._rumble: dict[int, tuple[int, int]] = {}
        self.client_name = "?"
        self.started = time.monotonic()
        self.audio_packets = 0
        self.rumble_messages = 0
        self.last_report: StatsReport | None = None
        self.keyframe_requests = 0
        self.end_reason = ""

    # -- lifecycle -----------------------------------------------------------

    def _handshake_timeout(self) -> None:
        if not self._streaming and not self.closed:
            log.info("closing a connection that did not say Hello within %.0f s", HANDSHAKE_DEADLINE_S)
            self.goodbye(GoodbyeCode.TIMEOUT, "no Hello within the handshake deadline")

    def on_closed(self, reason: str) -> None:
        self._deadline.cancel()
        if self._streaming and not self._torn_down:
            self.end_reason = self.end_reason or reason
            self._torn_down = True
            self._loop.create_task(self._teardown())

    def end(self, code: int, reason: str) -> None:
        """End the session from the host's side."""
        self.end_reason = reason
        self.goodbye(code, reason)
        self.on_closed(reason)

    async def _teardown(self) -> None:
        for task in self._tasks:
            task.cancel()
        for part in (self._pipeline, self._sender):
            if part is not None:
                part.stop()
        await self._loop.run_in_executor(None, self._join)
        if self._video_socket is not None:
            self._video_socket.close()
        if self._host.pad_sink is not None:
            for pad in self._tracker.pads():
                self._host.pad_sink.remove(pad)
        log.info("session with %s ended: %s", self.client_name, self.end_reason)
        self._host.release(self, self.summary())

    def _join(self) -> None:
        for part in (self._pipeline, self._sender):
            if part is not None:
                part.join()

    # -- control -------------------------------------------------------------

    def on_message(self, msg: Message) -> None:
        self._last_heard = time.monotonic()
        if isinstance(msg, Hello):
            self._hello(msg)
        elif not self._hello_seen:
            self.goodbye(GoodbyeCode.PROTOCOL_ERROR, f"{type(msg).__name__} before Hello")
        elif not self._streaming:
            pass  # waiting for the slot
        elif isinstance(msg, KeyframeRequest):
            self.keyframe_requests += 1
            if self._pipeline is not None:
                self._pipeline.request_keyframe()
        elif isinstance(msg, Ping):
            self.send_message(Pong(token=msg.token, ping_sent_ns=msg.sent_ns, peer_time_ns=time.monotonic_ns()))
        elif isinstance(msg, StatsReport):
            self.last_report = msg
        elif isinstance(msg, PadArrival):
            log.info("pad %d arrived: %s", msg.pad, msg.name or "unnamed")
        elif isinstance(msg, PadRemoval):
            self._tracker.remove(msg.pad)
            self._rumble.pop(msg.pad, None)
            if self._host.pad_sink is not None:
                self._host.pad_sink.remove(msg.pad)
        elif isinstance(msg, KeyEvent | MouseButtonEvent):
            log.debug("input %s", msg)  # keyboard and mouse injection is not part of the headless host
        elif isinstance(msg, Goodbye):
            log.info("client said goodbye: %s", msg.reason or msg.code)
            self.end_reason = f"client: {msg.reason or 'goodbye'}"
            self.goodbye(GoodbyeCode.NORMAL, "goodbye")
            self.on_closed(self.end_reason)

    def _hello(self, hello: Hello) -> None:
        if self._streaming or self._hello_seen:
            self.goodbye(GoodbyeCode.PROTOCOL_ERROR, "second Hello")
            return
        self._hello_seen = True
        self.client_name = hello.client_name or "unnamed client"
        opts = self._host.options
        if hello.protocol_version != PROTOCOL_VERSION:
            self.goodbye(GoodbyeCode.UNSUPPORTED_VERSION, f"host speaks lumen/{PROTOCOL_VERSION}")
            return
        if opts.codec not in hello.codecs:
            offered = ", ".join(hello.codecs)
            self.goodbye(GoodbyeCode.NO_COMMON_CODEC, f"host sends {opts.codec}; client decodes {offered}")
            return
        self._deadline.cancel()
        self._loop.create_task(self._begin(hello))

    async def _begin(self, hello: Hello) -> None:
        if not await self._host.acquire(self):
            self.goodbye(GoodbyeCode.HOST_BUSY, "another client is streaming from this host")
            return
        if self.closed:  # gone while waiting for the slot
            self._host.release(self, {"client": self.client_name, "error": "left before streaming"})
            return
        try:
            config = self._start_media(hello)
        except Exception as exc:  # an encoder or socket that will not open ends this session only
            log.exception("could not start streaming")
            self._host.release(self, {"client": self.client_name, "error": str(exc)})
            self.goodbye(GoodbyeCode.INTERNAL_ERROR, f"host could not start streaming: {exc}")
            return
        self._streaming = True
        self.send_message(config)
        log.info("streaming %s %dx%d@%d to %s", config.codec, config.width, config.height, config.fps,
                 self.client_name)

    def _start_media(self, hello: Hello) -> Config:
        opts = self._host.options
        width = min(opts.width, hello.max_width) & ~1
        height = min(opts.height, hello.max_height) & ~1
        fps = min(opts.fps, hello.max_fps)
        key = os.urandom(16)
        family = socket.AF_INET6 if ":" in opts.bind else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((opts.bind, opts.video_port))
        self._video_socket = sock
        bitrate = min(opts.bitrate_kbps, hello.bitrate_kbps or opts.bitrate_kbps)
        settings = EncoderSettings(opts.codec, width, height, fps, bitrate)
        source = ScreenVideo(width, height, fps) if opts.source == "screen" else PatternVideo(width, height)
        pipeline = self._pipeline = VideoPipeline(source, settings, sink=lambda f: sender.submit(f))
        sender = self._sender = VideoSender(
            sock, key, parity_percent=opts.fec_parity, max_datagram=opts.max_datagram,
            pace_bps=opts.pace_mbps * 1_000_000 or None,
            on_frame_skipped=pipeline.request_keyframe, on_peer=pipeline.request_keyframe,
        )
        log.info("encoder: %s; FEC: %s; AES-GCM: %s", pipeline.encoder_name, sender.fec_engine, sender.aead)
        sender.start()
        pipeline.start()
        self._tasks = [
            self._loop.create_task(self._audio_pump()),
            self._loop.create_task(self._rumble_resend()),
            self._loop.create_task(self._watch_liveness()),
        ]
        return Config(
            codec=opts.codec, width=width, height=height, fps=fps, bitrate_kbps=bitrate,
            fec_parity_percent=opts.fec_parity, audio_codec="opus", audio_sample_rate=RATE, audio_channels=2,
            audio_frame_samples=FRAME_SAMPLES, video_port=sock.getsockname()[1], video_key=key,
            max_datagram=opts.max_datagram, host_name=opts.host_name,
        )

    # -- datagrams -----------------------------------------------------------

    def on_datagram(self, dgram: Datagram) -> None:
        self._last_heard = time.monotonic()
        if not self._streaming:
            return
        if isinstance(dgram, PadButton):
            applied = self._tracker.apply_button(dgram.pad, dgram.seq, dgram.flag, dgram.down)
        elif isinstance(dgram, PadAxis):
            applied = self._tracker.apply_axis(dgram.pad, dgram.seq, dgram.axis, dgram.value)
        elif isinstance(dgram, PadSnapshot):
            applied = self._tracker.apply_snapshot(dgram.pad, dgram.seq, dgram.state)
        else:
            return  # mouse motion: no injection in the headless host
        if applied:
            state = self._tracker.state(dgram.pad)
            assert state is not None
            if self._host.pad_sink is not None:
                self._host.pad_sink.update(dgram.pad, state)
            if self._host.options.rumble_test:
                self.set_rumble(dgram.pad, *rumble_from_triggers(state))

    def set_rumble(self, pad: int, low: int, high: int) -> None:
        """Event loop only (the uinput sink's feedback thread goes through call_soon_threadsafe)."""
        if self._rumble.get(pad) != (low, high):
            self._rumble[pad] = (low, high)
            self._send_rumble(pad)

    def _send_rumble(self, pad: int) -> None:
        low, high = self._rumble[pad]
        if self.send_datagram(Rumble(pad=pad, low=low, high=high).encode()):
            self.rumble_messages += 1

    async def _rumble_resend(self) -> None:
        # The rumble plane is lossy: the current state of every pad goes out again and again.
        while True:
            await asyncio.sleep(RUMBLE_RESEND_S)
            for pad in list(self._rumble):
                self._send_rumble(pad)

    async def _audio_pump(self) -> None:
        encoder = OpusEncoder()
        source = self._host.audio_source
        seq = 0
        due = self._loop.time()
        while True:
            now = self._loop.time()
            if now < due:
                await asyncio.sleep(due - now)
                continue
            if now - due > AUDIO_CATCH_UP * AUDIO_INTERVAL_S:
                due = now - AUDIO_CATCH_UP * AUDIO_INTERVAL_S
            pts_ns = time.monotonic_ns()
            payload = encoder.encode(source.read())
            if self.send_datagram(AudioPacket(seq=seq, pts_ns=pts_ns, payload=payload).encode()):
                self.audio_packets += 1
            seq = (seq + 1) & 0xFFFFFFFF
            due += AUDIO_INTERVAL_S

    async def _watch_liveness(self) -> None:
        while True:
            await asyncio.sleep(0.5)
            if time.monotonic() - self._last_heard > STALE_AFTER_S:
                log.info("%s went silent", self.client_name)
                self.end(GoodbyeCode.TIMEOUT, f"client silent for {STALE_AFTER_S:.0f} s")
                return

    def stale(self) -> bool:
        return time.monotonic() - self._last_heard > STALE_AFTER_S

    # -- results -------------------------------------------------------------

    def summary(self) -> dict[str, object]:
        pipeline, sender = self._pipeline, self._sender
        return {
            "client": self.client_name,
            "duration_s": round(time.monotonic() - self.started, 3),
            "end_reason": self.end_reason,
            "encoder": pipeline.encoder_name if pipeline else None,
            "frames_encoded": pipeline.frames if pipeline else 0,
            "keyframes": pipeline.keyframes if pipeline else 0,
            "encode_p50_ms": round(pipeline.encode_p50_ms(), 3) if pipeline else None,
            "frames_sent": sender.stats.frames if sender else 0,
            "datagrams_sent": sender.stats.datagrams if sender else 0,
            "video_garbage": sender.garbage if sender else 0,
            "keyframe_requests": self.keyframe_requests,
            "audio_packets": self.audio_packets,
            "rumble_messages": self.rumble_messages,
            "pads": {str(pad): asdict(state) for pad, state in self._tracker.pads().items()},
            "datagrams_malformed": self.datagrams_malformed,
            "datagrams_unknown": self.datagrams_unknown,
            "client_report": asdict(self.last_report) if self.last_report else None,
        }
