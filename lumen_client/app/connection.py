"""A stream session on its own thread ("lumen-net", an asyncio loop), reporting to Qt
through signals. The GUI thread never waits on the network."""

from __future__ import annotations

import asyncio
import logging
import threading

from PySide6.QtCore import QObject, Signal

from ..session import (
    FingerprintChanged,
    NotPaired,
    SessionError,
    StreamOptions,
    StreamSession,
    TrustError,
    UnknownHost,
)
from .audio_output import AudioOutput
from .presenter import VideoWindow

log = logging.getLogger(__name__)


class Connection(QObject):
    unknown_host = Signal(str, str)  # host, fingerprint: ask the person, then connect again pinned
    fingerprint_changed = Signal(str, str, str)  # host, stored, observed
    failed = Signal(str)
    ended = Signal(str)
    lost = Signal(str)  # the session died while streaming (the host vanished, say): offer to reconnect
    not_paired = Signal(str)  # the host requires pairing: ask for its PIN

    def __init__(self, options: StreamOptions, store, video: VideoWindow, audio_device=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.options = options
        self.address = f"{options.host}:{options.port}"  # as the person wrote it, for the host list
        self._video = video
        self._audio_device = audio_device
        self.audio: AudioOutput | None = None
        self.rumble_sink = None  # set by the window: pads.PadPoller.rumble
        self.session = StreamSession(
            options, store, trust_first_use=lambda fingerprint: None,
            on_picture=self._picture, on_audio=self._pcm, on_rumble=self._rumble,
        )
        self._thread = threading.Thread(target=self._run, name="lumen-net", daemon=True)

    def start(self) -> None:
        try:
            self.audio = AudioOutput(self._audio_device)
        except Exception as exc:  # no device: stream without sound, say so
            log.warning("no audio output: %s", exc)
        self._thread.start()

    def stop(self) -> None:
        if self.session is not None:
            self.session.stop()

    def join(self, timeout_s: float = 10.0) -> None:
        self._thread.join(timeout_s)
        if self.audio is not None:
            self.audio.close()
            self.audio = None

    def release(self) -> None:
        """After join: drop the references that tie the session, this object and the
        window into a cycle."""
        self.session = None  # type: ignore[assignment]
        self._video = None  # type: ignore[assignment]
        self.rumble_sink = None

    def _picture(self, picture, frame) -> None:  # type: ignore[no-untyped-def]
        self._video.present(picture, frame.pts_ns - self.session.clock.offset_ns)

    def _pcm(self, pcm: bytes) -> None:
        if self.audio is not None:
            self.audio.push(pcm)

    def _rumble(self, pad: int, low: int, high: int) -> None:
        if self.rumble_sink is not None:
            self.rumble_sink(pad, low, high)

    def _run(self) -> None:
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
