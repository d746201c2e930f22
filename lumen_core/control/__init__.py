"""The control stream of lumen/1: M3's handshake (base.py), lumen's extension blocks
(extensions.py) and extended messages (messages.py), all framed by framing.py."""

from .base import ABI_VERSION, Hello, Start, Welcome, decode_hello, decode_start, decode_welcome
from .extensions import (
    CODEC_IDS,
    CODEC_NAMES,
    EXTENSION_VERSION,
    HelloExtension,
    WelcomeExtension,
    decode_block,
    encode_block,
)
from .framing import FrameReader, frame
from .messages import (
    GOODBYE_NAMES,
    Goodbye,
    GoodbyeCode,
    KeyframeRequest,
    Message,
    PadArrival,
    PadRemoval,
    Ping,
    Pong,
    RateUpdate,
    ReliableInput,
    StatsReport,
    UnknownMessage,
    decode_message,
)

__all__ = [
    "ABI_VERSION", "CODEC_IDS", "CODEC_NAMES", "EXTENSION_VERSION", "GOODBYE_NAMES", "FrameReader", "Goodbye",
    "GoodbyeCode", "Hello", "HelloExtension", "KeyframeRequest", "Message", "PadArrival", "PadRemoval", "Ping",
    "Pong", "RateUpdate", "ReliableInput", "Start", "StatsReport", "UnknownMessage", "Welcome", "WelcomeExtension",
    "decode_block", "decode_hello", "decode_message", "decode_start", "decode_welcome", "encode_block", "frame",
]
