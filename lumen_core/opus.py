"""Opus, through opuslib-next, loaded where it is needed and explained where it is not.

opuslib-next looks for the system's libopus when it is imported and, finding none,
loads nothing in its place: the first call into it then fails with an AttributeError.
Both sides' command lines call ``missing()`` first, which makes a decoder, so a machine
without libopus gets one sentence instead of a traceback mid-session.
"""

from __future__ import annotations

from .audio import CHANNELS, RATE

INSTALL_HINT = "install libopus (Debian and Ubuntu: apt install libopus0; Fedora: dnf install opus)"


def missing() -> str | None:
    """Why Opus cannot be used here, or None if it can."""
    try:
        import opuslib_next

        opuslib_next.Decoder(RATE, CHANNELS)
    except Exception as exc:  # whatever a missing or broken libopus raises
        return f"Opus audio needs libopus, which could not be loaded ({exc}): {INSTALL_HINT}"
    return None
