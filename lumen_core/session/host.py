"""The host's side of a lumen/1 session, sans-IO.

Theory of operation (LUMEN-M3-WIRE.md §4.1, and docs/protocol.md for the extensions):

    state      on                     does
    ---------  ---------------------  ---------------------------------------------------
    hello      Hello                  check it as M3 does (ABI 1, even mode <= 8192);
                                      emit HelloReceived (extended if it carried a block);
                                      a client key (version 2): AuthChallenge first
    proving    AuthProof              verify it; emit HelloReceived with the proven key,
                                      or PairingRequested if the Hello asked to pair
    deciding   accept()               send the Welcome (+ block in extended mode)
    deciding   refuse()               Goodbye (extended) and close with the code
    deciding   answer_pairing(pin)    PairReply (SPAKE2 + the host's confirmation)
    pairing    PairConfirm            verify it: PairingSucceeded, else "wrong PIN"
    paired     finish_pairing()       Goodbye(NORMAL, "paired"): the connection's work
    start      Start                  emit StartReceived: stream to the peer's IP, its port
    streaming  datagrams, messages    input (InputReceived, PadChanged), keyframe
                                      requests, stats, pings answered, Goodbye -> end
    hello..    "handshake" timer      10 s from the connection to Start, as M3's host

- Closing as M3's host does: a finished session closes with code 0 "done", a video
  plane error with code 1 "error", a failed handshake with code 0 and no reason (in
  extended mode a Goodbye says why first, and the close carries its code and reason).
- Base mode: nothing is written on the control stream after the Welcome, and the
  session lives as long as the QUIC connection (an M3 client sends nothing while idle:
  only QUIC's 30 s idle timeout says it is gone).
- Extended mode: a client not heard from for ``liveness_timeout_s`` (it pings every
  0.5 s) is missed: PeerSilent, and the owner pauses the stream (no audio goes out
  meanwhile). Heard again within ``grace_s``: PeerReturned, and the stream resumes on
  the same connection; not heard for ``grace_s``, or silent with its ports reported
  closed, it is gone, and the session ends with Goodbye(TIMEOUT).
- Rumble is state: set_rumble sends a change at once, and every pad that has rumbled
  is re-sent every ``rumble_resend_s``, so a lost update heals.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass, replace
from typing import Final

from ..control import (
    CODEC_IDS,
    EXTENSION_VERSION,
    GOODBYE_NAMES,
    AuthChallenge,
    AuthProof,
    FrameReader,
    Goodbye,
    GoodbyeCode,
    Hello,
    HelloExtension,
    KeyframeRequest,
    PadArrival,
    PadRemoval,
    PairConfirm,
    PairReply,
    Ping,
    Pong,
    RateUpdate,
    ReliableInput,
    StatsReport,
    UnknownMessage,
    Welcome,
    WelcomeExtension,
    decode_block,
    decode_hello,
    decode_message,
    decode_start,
    encode_block,
    frame,
)
from ..datagrams import (
    AudioPacket,
    FrameTiming,
    InputEvent,
    PadAxis,
    PadButton,
    PadSnapshot,
    Rumble,
    parse_datagram,
)
from ..errors import ProtocolError
from ..fec import GF16
from ..gamepad import PadTracker
from ..input import KIND_GROUP, Kind
from ..video.config import M3_MAX_DATA_PER_BLOCK, M3_PERCENT, M3_SALT, M3_SHARD_PAYLOAD, VideoConfig
from .auth import NONCE_SIZE, PairingError, PairingExchange, verify_proof
from .endpoint import Endpoint
from .events import (
    HelloReceived,
    HostEvent,
    InputReceived,
    KeyframeRequested,
    PadArrived,
    PadChanged,
    PadRemoved,
    PairingRequested,
    PairingSucceeded,
    StartReceived,
    StatsReceived,
)
from .mode import BASE, EXTENDED, Mode, negotiated

HANDSHAKE_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True, slots=True, kw_only=True)
class HostOffer:
    """What this host offers every client; M3's host offer by default."""

    video_port: int
    codecs: tuple[str, ...] = ("h264", "hevc")  # what it encodes, preferred first (extended mode)
    base_codec: str = "hevc"  # what an M3 client gets: M3's clients expect HEVC
    fec_scheme: int = GF16
    fec_percent: int = M3_PERCENT
    max_data_per_block: int = M3_MAX_DATA_PER_BLOCK
    shard_payload: int = M3_SHARD_PAYLOAD
    encrypt: bool = True
    salt: bytes = M3_SALT
    frames: int = 0  # Welcome.frames: a synthetic source's count, 0 = unbounded
    host_name: str = ""
    fingerprint: str = ""  # the host certificate's (hex); client keys are challenged only with it
    bitrate_kbps: int = 20_000
    extensions: bool = True  # False: behave exactly as an M3 host
    handshake_timeout_s: float = HANDSHAKE_TIMEOUT_S
    liveness_timeout_s: float = 3.0
    grace_s: float = 10.0
    rumble_resend_s: float = 0.5


