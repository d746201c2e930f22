"""The video plane: packetizer (host), reassembler (client), and their shared wire format."""

from .config import ConfigError, VideoConfig
from .header import PacketHeader, parse_header
from .packetizer import Packetizer, SealedBlock, SenderStats
from .reassembler import FrameReady, Reassembler, ReceiverStats

__all__ = [
    "ConfigError", "FrameReady", "PacketHeader", "Packetizer", "Reassembler", "ReceiverStats",
    "SealedBlock", "SenderStats", "VideoConfig", "parse_header",
]
