"""Shared fixtures: the desktop stand-ins (Xvfb, a PulseAudio null sink) from desktop.py."""

from desktop import pulse_sink, xvfb_display

__all__ = ["pulse_sink", "xvfb_display"]
