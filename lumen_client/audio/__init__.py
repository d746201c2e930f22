"""The client's audio: the jitter buffer that decodes the host's Opus and plays what is
due (jitter.py), and the outputs it plays into, each a ``Sink[bytes]`` of 5 ms blocks:
PortAudio (portaudio.py; PulseAudio and PipeWire through ALSA). The headless client has
no output: it decodes and counts."""

from .jitter import AudioReceiver, PcmSink

__all__ = ["AudioReceiver", "PcmSink"]
