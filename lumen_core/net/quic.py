"""QUIC for lumen/1 on aioquic: configurations and the protocol both ends share.

``LumenProtocol`` is the thin wrapper of style rule 3: aioquic's asyncio protocol feeds
the QUIC core; this class turns its events into lumen messages (control stream, parsed
with lumen_core.control) and side-plane datagrams (lumen_core.datagrams), and sends
both. Host and client subclass it and override the ``on_*`` hooks.
"""

from __future__ import annotations

import logging
import ssl
from typing import Final

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import (
    ConnectionTerminated,
    DatagramFrameReceived,
    HandshakeCompleted,
    QuicEvent,
    StreamDataReceived,
)
from cryptography.hazmat.primitives.serialization import Encoding

from .. import ALPN
from ..control import ControlDecoder, Goodbye, GoodbyeCode, Message, UnknownMessage
from ..datagrams import Datagram, parse_datagram
from ..errors import ProtocolError
from ..identity import Identity
from ..trust import fingerprint

log = logging.getLogger(__name__)

# aioquic's default packet size (no path-MTU discovery) leaves 1170 bytes for a DATAGRAM
# frame's payload with 8-byte connection IDs; a larger one would block the queue forever.
MAX_DATAGRAM_PAYLOAD: Final = 1170
# aioquic queues datagrams without bound. Audio and input are only worth sending fresh:
# beyond this many waiting (about 80 ms of audio), new ones are dropped and counted.
MAX_PENDING_DATAGRAMS: Final = 16
IDLE_TIMEOUT_S: Final = 5.0


def _configuration(is_client: bool) -> QuicConfiguration:
    return QuicConfiguration(
        is_client=is_client,
        alpn_protocols=[ALPN],
        max_datagram_frame_size=65536,
        idle_timeout=IDLE_TIMEOUT_S,
    )


def server_configuration(identity: Identity) -> QuicConfiguration:
    config = _configuration(is_client=False)
    config.load_cert_chain(identity.cert_path, identity.key_path)
    return config


def client_configuration() -> QuicConfiguration:
    config = _configuration(is_client=True)
    # No CA vouches for a lumen host: the certificate is pinned by fingerprint instead,
    # after the handshake. aioquic still checks CertificateVerify against the
    # certificate's key with verification off, which proves the host holds the key.
    config.verify_mode = ssl.CERT_NONE
    return config


class LumenProtocol(QuicConnectionProtocol):
    """One lumen/1 connection (either end). Hooks run on the event loop's thread."""

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self._decoder = ControlDecoder()
        self._control_stream: int | None = None
        self._ended = False
        self.datagrams_dropped = 0  # queue full
        self.datagrams_unknown = 0
        self.datagrams_malformed = 0

    # -- hooks ---------------------------------------------------------------

    def on_handshake(self) -> None: ...

    def on_message(self, msg: Message) -> None: ...

    def on_datagram(self, dgram: Datagram) -> None: ...

    def on_closed(self, reason: str) -> None: ...

    # -- sending -------------------------------------------------------------

    def send_message(self, msg: Message) -> None:
        if self._ended:
            return
        if self._control_stream is None:
            # The client opens the control stream: the first bidirectional stream.
            self._control_stream = self._quic.get_next_available_stream_id()
        self._quic.send_stream_data(self._control_stream, msg.encode())
        self.transmit()

    def send_datagram(self, data: bytes) -> bool:
        """Queue one side-plane datagram; False if dropped because the queue is full."""
        if len(data) > MAX_DATAGRAM_PAYLOAD:
            raise ValueError(f"datagram of {len(data)} bytes exceeds {MAX_DATAGRAM_PAYLOAD}")
        if self._ended:
            return False
        # aioquic exposes no queue length: this reads its private deque (1.x).
        if len(self._quic._datagrams_pending) >= MAX_PENDING_DATAGRAMS:
            self.datagrams_dropped += 1
            return False
        self._quic.send_datagram_frame(data)
        self.transmit()
        return True

    def goodbye(self, code: int, reason: str) -> None:
        """Say Goodbye on the control stream, then close the connection."""
        if self._ended:
            return
        if self._control_stream is not None:
            self.send_message(Goodbye(code=code, reason=reason[:500]))
        self._ended = True
        self.close(error_code=0 if code == GoodbyeCode.NORMAL else 0x100 + code, reason_phrase=reason[:200])

    # -- facts ---------------------------------------------------------------

    def peer_fingerprint(self) -> str | None:
        """SHA-256 of the peer's certificate, once the handshake is done."""
        cert = getattr(self._quic.tls, "_peer_certificate", None)  # aioquic has no public accessor
        return fingerprint(cert.public_bytes(Encoding.DER)) if cert is not None else None

    @property
    def closed(self) -> bool:
        return self._ended

    # -- events --------------------------------------------------------------

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            self.on_handshake()
        elif isinstance(event, StreamDataReceived):
            self._stream_data(event)
        elif isinstance(event, DatagramFrameReceived):
            self._datagram(event.data)
        elif isinstance(event, ConnectionTerminated):
            self._ended = True
            self.on_closed(event.reason_phrase or f"connection closed (code {event.error_code:#x})")

    def _stream_data(self, event: StreamDataReceived) -> None:
        if self._control_stream is None:
            self._control_stream = event.stream_id
        if event.stream_id != self._control_stream:
            return  # lumen/1 uses one stream; others are ignored
        try:
            for msg in self._decoder.feed(event.data):
                if isinstance(msg, UnknownMessage):
                    log.debug("ignoring unknown control message type %d", msg.type)
                    continue
                self.on_message(msg)
                if self._ended:
                    return
        except ProtocolError as exc:
            log.warning("peer broke lumen/1: %s", exc)
            self.goodbye(GoodbyeCode.PROTOCOL_ERROR, str(exc))

    def _datagram(self, data: bytes) -> None:
        try:
            dgram = parse_datagram(data)
        except ProtocolError:
            self.datagrams_malformed += 1
            return
        if dgram is None:
            self.datagrams_unknown += 1
            return
        self.on_datagram(dgram)
