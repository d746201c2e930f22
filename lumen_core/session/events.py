"""What the session state machines tell their owner: frozen, keyword-only events.

The host's and the client's sessions hand these out from ``next_event()``; the network
wrapper acts on them (starts the video plane, applies input, plays audio).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..control import Hello, HelloExtension, Welcome, WelcomeExtension
from ..datagrams import AudioPacket, InputEvent
from ..gamepad import PadState
from ..video.config import VideoConfig
from .mode import Mode

# -- both sides ----------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionEnded:
    """The session is over. ``by_peer``: the other side ended it (its Goodbye or close);
    ``error``: it ended abnormally (protocol error, timeout, refusal). ``code`` is the
    Goodbye/close code, when there was one."""

    reason: str
    by_peer: bool
    error: bool
    code: int | None = None
    retry_after_s: float | None = None  # the peer said when asking again can succeed


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerSilent:
    """Nothing heard from the peer for ``silent_s`` (the liveness timeout): the link is
    down or the peer is gone. The session waits for it until the grace period ends."""

    silent_s: float
    grace_s: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerReturned:
    """The peer is heard again after an outage of ``outage_s``, on the same connection."""

    outage_s: float


# -- client ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Streaming:
    """The host's Welcome was accepted and Start is queued: open the video plane now.

    ``codec``: what the Welcome's extension names, or None (base mode: an M3 host sends
    HEVC and says nothing; find it in the bitstream).
    """

    mode: Mode
    welcome: Welcome
    extension: WelcomeExtension | None
    codec: str | None
    video: VideoConfig


@dataclass(frozen=True, slots=True, kw_only=True)
class Paired:
    """The host verified the PIN exchange and authorized this client: pin
    ``host_fingerprint`` (the exchange bound it) and end."""

    host_fingerprint: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AudioReceived:
    packet: AudioPacket


@dataclass(frozen=True, slots=True, kw_only=True)
class RumbleReceived:
    pad: int
    low: int
    high: int


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameTimingReceived:
    frame_index: int
    host_us: int


# -- host ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class HelloReceived:
    """A client asked to stream: answer with ``accept`` (after taking the host's slot)
    or ``refuse``. ``mode``: what the session will run if accepted; ``client_key``: the
    Ed25519 key the client proved it holds (extension version 2), None if it showed none."""

    hello: Hello
    extension: HelloExtension | None
    mode: Mode
    client_key: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingRequested:
    """A client that proved ``client_key`` asks to pair: answer with ``answer_pairing``
    (the PIN now shown to the person) or ``refuse``."""

    client_key: bytes
    client_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PairingSucceeded:
    """Both key confirmations verified: the client typed the PIN. Store the client,
    then ``finish_pairing``; until then nothing is authorized."""

    client_key: bytes
    client_name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StartReceived:
    """The client's Start: stream video to the QUIC peer's IP and ``client_udp_port``."""

    client_udp_port: int


@dataclass(frozen=True, slots=True, kw_only=True)
class InputReceived:
    """A keyboard or mouse event (pads arrive as PadChanged). ``reliable``: it came on
    the control stream (extended mode's keys and buttons)."""

    event: InputEvent
    reliable: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class PadChanged:
    pad: int
    state: PadState


@dataclass(frozen=True, slots=True, kw_only=True)
class PadArrived:
    pad: int
    name: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PadRemoved:
    pad: int


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyframeRequested:
    last_frame: int | None


@dataclass(frozen=True, slots=True, kw_only=True)
class StatsReceived:
    frames_received: int
    frames_recovered: int
    frames_lost: int
    frames_decoded: int
    decode_time_us: int
    keyframe_requests: int | None
    audio_packets: int | None
    video_packets_expected: int | None = None
    video_packets_received: int | None = None
    queue_delay_us: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class RateChanged:
    """The host's rate control changed the stream's bitrate or FEC (extended mode)."""

    bitrate_kbps: int
    fec_percent: int
    reason: str


ClientEvent = (
    Streaming | Paired | AudioReceived | RumbleReceived | FrameTimingReceived | RateChanged | PeerSilent
    | PeerReturned | SessionEnded
)
HostEvent = (
    HelloReceived | PairingRequested | PairingSucceeded | StartReceived | InputReceived | PadChanged | PadArrived
    | PadRemoved | KeyframeRequested
    | StatsReceived | PeerSilent | PeerReturned | SessionEnded
)
