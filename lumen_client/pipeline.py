"""The client as a pipeline: network -> core -> decode -> sinks.

A session produces three streams for the person: decoded pictures, 5 ms blocks of PCM
and the host's rumble. Each goes to a ``Sink`` (scrcpy's frame sink): ``open`` when the
stream starts, ``push`` for every item, ``close`` when it ends. The sinks are the
application's: the GL window and the sound card in the desktop client, the local pads
everywhere, nothing at all in the headless client (it decodes and counts).

What the person does goes the other way, through the session's typed, thread-safe
calls (``StreamSession.send_key``, ``pad_arrived``, ...): ``PadListener`` is the part of
that the pad poller needs.

``wiring.wire`` is the one place a session is put together with its sinks: the desktop
client, the headless client and ``--input-test`` all call it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from lumen_core.gamepad import PadState

if TYPE_CHECKING:
    import av

T = TypeVar("T")
T_contra = TypeVar("T_contra", contravariant=True)


class Sink(Protocol[T_contra]):
    """Where one of a session's streams goes. ``open`` must not raise: a sink that
    cannot work (no sound card) says so in the log and takes what it is given quietly."""

    def open(self) -> None: ...

    def push(self, item: T_contra) -> None:
        """Called on the producing thread (decoder, audio clock, event loop): never block."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Picture:
    frame: av.VideoFrame
    capture_ns: int  # when the host captured it, on this machine's monotonic clock
    frame_index: int
    decoded_ns: int  # when the decoder gave it out (monotonic)


@dataclass(frozen=True, slots=True)
class Rumble:
    pad: int
    low: int  # 0..65535, the low-frequency (heavy) motor
    high: int


@dataclass(frozen=True, slots=True)
class Sinks:
    video: Sink[Picture] | None = None
    audio: Sink[bytes] | None = None
    rumble: Sink[Rumble] | None = None

    def all(self) -> list[Sink[Picture] | Sink[bytes] | Sink[Rumble]]:
        return [s for s in (self.video, self.audio, self.rumble) if s is not None]


NO_SINKS = Sinks()


class PadListener(Protocol):
    """What happens to the local pads, as the session (and ``--input-test``) takes it.
    Called on the pad thread."""

    def pad_arrived(self, pad: int, name: str) -> None: ...

    def pad_removed(self, pad: int) -> None: ...

    def set_pad_state(self, pad: int, state: PadState) -> None: ...


class Each(Generic[T]):
    """A sink that hands every item to a function: a probe, a test, a printer."""

    def __init__(self, fn: Callable[[T], object]) -> None:
        self._fn = fn

    def open(self) -> None:
        pass

    def push(self, item: T) -> None:
        self._fn(item)

    def close(self) -> None:
        pass


class Tee(Generic[T]):
    """One stream to several sinks, in order."""

    def __init__(self, *sinks: Sink[T]) -> None:
        self._sinks: Sequence[Sink[T]] = sinks

    def open(self) -> None:
        for sink in self._sinks:
            sink.open()

    def push(self, item: T) -> None:
        for sink in self._sinks:
            sink.push(item)

    def close(self) -> None:
        for sink in self._sinks:
            sink.close()
