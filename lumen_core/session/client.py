"""The client's side of a lumen/1 session, sans-IO.

Theory of operation (LUMEN-M3-WIRE.md §4.2, and docs/protocol.md for the extensions):

    state      on                       does
    ---------  -----------------------  ------------------------------------------------
    idle       connect()                send Hello (+ extension block), arm "handshake"
    hello      AuthChallenge            sign it with the client key: AuthProof
    hello      PairReply                check the host's confirmation: PairConfirm, or
                                        end "wrong PIN"
    hello      Welcome                  validate it (M3's rules), pick the mode, emit
                                        Streaming, send Start with the bound video port
    confirmed  Goodbye(NORMAL)          paired: emit Paired, end
    hello      "handshake" timer        end: "no Welcome within 10 s"
    streaming  extended messages        Pong -> clock offset; Goodbye -> end
    streaming  datagrams                audio, rumble (both modes), frame timing
    any        connection_lost()        end (by the peer)

- The video socket is bound *before* connect(): Start carries its port, and the host
  may send video the moment it reads Start (M3's clients reserve a port and bind it
  again after Start, and lose the first datagrams in that gap).
- Base mode: after Start the client writes nothing more on the control stream (an M3
  host finishes its side once it has read Start); keys and buttons go as 0xC8
  datagrams, there are no pings, keyframe requests or stats, and closing is a plain
  QUIC close with code 0.
- Extended mode: liveness as the host's (endpoint.py): the host, heard many times a
  second (audio, Pongs, video through ``heard``), is missed after
  ``liveness_timeout_s`` (PeerSilent) and given up after ``grace_s``: the session
  ends in error. Pings every ``ping_interval_s`` (RTT and the host's clock offset),
  stats every ``stats_interval_s`` (from ``stats_source``), keyframe requests at most one
  per ``keyframe_interval_s``, keys and mouse buttons on the control stream, pads with
  seq'd events and snapshots, and a Goodbye before the close.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..clock import ClockOffset
from ..control import (
    CODEC_IDS,
    CODEC_NAMES,
    EXTENSION_VERSION,
    AuthChallenge,
    AuthProof,
    FrameReader,
    Goodbye,
    GoodbyeCode,
    Hello,
    HelloExtension,
    KeyframeRequest,
    PairConfirm,
    PairReply,
    Ping,
    Pong,
    RateUpdate,
    ReliableInput,
    Start,
    StatsReport,
    UnknownMessage,
    WelcomeExtension,
    decode_block,
    decode_message,
    decode_welcome,
    encode_block,
    frame,
)
from ..control.messages import GOODBYE_NAMES, MESSAGE_MAGIC, PadArrival, PadRemoval
from ..datagrams import AudioPacket, FrameTiming, InputEvent, Rumble
from ..errors import ProtocolError
from ..gamepad import PadState
from ..input import Kind
from ..pad_sender import PadSender
from ..video.config import ConfigError
from .auth import PairingError, PairingExchange, public_key_bytes, sign_proof
from .endpoint import Endpoint
from .events import AudioReceived, ClientEvent, FrameTimingReceived, Paired, RateChanged, RumbleReceived, Streaming
from .mode import BASE, Mode, negotiated

# Pings outstanding longer than this are forgotten (their Pong is not coming).
PING_MEMORY_S: Final = 5.0
MAX_PINGS_OUTSTANDING: Final = 16
_RELIABLE_KINDS: Final = frozenset({Kind.KEY_DOWN, Kind.KEY_UP, Kind.MOUSE_BUTTON_DOWN, Kind.MOUSE_BUTTON_UP})


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientOptions:
    width: int
    height: int
    refresh_hz: int
    video_port: int  # the bound video socket's port, sent in Start
    codecs: tuple[str, ...] = ("h264", "hevc")  # what the decoder takes, preferred first
    client_name: str = ""
    bitrate_kbps: int | None = None
    extensions: bool = True  # False: speak exactly as an M3 client does
    handshake_timeout_s: float = 10.0
    ping_interval_s: float = 0.5
    stats_interval_s: float = 0.5  # the host's rate control acts on each
    keyframe_interval_s: float = 0.25
    liveness_timeout_s: float = 3.0
    grace_s: float = 10.0
    wall_offset_ns: int = 0  # this machine's wall clock minus the session clock (seeds the offset)
    identity: Ed25519PrivateKey | None = None  # the client's key, proven to hosts that ask (version 2)
    pair_pin: str | None = None  # pair with this PIN instead of streaming (needs ``identity``)


class ClientSession(Endpoint[ClientEvent]):
    def __init__(self, options: ClientOptions, *, stats_source: Callable[[], StatsReport] | None = None) -> None:
        super().__init__()
        self.options = options
        self._stats_source = stats_source
        self._reader = FrameReader()
        self._state = "idle"
        self.mode: Mode = BASE
        self.codec: str | None = None
        self.clock = ClockOffset(options.wall_offset_ns)
        self._pads = PadSender(extended=False)
        self._pings: dict[int, int] = {}
        self._ping_token = 0
        self._last_keyframe_request: float | None = None
        self.keyframe_requests = 0
        self._host_fingerprint = ""
        self._pairing: PairingExchange | None = None
        self.authenticated = False  # the host challenged the client key and this client answered

    @property
    def streaming(self) -> bool:
        return self._state == "streaming"

    # -- driving ------------------------------------------------------------------

    def connect(self, now: float, host_fingerprint: str = "") -> None:
        """The QUIC handshake is done and the host is trusted: say Hello.
        ``host_fingerprint``: its certificate's, which a key proof and a pairing bind."""
        if self._state != "idle":
            raise RuntimeError("connect() once, first")
        opts = self.options
        self._host_fingerprint = host_fingerprint
        client_key = public_key_bytes(opts.identity) if opts.identity is not None and opts.extensions else None
        if opts.pair_pin is not None:
            if client_key is None or not host_fingerprint:
                raise RuntimeError("pairing needs extensions, an identity and the host's fingerprint")
            self._pairing = PairingExchange("client", opts.pair_pin, client_key, host_fingerprint)
        payload = Hello(width=opts.width, height=opts.height, refresh_hz=opts.refresh_hz).encode()
        if opts.extensions:
            payload += encode_block(HelloExtension(
                codecs=bytes(CODEC_IDS[c] for c in opts.codecs if c in CODEC_IDS),
                client_name=opts.client_name.encode("utf-8")[:64].decode("utf-8", "ignore") or None,
                bitrate_kbps=opts.bitrate_kbps, audio_channels=2, client_key=client_key,
                pair=self._pairing.message if self._pairing is not None else None,
            ), EXTENSION_VERSION)
        self._control += frame(payload)
        self._state = "hello"
        self._deadlines["handshake"] = now + opts.handshake_timeout_s

    def receive_control(self, data: bytes, now: float) -> None:
        if self.ended:
            return
        self.heard(now)
        try:
            for payload in self._reader.feed(data):
                if self._state in ("hello", "confirmed"):
                    if self.options.extensions and payload[:4] == MESSAGE_MAGIC:
                        self._handshake_message(payload, now)
                    elif self._pairing is not None:
                        self._fail("the host does not pair clients (it speaks an older lumen/1): "
                                   "connect with its fingerprint instead", GoodbyeCode.PAIRING_FAILED)
                    else:
                        self._welcome(payload, now)
                elif self._state == "streaming" and self.mode.messages:
                    self._message(payload, now)
                # Base mode: nothing follows the Welcome; ignore what does.
                if self.ended:
                    return
        except ProtocolError as exc:
            self._fail(f"the host broke lumen/1: {exc}", GoodbyeCode.PROTOCOL_ERROR)

    def control_finished(self, now: float) -> None:
        """The host finished or reset the control stream: normal after the Welcome."""
        if self._state in ("hello", "confirmed") and not self.ended:
            self._end("the host closed the control stream before its Welcome", by_peer=True, error=True,
                      close=(0, "client closed"))

    def receive_datagram(self, data: bytes, now: float) -> None:
        if not self.streaming:
            return
        self.heard(now)
        dgram = self._parse_datagram(data)
        if dgram is None:
            return
        if isinstance(dgram, AudioPacket):
            self._event(AudioReceived(packet=dgram))
        elif isinstance(dgram, Rumble):
            self._event(RumbleReceived(pad=dgram.pad, low=dgram.low, high=dgram.high))
        elif isinstance(dgram, FrameTiming) and self.mode.frame_timing:
            self._event(FrameTimingReceived(frame_index=dgram.frame_index, host_us=dgram.host_us))
        else:
            self.datagrams_unexpected += 1

    def connection_lost(self, reason: str, now: float, code: int | None = None) -> None:
        if not self.ended:
            text = reason or (f"connection closed (code {code})" if code else "connection closed")
            self._end(f"the host ended the session: {text}", by_peer=True,
                      error=self._state != "streaming" or bool(code), code=code)

    def close(self, now: float, reason: str = "client done") -> None:
        """End the session from this side: a Goodbye in extended mode, then a close."""
        if self.ended:
            return
        if self.streaming and self.mode.messages:
            self._control += Goodbye(code=GoodbyeCode.NORMAL, reason=reason[:256]).encode()
        self._end(reason, by_peer=False, error=False, close=(0, "client closed" if not self.mode.messages else reason))

    # -- what the person does -------------------------------------------------------

    def request_keyframe(self, now: float, last_frame: int | None = None) -> bool:
        """Ask for an IDR (extended mode, rate-limited); False if nothing was sent."""
        if not (self.streaming and self.mode.keyframe_requests):
            return False
        last = self._last_keyframe_request
        if last is not None and now - last < self.options.keyframe_interval_s:
            return False
        self._last_keyframe_request = now
        self.keyframe_requests += 1
        self._control += KeyframeRequest(last_frame=last_frame).encode()
        return True

    def send_input(self, event: InputEvent, now: float) -> None:
        """A keyboard or mouse event (pads go through set_pad)."""
        if not self.streaming:
            return
        if event.kind in _RELIABLE_KINDS and self.mode.reliable_input:
            self._control += ReliableInput(event=event.encode()).encode()
        else:
            self._datagram(event.encode())

    def set_pad(self, pad: int, state: PadState, now: float) -> None:
        if self.streaming:
            for data in self._pads.update(pad, state, int(now * 1e9)):
                self._datagram(data)
            self._arm_pads()

    def pad_arrived(self, pad: int, name: str, now: float, *, kind: int = 0, buttons: int = 0,
                    capabilities: int = 1) -> None:
        if self.streaming and self.mode.messages:
            self._control += PadArrival(pad=pad, kind=kind, buttons=buttons, capabilities=capabilities,
                                        name=name.encode("utf-8")[:128].decode("utf-8", "ignore")).encode()

    def pad_removed(self, pad: int, now: float) -> None:
        self._pads.remove(pad)
        if self.streaming and self.mode.messages:
            self._control += PadRemoval(pad=pad).encode()
        self._arm_pads()

    # -- internals ----------------------------------------------------------------

    def _welcome(self, payload: bytes, now: float) -> None:
        welcome, trailing = decode_welcome(payload)
        block = decode_block(trailing, WelcomeExtension) if self.options.extensions else None
        mode = negotiated(EXTENSION_VERSION if self.options.extensions else None, block[0] if block else None)
        extension = block[1] if block is not None and mode.extended else None
        try:
            video = welcome.video_config().validate()
        except ConfigError as exc:
            self._fail(f"the host's Welcome offers a video plane M3's rules refuse: {exc}", GoodbyeCode.PROTOCOL_ERROR,
                       mode)
            return
        codec = None
        if extension is not None:
            codec = CODEC_NAMES.get(extension.codec)
            if codec not in self.options.codecs:
                self._fail(f"the host chose codec {codec or extension.codec}, which this client did not offer",
                           GoodbyeCode.NO_COMMON_CODEC, mode)
                return
        del self._deadlines["handshake"]
        self.mode, self.codec, self._state = mode, codec, "streaming"
        self._pads = PadSender(extended=mode.seq_pads)
        self._event(Streaming(mode=mode, welcome=welcome, extension=extension, codec=codec, video=video))
        self._control += frame(Start(client_udp_port=self.options.video_port).encode())
        if mode.messages:
            self._deadlines["ping"] = now
            self._deadlines["stats"] = now + self.options.stats_interval_s
            self._watch_liveness(now, self.options.liveness_timeout_s, self.options.grace_s)

    def _handshake_message(self, payload: bytes, now: float) -> None:
        """Before the Welcome: the key challenge, pairing, or a refusal."""
        msg = decode_message(payload)
        opts = self.options
        if isinstance(msg, AuthChallenge) and self._state == "hello":
            if opts.identity is None or not self._host_fingerprint or self.authenticated:
                raise ProtocolError("an AuthChallenge this client did not ask for")
            self.authenticated = True
            self._control += AuthProof(signature=sign_proof(opts.identity, msg.nonce, self._host_fingerprint)).encode()
        elif isinstance(msg, PairReply) and self._state == "hello" and self._pairing is not None:
            try:
                self._pairing.finish(msg.spake)
            except PairingError as exc:
                self._pairing_failed(str(exc))
                return
            if not self._pairing.check(self._pairing.host_confirm, msg.confirm):
                self._pairing_failed("wrong PIN (or someone is between this client and the host)")
                return
            self._control += PairConfirm(confirm=self._pairing.client_confirm).encode()
            self._state = "confirmed"
        elif isinstance(msg, Goodbye) and self._state == "confirmed" and msg.code == GoodbyeCode.NORMAL:
            del self._deadlines["handshake"]
            self._event(Paired(host_fingerprint=self._host_fingerprint))
            self._end("paired", by_peer=True, error=False, code=msg.code, close=(0, "paired"))
        elif isinstance(msg, Goodbye | UnknownMessage):
            self._message(payload, now)  # a refusal: the host's Goodbye instead of a Welcome
        else:
            raise ProtocolError(f"{type(msg).__name__} before the Welcome")

    def _pairing_failed(self, reason: str) -> None:
        reason = f"pairing failed: {reason}"
        self._control += Goodbye(code=GoodbyeCode.PAIRING_FAILED, reason=reason[:256]).encode()
        self._end(reason, by_peer=False, error=True, code=GoodbyeCode.PAIRING_FAILED,
                  close=(GoodbyeCode.PAIRING_FAILED, reason))

    def _message(self, payload: bytes, now: float) -> None:
        msg = decode_message(payload)
        if isinstance(msg, Pong):
            sent = self._pings.pop(msg.token, None)
            if sent is not None:
                self.clock.add(sent, msg.peer_time_ns, int(now * 1e9))
        elif isinstance(msg, Ping):
            self._control += Pong(token=msg.token, ping_sent_ns=msg.sent_ns,
                                  peer_time_ns=int(now * 1e9) + self.options.wall_offset_ns).encode()
        elif isinstance(msg, Goodbye):
            name = GOODBYE_NAMES.get(msg.code, f"code {msg.code}")
            # Before the Welcome, a Goodbye is a refusal.
            what = "refused" if self._state in ("hello", "confirmed") else "the host ended the session"
            self._end(f"{what}: {msg.reason or name}", by_peer=True,
                      error=msg.code != GoodbyeCode.NORMAL, code=msg.code, close=(0, "goodbye"),
                      retry_after_s=msg.retry_after_ms / 1000 if msg.retry_after_ms is not None else None)
        elif isinstance(msg, RateUpdate):
            self._event(RateChanged(bitrate_kbps=msg.bitrate_kbps, fec_percent=msg.fec_percent,
                                    reason=msg.reason or ""))
        elif isinstance(msg, UnknownMessage):
            pass  # a newer host's addition
        # Anything else is a client-to-host message: ignored.

    def _fail(self, reason: str, code: int, mode: Mode | None = None) -> None:
        mode = mode or self.mode
        if self._state == "streaming" and mode.messages:
            self._control += Goodbye(code=code, reason=reason[:256]).encode()
        self._end(reason, by_peer=False, error=True, code=code, close=(code, reason))

    def _arm_pads(self) -> None:
        timer = self._pads.get_timer()
        if timer is None:
            self._deadlines.pop("pads", None)
        elif not self.ended:
            self._deadlines["pads"] = timer / 1e9

    def _on_timer(self, name: str, now: float) -> None:
        opts = self.options
        if name == "handshake":
            self._end(f"the host did not answer Hello within {opts.handshake_timeout_s:.0f} s", by_peer=False,
                      error=True, code=GoodbyeCode.TIMEOUT, close=(0, "client closed"))
        elif name == "ping":
            now_ns = int(now * 1e9)
            self._ping_token = (self._ping_token + 1) & 0xFFFFFFFF
            self._pings = {t: s for t, s in self._pings.items() if now_ns - s < PING_MEMORY_S * 1e9}
            if len(self._pings) < MAX_PINGS_OUTSTANDING:
                self._pings[self._ping_token] = now_ns
                self._control += Ping(token=self._ping_token, sent_ns=now_ns).encode()
            self._deadlines["ping"] = now + opts.ping_interval_s
        elif name == "stats":
            if self._stats_source is not None:
                self._control += self._stats_source().encode()
            self._deadlines["stats"] = now + opts.stats_interval_s
        elif name == "pads":
            for data in self._pads.handle_timer(int(now * 1e9)):
                self._datagram(data)
            self._arm_pads()
        elif name == "liveness":
            self._liveness_timer(now)

    def _peer_gone(self, reason: str, now: float) -> None:
        reason = f"lost the host: {reason}"
        self._control += Goodbye(code=GoodbyeCode.TIMEOUT, reason=reason[:256]).encode()
        self._end(reason, by_peer=False, error=True, code=GoodbyeCode.TIMEOUT, close=(GoodbyeCode.TIMEOUT, reason))