class HostSession(Endpoint[HostEvent]):
    def __init__(self, offer: HostOffer, *, key: bytes, now: float, wall_offset_ns: int = 0,
                 nonce: bytes | None = None) -> None:
        """``key``: the session's fresh video key (16 random bytes); ``nonce``: the
        authentication challenge's (32 random bytes; drawn here if not given);
        ``wall_offset_ns``: the wall clock minus the session clock (Pongs carry the wall
        clock, the clock of every pts)."""
        super().__init__()
        self.offer = offer
        self._key = key
        self._nonce = nonce if nonce is not None else secrets.token_bytes(NONCE_SIZE)
        self.client_key: bytes | None = None  # proven (AuthProof verified)
        self._pairing: PairingExchange | None = None
        self._hello_msg: Hello | None = None
        self._wall_offset_ns = wall_offset_ns
        self._reader = FrameReader()
        self._state = "hello"
        self.mode: Mode = BASE
        self.hello_extension: HelloExtension | None = None
        self.welcome: Welcome | None = None
        self.codec: str | None = None
        self.client_name = ""
        self.pads = PadTracker()
        self._rumble: dict[int, tuple[int, int]] = {}
        self._last_heard = now
        self.input_counts: Counter[str] = Counter()  # keys, mouse, pad
        self.keyframe_requests = 0
        self.last_stats: StatsReceived | None = None
        self.audio_sent = 0
        self.rumble_sent = 0
        self.datagrams_early = 0  # before the Welcome: nothing to apply them to
        self._deadlines["handshake"] = now + offer.handshake_timeout_s

    @property
    def streaming(self) -> bool:
        return self._state == "streaming"

    @property
    def video_config(self) -> VideoConfig:
        """The video plane the Welcome announced (after accept)."""
        if self.welcome is None:
            raise RuntimeError("no Welcome yet")
        return replace(self.welcome.video_config(), min_parity=self.mode.parity_floor)

    # -- driving --------------------------------------------------------------------

    def receive_control(self, data: bytes, now: float) -> None:
        if self.ended:
            return
        self.heard(now)
        try:
            for payload in self._reader.feed(data):
                if self._state == "hello":
                    self._hello(payload)
                elif self._state == "start":
                    self._start(payload)
                elif self._state == "streaming" and self.mode.messages:
                    self._message(payload, now)
                elif self._state in ("proving", "pairing"):
                    self._handshake_message(payload)
                elif self._state in ("deciding", "paired"):
                    raise ProtocolError("a second message before the Welcome")
                # Base mode: nothing follows Start; what does is ignored.
                if self.ended:
                    return
        except ProtocolError as exc:
            self._fail(f"the client broke lumen/1: {exc}", GoodbyeCode.PROTOCOL_ERROR)

    def control_finished(self, now: float) -> None:
        """The client finished or reset the control stream: normal after Start (§2.5)."""
        if self._state in ("hello", "proving", "deciding", "pairing", "paired", "start") and not self.ended:
            self._end("the client closed the control stream during the handshake", by_peer=True, error=True,
                      close=(0, ""))

    def receive_datagram(self, data: bytes, now: float) -> None:
        # From the Welcome on: a client streams as soon as it has sent Start, and QUIC may
        # put its first datagrams in the same packet as Start, ahead of the stream frame.
        if self._state not in ("start", "streaming"):
            self.datagrams_early += 1
            return
        self.heard(now)
        dgram = self._parse_datagram(data)
        if dgram is None:
            return
        if isinstance(dgram, InputEvent):
            self._input(dgram, reliable=False)
        elif self.mode.seq_pads and isinstance(dgram, PadButton | PadAxis | PadSnapshot):
            self.input_counts["pad"] += 1
            if isinstance(dgram, PadButton):
                applied = self.pads.apply_button(dgram.pad, dgram.seq, dgram.flag, dgram.down)
            elif isinstance(dgram, PadAxis):
                applied = self.pads.apply_axis(dgram.pad, dgram.seq, dgram.axis, dgram.value)
            else:
                applied = self.pads.apply_snapshot(dgram.pad, dgram.seq, dgram.state)
            if applied:
                self._pad_changed(dgram.pad)
        else:
            self.datagrams_unexpected += 1

    def connection_lost(self, reason: str, now: float, code: int | None = None) -> None:
        if not self.ended:
            self._end(f"client: {reason or 'connection closed'}", by_peer=True,
                      error=self._state != "streaming", code=code)

    # -- the owner's answers ------------------------------------------------------------

    def accept(self, now: float, *, width: int, height: int, refresh_hz: int, bitrate_kbps: int | None = None) -> None:
        """Take the client: send the Welcome for this mode (the offer's video plane)."""
        if self._state != "deciding" or self._pairing_asked:
            raise RuntimeError("accept() answers a HelloReceived")
        offer = self.offer
        self.welcome = Welcome(
            udp_port=offer.video_port, width=width, height=height, refresh_hz=refresh_hz,
            fec_scheme=offer.fec_scheme, fec_percent=offer.fec_percent,
            max_data_per_block=offer.max_data_per_block, shard_payload=offer.shard_payload,
            encrypt=offer.encrypt, key=self._key, salt=offer.salt, frames=offer.frames,
        )
        payload = self.welcome.encode()
        if self.mode.extended:
            payload += encode_block(WelcomeExtension(
                codec=CODEC_IDS[self.codec or offer.base_codec], host_name=offer.host_name[:64] or None,
                bitrate_kbps=bitrate_kbps or offer.bitrate_kbps, audio_channels=2,
            ), EXTENSION_VERSION)
        self._control += frame(payload)
        self._state = "start"

    def refuse(self, code: int, reason: str, now: float, *, retry_after_ms: int | None = None) -> None:
        """Turn the client away (the host is busy, say): Goodbye in extended mode; an
        M3 client learns the code and reason from the QUIC close."""
        if self._state not in ("deciding", "paired"):
            raise RuntimeError("refuse() answers a HelloReceived or a PairingRequested")
        if self.mode.messages:
            self._control += Goodbye(code=code, reason=reason[:256], retry_after_ms=retry_after_ms).encode()
        self._end(reason, by_peer=False, error=True, code=code, close=(code, reason))

    def answer_pairing(self, pin: str, now: float) -> None:
        """Answer a PairingRequested with the PIN the host shows: SPAKE2's reply and the
        host's confirmation. The client's confirmation decides (PairingSucceeded)."""
        ext = self.hello_extension
        if self._state != "deciding" or not self._pairing_asked or ext is None or ext.pair is None:
            raise RuntimeError("answer_pairing() answers a PairingRequested")
        assert self.client_key is not None
        exchange = PairingExchange("host", pin, self.client_key, self.offer.fingerprint)
        try:
            exchange.finish(ext.pair)
        except PairingError as exc:
            self.refuse(GoodbyeCode.PAIRING_FAILED, str(exc), now)
            return
        self._pairing = exchange
        self._control += PairReply(spake=exchange.message, confirm=exchange.host_confirm).encode()
        self._state = "pairing"

    def finish_pairing(self, now: float) -> None:
        """The client is stored: tell it so, and close (a pairing connection never streams)."""
        if self._state != "paired":
            raise RuntimeError("finish_pairing() follows PairingSucceeded")
        self._deadlines.pop("handshake", None)
        self._control += Goodbye(code=GoodbyeCode.NORMAL, reason="paired").encode()
        self._end(f"paired with {self.client_name}", by_peer=False, error=False, code=GoodbyeCode.NORMAL,
                  close=(GoodbyeCode.NORMAL, "paired"))

    def end(self, now: float, *, error: bool = False, reason: str = "", code: int | None = None) -> None:
        """End a session from the host's side: ``error`` for a failed video plane;
        ``code``: the Goodbye's, if not INTERNAL_ERROR or NORMAL (a revoked client)."""
        if self.ended:
            return
        if code is None:
            code = GoodbyeCode.INTERNAL_ERROR if error else GoodbyeCode.NORMAL
        if self.mode.messages:
            text = reason or ("error" if error else "done")
            self._control += Goodbye(code=code, reason=text[:256]).encode()
            self._end(text, by_peer=False, error=error, code=code, close=(code, text))
        else:
            self._end(reason or ("error" if error else "done"), by_peer=False, error=error,
                      close=(1, "error") if error else (0, "done"))

    def send_audio(self, seq: int, pts_ns: int, payload: bytes) -> None:
        if self.streaming and not self.peer_silent:
            self._datagram(AudioPacket(seq=seq, pts_ns=pts_ns, payload=payload).encode())
            self.audio_sent += 1

    def send_frame_timing(self, frame_index: int, host_us: int) -> None:
        if self.streaming and self.mode.frame_timing:
            self._datagram(FrameTiming(frame_index=frame_index, host_us=host_us).encode())

    def send_rate_update(self, bitrate_kbps: int, fec_percent: int, reason: str) -> None:
        """Tell the client what the rate control set (extended mode)."""
        if self.streaming and self.mode.messages:
            self._control += RateUpdate(bitrate_kbps=bitrate_kbps, fec_percent=fec_percent,
                                        reason=reason[:64]).encode()

    def set_rumble(self, pad: int, low: int, high: int, now: float) -> None:
        if not self.streaming or self._rumble.get(pad) == (low, high):
            return
        self._rumble[pad] = (low, high)
        self._send_rumble(pad)
        self._deadlines.setdefault("rumble", now + self.offer.rumble_resend_s)

    # -- internals ------------------------------------------------------------------

    def _hello(self, payload: bytes) -> None:
        hello, trailing = decode_hello(payload)
        try:
            block = decode_block(trailing, HelloExtension) if self.offer.extensions else None
        except ProtocolError as exc:
            # A block, however broken, means a lumen client: it can read why.
            self.mode = EXTENDED
            self._refuse_now(GoodbyeCode.PROTOCOL_ERROR, f"refused Hello: malformed extension block: {exc}")
            return
        self.mode = negotiated(block[0] if block else None, EXTENSION_VERSION if self.offer.extensions else None)
        self.hello_extension = block[1] if block is not None and self.mode.extended else None
        ext = self.hello_extension
        self.client_name = (ext.client_name if ext and ext.client_name else "") or (
            "an M3 client" if not self.mode.extended else "unnamed client")
        problem = hello.mode_error()
        if problem is not None:
            code = GoodbyeCode.UNSUPPORTED_VERSION if hello.abi_version != 1 else GoodbyeCode.PROTOCOL_ERROR
            self._refuse_now(code, f"refused Hello: {problem}")
            return
        if ext is not None:
            wanted = [c for c in self.offer.codecs if c in ext.codec_names]
            if not wanted:
                self._refuse_now(GoodbyeCode.NO_COMMON_CODEC, f"host sends {', '.join(self.offer.codecs)}; "
                                 f"client decodes {', '.join(ext.codec_names) or 'nothing it knows'}")
                return
            self.codec = wanted[0]
        else:
            self.codec = self.offer.base_codec
        self._hello_msg = hello
        if ext is not None and ext.pair is not None and (ext.client_key is None or not self.mode.auth):
            self._refuse_now(GoodbyeCode.PROTOCOL_ERROR, "refused Hello: pairing needs a client key "
                             "(extension version 2)")
            return
        if ext is not None and ext.client_key is not None and self.mode.auth and self.offer.fingerprint:
            self._control += AuthChallenge(nonce=self._nonce).encode()
            self._state = "proving"
            return
        if ext is not None and ext.pair is not None:
            self._refuse_now(GoodbyeCode.PAIRING_FAILED, "this host cannot pair (it has no certificate fingerprint)")
            return
        self._decide()

    @property
    def _pairing_asked(self) -> bool:
        ext = self.hello_extension
        return ext is not None and ext.pair is not None

    def _decide(self) -> None:
        assert self._hello_msg is not None
        self._state = "deciding"
        if self._pairing_asked:
            assert self.client_key is not None
            self._event(PairingRequested(client_key=self.client_key, client_name=self.client_name))
        else:
            self._event(HelloReceived(hello=self._hello_msg, extension=self.hello_extension, mode=self.mode,
                                      client_key=self.client_key))

    def _handshake_message(self, payload: bytes) -> None:
        """Authentication and pairing, between the Hello and the Welcome."""
        msg = decode_message(payload)
        ext = self.hello_extension
        if isinstance(msg, Goodbye):
            name = GOODBYE_NAMES.get(msg.code, f"code {msg.code}")
            self._end(f"client: {msg.reason or name}", by_peer=True, error=True, code=msg.code,
                      close=(0, "goodbye"))
        elif isinstance(msg, AuthProof) and self._state == "proving":
            assert ext is not None and ext.client_key is not None
            if not verify_proof(ext.client_key, msg.signature, self._nonce, self.offer.fingerprint):
                self._fail("refused: the client's proof of its key does not verify", GoodbyeCode.PROTOCOL_ERROR)
                return
            self.client_key = ext.client_key
            self._decide()
        elif isinstance(msg, PairConfirm) and self._state == "pairing":
            assert self._pairing is not None and self.client_key is not None
            if not self._pairing.check(self._pairing.client_confirm, msg.confirm):
                self._fail("pairing failed: wrong PIN", GoodbyeCode.PAIRING_FAILED)
                return
            self._state = "paired"
            self._event(PairingSucceeded(client_key=self.client_key, client_name=self.client_name))
        elif isinstance(msg, UnknownMessage):
            pass
        else:
            raise ProtocolError(f"{type(msg).__name__} during the {self._state} step of the handshake")

    def _refuse_now(self, code: int, reason: str) -> None:
        """A Hello this host cannot serve: M3 closes silently (code 0, no reason)."""
        self._state = "deciding"
        if self.mode.messages:
            self.refuse(code, reason, 0.0)
        else:
            self._end(reason, by_peer=False, error=True, code=code, close=(0, ""))

    def _start(self, payload: bytes) -> None:
        start, _ = decode_start(payload)
        self._deadlines.pop("handshake", None)
        self._state = "streaming"
        if self.mode.messages:
            self._watch_liveness(self._last_heard, self.offer.liveness_timeout_s, self.offer.grace_s)
        self._event(StartReceived(client_udp_port=start.client_udp_port))

    def _message(self, payload: bytes, now: float) -> None:
        msg = decode_message(payload)
        if isinstance(msg, Ping):
            self._control += Pong(token=msg.token, ping_sent_ns=msg.sent_ns,
                                  peer_time_ns=int(now * 1e9) + self._wall_offset_ns).encode()
        elif isinstance(msg, KeyframeRequest):
            self.keyframe_requests += 1
            self._event(KeyframeRequested(last_frame=msg.last_frame))
        elif isinstance(msg, StatsReport):
            self.last_stats = StatsReceived(
                frames_received=msg.frames_received, frames_recovered=msg.frames_recovered,
                frames_lost=msg.frames_lost, frames_decoded=msg.frames_decoded, decode_time_us=msg.decode_time_us,
                keyframe_requests=msg.keyframe_requests, audio_packets=msg.audio_packets,
                video_packets_expected=msg.video_packets_expected, video_packets_received=msg.video_packets_received,
                queue_delay_us=msg.queue_delay_us,
            )
            self._event(self.last_stats)
        elif isinstance(msg, ReliableInput):
            try:
                event = parse_datagram(msg.event)
            except ProtocolError as exc:
                raise ProtocolError(f"ReliableInput: {exc}") from None
            if isinstance(event, InputEvent):
                self._input(event, reliable=True)
        elif isinstance(msg, PadArrival):
            self._event(PadArrived(pad=msg.pad, name=msg.name))
        elif isinstance(msg, PadRemoval):
            self.pads.remove(msg.pad)
            self._rumble.pop(msg.pad, None)
            self._event(PadRemoved(pad=msg.pad))
        elif isinstance(msg, Goodbye):
            name = GOODBYE_NAMES.get(msg.code, f"code {msg.code}")
            self._end(f"client: {msg.reason or name}", by_peer=True, error=msg.code != GoodbyeCode.NORMAL,
                      code=msg.code, close=(0, "goodbye"))
        elif isinstance(msg, UnknownMessage):
            pass  # a newer client's addition
        # Host-to-client messages (Pong answers we did not ask for) are ignored.

    def _input(self, event: InputEvent, *, reliable: bool) -> None:
        group = KIND_GROUP.get(Kind(event.kind))
        if group is not None:
            self.input_counts[group] += 1
        if event.kind == Kind.PAD_BUTTON:
            if self.pads.apply_base_button(event.flags, event.code, event.x != 0):
                self._pad_changed(event.flags)
        elif event.kind == Kind.PAD_AXIS:
            if self.pads.apply_base_axis(event.flags, event.code, event.x):
                self._pad_changed(event.flags)
        else:
            self._event(InputReceived(event=event, reliable=reliable))

    def _pad_changed(self, pad: int) -> None:
        state = self.pads.state(pad)
        if state is not None:
            self._event(PadChanged(pad=pad, state=state))

    def _send_rumble(self, pad: int) -> None:
        low, high = self._rumble[pad]
        self._datagram(Rumble(pad=pad, low=low, high=high).encode())
        self.rumble_sent += 1

    def _fail(self, reason: str, code: int) -> None:
        if self.mode.messages and self._state != "hello":
            self._control += Goodbye(code=code, reason=reason[:256]).encode()
            self._end(reason, by_peer=False, error=True, code=code, close=(code, reason))
        else:
            self._end(reason, by_peer=False, error=True, code=code, close=(0, ""))

    def _on_timer(self, name: str, now: float) -> None:
        if name == "handshake":
            reason = f"no Start within {self.offer.handshake_timeout_s:.0f} s of the connection"
            if self.mode.messages and self._state != "hello":
                if self._state in ("proving", "pairing", "paired") or self._pairing_asked:
                    reason = f"the handshake did not finish within {self.offer.handshake_timeout_s:.0f} s"
                self._control += Goodbye(code=GoodbyeCode.TIMEOUT, reason=reason).encode()
                self._end(reason, by_peer=False, error=True, code=GoodbyeCode.TIMEOUT,
                          close=(GoodbyeCode.TIMEOUT, reason))
            else:
                self._end(reason, by_peer=False, error=True, code=GoodbyeCode.TIMEOUT, close=(0, ""))
        elif name == "liveness":
            self._liveness_timer(now)
        elif name == "rumble":
            for pad in list(self._rumble):
                self._send_rumble(pad)
            if self._rumble:
                self._deadlines["rumble"] = now + self.offer.rumble_resend_s

    def _peer_gone(self, reason: str, now: float) -> None:
        reason = f"client gone: {reason}"
        self._control += Goodbye(code=GoodbyeCode.TIMEOUT, reason=reason[:256]).encode()
        self._end(reason, by_peer=False, error=True, code=GoodbyeCode.TIMEOUT, close=(GoodbyeCode.TIMEOUT, reason))
