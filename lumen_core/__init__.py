"""lumen_core: the lumen/1 protocol core shared by the host and the client.

Everything here is sans-IO except the ``net`` subpackage: protocol objects take bytes
and time in and hand events and bytes out. See docs/protocol.md for the wire format.
"""

__version__ = "0.1.0"
# lumen/1 as lumen's M3 commit defines it: no ALPN, the version is the Hello's ABI (1).
PROTOCOL_NAME = "lumen/1"
