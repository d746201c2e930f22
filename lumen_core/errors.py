"""The exceptions lumen_core raises.

Every parser in the core turns malformed input into ``ProtocolError`` (or counts and
drops it, where the contract says so): never ``IndexError``, ``struct.error`` or
``KeyError``. Callers catch one type per concern.
"""

from __future__ import annotations


class LumenError(Exception):
    """Base class of every error the core raises on purpose."""


class ProtocolError(LumenError):
    """Bytes from the peer violate lumen/1.

    The peer is at fault. ``code`` is the goodbye code a session closes with.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class PinError(LumenError, ValueError):
    """A fingerprint pin typed by a person is malformed. The message says how."""


class IdentityError(LumenError):
    """The host identity on disk is missing, unreadable, or unsafely stored."""


class FecError(LumenError, ValueError):
    """An FEC call was given shapes the code cannot handle (our fault, not the peer's)."""
