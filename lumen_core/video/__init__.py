"""The video plane: packetizer (host), reassembler (client), and their shared wire format."""

from .header import MAX_FRAME_SIZE, ShardHeader, parse_header
from .packetizer import Packetizer, SenderStats
from .reassembler import FrameReady, KeyframeNeeded, Reassembler, ReceiverStats

__all__ = [
    "MAX_FRAME_SIZE", "FrameReady", "KeyframeNeeded", "Packetizer", "Reassembler",
    "ReceiverStats", "SenderStats", "ShardHeader", "parse_header",
]
