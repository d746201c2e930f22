"""lumen/1's session state machines, sans-IO: one for the client, one for the host.

Both take control-stream bytes, datagrams and ``now`` in, and hand events, bytes and
one timer deadline out (endpoint.py); the network layer (lumen_core.net) is the thin
wrapper that owns sockets, the event loop and the clock.
"""

from .client import ClientOptions, ClientSession
from .host import HostOffer, HostSession
from .mode import BASE, EXTENDED, EXTENDED_V1, EXTENDED_V2, Mode

__all__ = [
    "BASE", "EXTENDED", "EXTENDED_V1", "EXTENDED_V2", "ClientOptions", "ClientSession", "HostOffer", "HostSession",
    "Mode",
]
