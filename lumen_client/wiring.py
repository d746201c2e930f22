"""``wire``: the one place a client session is put together with its sinks and pads.

The desktop client (app/connection.py), the headless client (cli.py) and
``--input-test`` all call it; see pipeline.py for the stages.
"""

from __future__ import annotations

from collections.abc import Callable

from .pads import PadPoller
from .pipeline import Picture, Rumble, Sink, Sinks
from .session import StreamOptions, StreamSession
from .trust_store import PinStore


def wire(
    options: StreamOptions,
    store: PinStore,
    trust_first_use: Callable[[str], bool | None],
    *,
    video: Sink[Picture] | None = None,
    audio: Sink[bytes] | None = None,
    pads: PadPoller | None = None,
    rumble: Sink[Rumble] | None = None,
) -> StreamSession:
    """A session whose pictures, sound and rumble go to these sinks, and whose pads (a
    poller, started or not) are forwarded to it. Rumble goes to the pads unless another
    sink is given."""
    session = StreamSession(options, store, trust_first_use,
                            Sinks(video=video, audio=audio, rumble=rumble if rumble is not None else pads))
    if pads is not None:
        pads.forward_to(session)
    return session
