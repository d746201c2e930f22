"""One client's connection on the host: the lumen/1 session core and the media it drives.

The protocol lives in lumen_core.session.HostSession (sans-IO); this class is its
owner on the event loop: it asks its host (``SessionHost``: what the server hands every
connection) for the streaming slot when a Hello
arrives, opens the video socket and the encoder before the Welcome (so a failure
refuses the client cleanly), starts the video plane when Start arrives, applies input
and pads, pumps audio, and tears everything down once, on every exit path.

A session ends when the client leaves, when the core ends it (handshake deadline,
liveness, protocol error), after ``--seconds`` or the synthetic source's last frame
(M3's host then lets the client drain for 1 s before it closes with code 0 "done"),
or when the host shuts down.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import socket
import threading
import time
from dataclasses import asdict
from functools import partial
from typing import Any, Final, Protocol

from lumen_core.control import GoodbyeCode, Hello
from lumen_core.net.quic import SessionProtocol
from lumen_core.net.video import EncodedFrame, VideoSender, open_video_socket
from lumen_core.session import HostOffer, HostSession
from lumen_core.session.auth import key_id
from lumen_core.session.events import (
    HelloReceived,
    InputReceived,
    KeyframeRequested,
    PadArrived,
    PadChanged,
    PadRemoved,
    PairingRequested,
    PairingSucceeded,
    PeerReturned,
    PeerSilent,
    SessionEnded,
    StartReceived,
    StatsReceived,
)
from lumen_core.session.rate import RateController

from .audio import FRAME_SAMPLES, RATE, AudioSource, OpusEncoder
from .input import InputSink
from .options import HostOptions
from .pads import PadSink, rumble_from_triggers
from .pairing import ClientRegistry, ClientsError, PairingGate, PinFile
from .replay import ReplayPipeline
from .scene import SceneVideo
from .video import EncoderSettings, PatternVideo, Pipeline, ScreenVideo, SyntheticPipeline, VideoPipeline, VideoSource

log = logging.getLogger(__name__)

AUDIO_INTERVAL_S: Final = FRAME_SAMPLES / RATE
# After a stall, at most this many audio packets are sent to catch up; older audio is gone.
AUDIO_CATCH_UP: Final = 4
# M3's host waits this long after the last frame before it closes ("let the client drain").
DRAIN_S: Final = 1.0
# --rumble-test pulses every pad the host has seen: on and off this often.
RUMBLE_PULSE_S: Final = 0.5
RUMBLE_PULSE: Final = (0x8000, 0x4000)
# A Goodbye gets this long to be retransmitted before the connection closes (quic.py).
CLOSE_LINGER_S: Final = 0.5
# An M3 client cannot ask for a keyframe: it gets one this often.
BASE_GOP_S: Final = 2.0


class SessionHost(Protocol):
    """What a connection needs from the host that accepted it: the server passes itself."""

    options: HostOptions
    audio_source: AudioSource
    input_sink: InputSink
    pad_sink: PadSink
    clients: ClientRegistry
    pins: PinFile
    pairing_gate: PairingGate
    wall_offset_ns: int

    def offer(self, video_port: int | None = None) -> HostOffer:
        """What this host offers every client (``video_port``: this session's socket)."""
        ...

    def admission_problem(self, hello: HelloReceived) -> str | None:
        """Why this client may not stream here, or None."""
        ...

    def choose_mode(self, hello: Hello) -> tuple[int, int, int]:
        """Width, height and refresh rate to stream for this Hello."""
        ...

    async def acquire(self, connection: HostConnection) -> bool:
        """The streaming slot, if nobody else holds it."""
        ...

    def release(self, connection: HostConnection, result: dict[str, object]) -> None:
        """The slot back, with the session's summary."""
        ...


class HostConnection(SessionProtocol):
    def __init__(self, *args: Any, host: SessionHost, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._host = host
        self.core = HostSession(host.offer(), key=os.urandom(16), now=self.now(), wall_offset_ns=host.wall_offset_ns)
        self.attach(self.core, self._on_core_event)
        self.close_linger_s = CLOSE_LINGER_S
        self._holding_slot = False
        self._torn_down = False
        self._video_socket: socket.socket | None = None
        self._pipeline: Pipeline | None = None
        self._sender: VideoSender | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._finish_handle: asyncio.TimerHandle | None = None
        self._finishing = False
        self._rate: RateController | None = None
        self.started = time.monotonic()
        self.streaming_since: float | None = None
        self.end_reason = ""
        self.client_key: bytes | None = None  # proven by the client (extension version 2)
        self.input_released = 0  # keys and mouse buttons let go of when the session ended
        self.keyframe_request_last_frame: int | None = None
        self.drive()  # arms the handshake deadline (nothing to send yet)

    @property
    def client_name(self) -> str:
        return self.core.client_name or "a client"

    # -- the core's events ----------------------------------------------------------

    def _on_core_event(self, event: object) -> None:
        if isinstance(event, HelloReceived):
            self._loop.create_task(self._begin(event))
        elif isinstance(event, PairingRequested):
            self._pair(event)
        elif isinstance(event, PairingSucceeded):
            self._paired(event)
        elif isinstance(event, StartReceived):
            self._start_streaming(event.client_udp_port)
        elif isinstance(event, InputReceived):
            self._host.input_sink.apply(event.event)
        elif isinstance(event, PadChanged):
            self._host.pad_sink.update(event.pad, event.state)
            if self._host.options.rumble_test:
                self.core.set_rumble(event.pad, *rumble_from_triggers(event.state), self.now())
        elif isinstance(event, PadArrived):
            log.info("pad %d arrived: %s", event.pad, event.name or "unnamed")
        elif isinstance(event, PadRemoved):
            self._host.pad_sink.remove(event.pad)
        elif isinstance(event, KeyframeRequested):
            # The client's newest decoded frame: what it still holds (logged; every request
            # is answered with an IDR, as M3's host does).
            self.keyframe_request_last_frame = event.last_frame
            log.debug("keyframe requested; the client last decoded frame %s", event.last_frame)
            if self._pipeline is not None:
                self._pipeline.request_keyframe()
        elif isinstance(event, PeerSilent):
            log.warning("%s not heard for %.1f s: stream paused; given up after %.0f s", self.client_name,
                        event.silent_s, event.grace_s)
            if self._sender is not None:
                self._sender.paused = True
        elif isinstance(event, PeerReturned):
            log.info("%s is back after %.1f s: stream resumed with a keyframe", self.client_name, event.outage_s)
            if self._sender is not None:
                self._sender.paused = False
            if self._pipeline is not None:
                self._pipeline.request_keyframe()
        elif isinstance(event, StatsReceived):
            self._rate_report(event)
        elif isinstance(event, SessionEnded):
            self.end_reason = event.reason
            self._teardown_soon()

    async def _begin(self, hello: HelloReceived) -> None:
        host, core = self._host, self.core
        self.client_key = hello.client_key
        try:
            problem = host.admission_problem(hello)
        except ClientsError as exc:  # an unreadable clients file lets nobody in
            log.error("%s", exc)
            problem = f"the host cannot read its paired clients: {exc}"
        if problem is not None:
            log.warning("refused %s (%s): not paired", self.client_name, core.mode.name)
            self._refuse(GoodbyeCode.NOT_PAIRED, problem)
            return
        if not await host.acquire(self):
            if not core.ended:
                self._refuse(GoodbyeCode.HOST_BUSY, "another client is streaming from this host")
            return
        self._holding_slot = True
        if core.ended:  # gone while waiting for the slot
            self._teardown_soon()
            return
        width, height, hz = host.choose_mode(hello.hello)
        try:
            self._prepare_media(width, height, hz)
        except Exception as exc:  # an encoder or socket that will not open ends this session only
            log.exception("could not start streaming")
            self._refuse(GoodbyeCode.INTERNAL_ERROR, f"host could not start streaming: {exc}")
            return
        core.accept(self.now(), width=width, height=height, refresh_hz=hz, bitrate_kbps=host.options.bitrate_kbps)
        self.drive()
        log.info("%s mode with %s: %s %dx%d@%d", core.mode.name, self.client_name,
                 core.codec if host.options.source != "m3-synthetic" else "m3-synthetic", width, height, hz)

    def _refuse(self, code: int, reason: str, retry_after_ms: int | None = None) -> None:
        self.core.refuse(code, reason, self.now(), retry_after_ms=retry_after_ms)
        self.drive()

    def _pair(self, asked: PairingRequested) -> None:
        """A pairing attempt: the PIN must be active, and the attempt within the limit."""
        host, core, now = self._host, self.core, self.now()
        try:
            pin = host.pins.current(time.time())
        except ClientsError as exc:
            self._refuse(GoodbyeCode.PAIRING_FAILED, str(exc))
            return
        if pin is None:
            log.warning("%s asked to pair, but no PIN is active (run lumen-host pair)", self.client_name)
            self._refuse(GoodbyeCode.PAIRING_FAILED, "no pairing PIN is active on the host: run lumen-host pair "
                         "there and type the PIN it prints")
            return
        wait = host.pairing_gate.admit(time.monotonic())
        if wait > 0:
            log.warning("%s asked to pair too soon after failed attempts: %.1f s to wait", self.client_name, wait)
            self._refuse(GoodbyeCode.PAIRING_LIMITED, f"too many pairing attempts; try again in {wait:.0f} s",
                         retry_after_ms=max(1, round(wait * 1000)))
            return
        log.info("%s is pairing (key %s)", self.client_name, key_id(asked.client_key))
        core.answer_pairing(pin, now)
        self.drive()

    def _paired(self, done: PairingSucceeded) -> None:
        """The PIN exchange verified: store the client, then tell it."""
        host = self._host
        try:
            client = host.clients.add(done.client_name, done.client_key, datetime.datetime.now(datetime.UTC))
        except (ClientsError, OSError) as exc:
            log.error("could not store the paired client: %s", exc)
            self._refuse(GoodbyeCode.INTERNAL_ERROR, f"the host could not store the pairing: {exc}")
            return
        host.pins.consume()
        host.pairing_gate.succeeded()
        log.info("paired with %r (key %s)", client.name, client.key_id)
        self.core.finish_pairing(self.now())
        self.drive()

    def _prepare_media(self, width: int, height: int, hz: int) -> None:
        opts = self._host.options
        self._video_socket = open_video_socket((opts.bind_any, opts.video_port))
        # The Welcome names the port the socket really has (--video-port 0 picks one).
        self.core.offer = self._host.offer(video_port=self._video_socket.getsockname()[1])
        if opts.source == "m3-synthetic":
            self._pipeline = SyntheticPipeline(opts.frames, self._submit, self._host.wall_offset_ns,
                                               on_done=lambda: self._loop.call_soon_threadsafe(self._finish))
            return
        if opts.recording is not None:
            self._pipeline = ReplayPipeline(opts.recording, min(hz, opts.fps), self._submit, self._host.wall_offset_ns)
            return
        codec = self.core.codec or "hevc"
        gop_s = 10.0 if self.core.mode.keyframe_requests else BASE_GOP_S
        settings = EncoderSettings(codec, width, height, min(hz, opts.fps), opts.bitrate_kbps, gop_s)
        source: VideoSource
        if opts.source == "screen":
            source = ScreenVideo(width, height, settings.fps)
        elif opts.source == "scene":
            source = SceneVideo(width, height)
        else:
            source = PatternVideo(width, height)
        self._pipeline = VideoPipeline(source, settings, self._submit, self._host.wall_offset_ns, opts.encoders)

    def _submit(self, frame: EncodedFrame) -> None:
        if self._sender is not None:
            self._sender.submit(frame)

    def _start_streaming(self, client_port: int) -> None:
        peer = self.peer_address()
        if peer is None or self._pipeline is None or self._video_socket is None:
            self.core.end(self.now(), error=True, reason="no video plane to start")
            self.drive()
            return
        opts, core, pipeline = self._host.options, self.core, self._pipeline
        self._sender = VideoSender(
            self._video_socket, core.video_config, (peer[0], client_port), binds=core.mode.binds,
            pace_bps=opts.pace_mbps * 1_000_000 or None,
            on_frame_skipped=pipeline.request_keyframe, on_peer_moved=pipeline.request_keyframe,
            on_frame_sent=self._frame_sent if core.mode.frame_timing else None,
            on_heard=partial(self._loop.call_soon_threadsafe, self._heard),
            on_unreachable=partial(self._loop.call_soon_threadsafe, self._unreachable),
        )
        log.info("video to %s:%d from udp/%d; encoder: %s; FEC: %s; AES-GCM: %s", peer[0], client_port,
                 self._video_socket.getsockname()[1], pipeline.encoder_name, self._sender.fec_engine,
                 self._sender.aead)
        self.streaming_since = time.monotonic()
        if core.mode.messages and isinstance(pipeline, VideoPipeline) and opts.rate_control:
            self._rate = RateController(opts.bitrate_kbps, opts.fec_parity, self.now())
        self._sender.start()
        pipeline.start()
        self._tasks = [self._loop.create_task(self._audio_pump())]
        if opts.rumble_test:
            self._tasks.append(self._loop.create_task(self._rumble_pulse()))
        if opts.seconds:
            self._finish_handle = self._loop.call_later(opts.seconds, self._finish)

    def _rate_report(self, report: StatsReceived) -> None:
        """The client's loss and queue delay: the rate control may change the bitrate and FEC."""
        rate, pipeline, sender = self._rate, self._pipeline, self._sender
        if rate is None or not isinstance(pipeline, VideoPipeline) or sender is None:
            return
        sent = sender.stats
        decision = rate.report(report.video_packets_expected, report.video_packets_received,
                               report.queue_delay_us, self.now(), (sent.blocks, sent.data_shards))
        if decision is None:
            return
        log.info("rate control: %d kbit/s, FEC %d %% (%s)", decision.bitrate_kbps, decision.fec_percent,
                 decision.reason)
        pipeline.set_bitrate(decision.bitrate_kbps)
        sender.set_fec_percent(decision.fec_percent)
        sender.set_pace(rate.pace_bps(self._host.options.pace_mbps * 1_000_000) or None)
        self.core.send_rate_update(decision.bitrate_kbps, decision.fec_percent, decision.reason)
        self.drive()

    def _heard(self) -> None:
        """The client's video plane was heard (a bind or keepalive): it is alive."""
        self.core.heard(self.now())
        self.drive()

    def _unreachable(self) -> None:
        self.core.unreachable(self.now(), "its video port")
        self.drive()

    def _frame_sent(self, frame_index: int, host_us: int) -> None:
        """On the send thread: the frame's host processing time goes to the client."""
        self._loop.call_soon_threadsafe(self._send_timing, frame_index, host_us)

    def _send_timing(self, frame_index: int, host_us: int) -> None:
        self.core.send_frame_timing(frame_index, host_us)
        self.drive()

    def _finish(self) -> None:
        """The session's stream is complete (--seconds, or the synthetic source's last
        frame): stop sending, let the client drain, then close as M3's host does."""
        if self.core.ended or self._finishing:
            return
        self._finishing = True
        if self._pipeline is not None:
            self._pipeline.stop()
        self._loop.call_later(DRAIN_S, self.end, False, "done")

    def end(self, error: bool = False, reason: str = "", code: int | None = None) -> None:
        """End the session from the host's side (loop thread)."""
        self.core.end(self.now(), error=error, reason=reason, code=code)
        self.drive()

    # -- media pumps ----------------------------------------------------------------

    async def _audio_pump(self) -> None:
        encoder = OpusEncoder()
        source = self._host.audio_source
        seq = 0
        due = self._loop.time()
        while not self.core.ended:
            now = self._loop.time()
            if now < due:
                await asyncio.sleep(due - now)
                continue
            if now - due > AUDIO_CATCH_UP * AUDIO_INTERVAL_S:
                due = now - AUDIO_CATCH_UP * AUDIO_INTERVAL_S
            pts_ns = time.monotonic_ns() + self._host.wall_offset_ns
            self.core.send_audio(seq, pts_ns, encoder.encode(source.read()))
            self.drive()
            seq = (seq + 1) & 0xFFFFFFFF
            due += AUDIO_INTERVAL_S

    async def _rumble_pulse(self) -> None:
        """--rumble-test: every pad seen whose triggers are at rest rumbles on and off, so a
        peer with no triggers to press (lumen M3's client) gets rumble too."""
        on = False
        while not self.core.ended:
            await asyncio.sleep(RUMBLE_PULSE_S)
            on = not on
            for pad, state in self.core.pads.pads().items():
                if rumble_from_triggers(state) == (0, 0):
                    self.core.set_rumble(pad, *(RUMBLE_PULSE if on else (0, 0)), self.now())
            self.drive()

    # -- teardown ---------------------------------------------------------------------

    def on_terminated(self, code: int, reason: str) -> None:
        self._teardown_soon()

    def _teardown_soon(self) -> None:
        if not self._torn_down:
            self._torn_down = True
            self._loop.create_task(self._teardown())

    async def _teardown(self) -> None:
        for task in self._tasks:
            task.cancel()
        if self._finish_handle is not None:
            self._finish_handle.cancel()
        for part in (self._pipeline, self._sender):
            if part is not None:
                part.stop()
        await self._loop.run_in_executor(None, self._join)
        if self._video_socket is not None:
            self._video_socket.close()
        host = self._host
        self.input_released = host.input_sink.release_all()
        if self.input_released:
            log.info("released %d keys and mouse buttons that %s still held", self.input_released, self.client_name)
        for pad in self.core.pads.pads():
            host.pad_sink.remove(pad)
        if self._holding_slot:
            log.info("session with %s ended: %s", self.client_name, self.end_reason or self.core.end_reason)
            host.release(self, self.summary())

    def _join(self) -> None:
        for part in (self._pipeline, self._sender):
            if part is not None:
                part.join()

    # -- results -------------------------------------------------------------------

    def summary(self) -> dict[str, object]:
        pipeline, sender, core = self._pipeline, self._sender, self.core
        streamed = time.monotonic() - self.streaming_since if self.streaming_since else 0.0
        return {
            "client": self.client_name,
            "mode": core.mode.name,
            "codec": core.codec if not isinstance(pipeline, SyntheticPipeline) else "m3-synthetic",
            "duration_s": round(time.monotonic() - self.started, 3),
            "streamed_s": round(streamed, 3),
            "end_reason": self.end_reason or core.end_reason,
            "encoder": pipeline.encoder_name if pipeline else None,
            "frames_encoded": pipeline.frames if pipeline else 0,
            "keyframes": pipeline.keyframes if pipeline else 0,
            "encode_p50_ms": round(pipeline.encode_p50_ms(), 3) if pipeline else None,
            "frames_sent": sender.stats.frames if sender else 0,
            "frames_paused": sender.frames_paused if sender else 0,
            "outages": list(core.outages),
            "datagrams_sent": sender.stats.datagrams if sender else 0,
            "video_binds": sender.binds_received if sender else 0,
            "video_garbage": sender.garbage if sender else 0,
            "video_send_errors": sender.send_errors if sender else 0,  # sendmsg failed (the peer's port closed)
            "keyframe_requests": core.keyframe_requests,
            "keyframe_request_last_frame": self.keyframe_request_last_frame,
            "rate_changes": [{"at_s": round(t - self._rate.started, 3), "kbps": kbps, "fec_percent": fec,
                              "reason": why} for t, kbps, fec, why in self._rate.history] if self._rate else [],
            "audio_packets": core.audio_sent,
            "rumble_messages": core.rumble_sent,
            "input": {"keys": core.input_counts["keys"], "mouse": core.input_counts["mouse"],
                      "pad": core.input_counts["pad"]},
            "input_released": self.input_released,
            "pads": {str(pad): asdict(state) for pad, state in core.pads.pads().items()},
            "datagrams_malformed": core.datagrams_malformed,
            "datagrams_unknown": core.datagrams_unknown,
            "datagrams_unexpected": core.datagrams_unexpected,
            "datagrams_early": core.datagrams_early,
            "datagrams_dropped": core.datagrams_dropped + self.quic_datagrams_dropped,
            "datagrams_oversize": self.quic_datagrams_oversize,
            "client_report": asdict(core.last_stats) if core.last_stats else None,
            # Written after the teardown joined the session's threads: none of them is here.
            "threads_after": sorted(t.name for t in threading.enumerate()),
        }
