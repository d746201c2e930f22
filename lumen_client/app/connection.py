"""A stream session on its own thread ("lumen-net", an asyncio loop), reporting to Qt
through signals. The GUI thread never waits on the network.

The session is wired (``wiring.wire``) to the stream window's sinks: its GL window for
pictures, the sound card, the pads."""

from __future__ import annotations

import asyncio
import logging
import threading
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from ..audio.portaudio import AudioOutput
from ..pipeline import Picture, Sink
from ..session import (
    FingerprintChanged,
    NotPaired,
    SessionError,
    StreamOptions,
    StreamSession,
    TrustError,
    UnknownHost,
)
from ..trust_store import PinStore
from ..wiring import wire

if TYPE_CHECKING:
    from ..pads import PadPoller

log = logging.getLogger(__name__)


class Connection(QObject):
    unknown_host = Signal(str, str)  # host, fingerprint: ask the person, then connect again pinned
    fingerprint_changed = Signal(str, str, str)  # host, stored, observed
    failed = Signal(str)
    ended = Signal(str)
    lost = Signal(str)  # the session died while streaming (the host vanished, say): offer to reconnect
    not_paired = Signal(str)  # the host requires pairing: ask for its PIN

    def __init__(self, options: StreamOptions, store: PinStore, video: Sink[Picture],
                 audio: AudioOutput | None = None, pads: PadPoller | None = None) -> None:
        super().__init__()
        self.options = options
        self.address = f"{options.host}:{options.port}"  # as the person wrote it, for the host list
        self.audio = audio
        self.session: StreamSession | None = wire(options, store, lambda fingerprint: None,
                                                  video=video, audio=audio, pads=pads)
        self._thread = threading.Thread(target=self._run, name="lumen-net", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def join(self, timeout_s: float = 10.0) -> None:
        self._thread.join(timeout_s)

    def release(self) -> None:
        """After join: drop the session, which holds the window's sinks."""
        self.session = None

    def _run(self) -> None:
        assert self.session is not None
        try:
            result = asyncio.run(self.session.run())
        except UnknownHost as exc:
            self.unknown_host.emit(exc.host, exc.fingerprint)
        except FingerprintChanged as exc:
            self.fingerprint_changed.emit(exc.host, exc.stored, exc.observed)
        except NotPaired as exc:
            self.not_paired.emit(str(exc))
        except (TrustError, SessionError) as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # a bug: shown as a message, logged with its traceback
            log.exception("session failed")
            self.failed.emit(f"unexpected error: {exc}")
        else:
            (self.lost if result.error else self.ended).emit(result.end_reason)
