"""QUIC for lumen/1 on aioquic: the configurations and the one wrapper both sides use.

``SessionProtocol`` is the thin wrapper of style rule 3: aioquic's asyncio protocol
feeds the QUIC core; this class feeds a sans-IO session (lumen_core.session) with the
control stream, DATAGRAM frames and the loop's clock, hands the session's events to
``on_session_event``, then transmits what the session queued and re-arms its one timer.

Transport (LUMEN-M3-WIRE.md §2): no ALPN on either side (an M3 client offers none, an
M3 host configures none), SNI ``lumen``, DATAGRAM frames up to 65535 bytes advertised,
and QUIC's idle timeout at quinn's 30 s, so a base-mode session, which may send nothing
on QUIC for a while, is not ended early. Both sides send a QUIC PING every
``KEEPALIVE_S`` while the session streams (M3 peers send none; PINGs are invisible to
them and keep a quiet connection from idling out), and every ``EXCHANGE_PING_S`` while
it does not: during the handshake and a closing Goodbye. There each message matters and
QUIC's own retransmission backs off: its probe timeout doubles with every probe lost,
so at 30 % loss a Welcome can wait seconds for its next try. An acknowledged PING resets
that backoff and lets loss detection resend what was lost at once.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from functools import partial
from typing import Any, Final

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.events import (
    ConnectionTerminated,
    DatagramFrameReceived,
    HandshakeCompleted,
    QuicEvent,
    StopSendingReceived,
    StreamDataReceived,
    StreamReset,
)
from cryptography.hazmat.primitives.serialization import Encoding

from ..identity import Identity
from ..session.endpoint import Endpoint
from ..trust import fingerprint
from .sockets import big_buffers

log = logging.getLogger(__name__)

SERVER_NAME: Final = "lumen"
IDLE_TIMEOUT_S: Final = 30.0
KEEPALIVE_S: Final = 10.0
EXCHANGE_PING_S: Final = 0.25
# Advertised to the peer: M3's quinn advertises its receive buffer capped to u16.
MAX_DATAGRAM_FRAME_SIZE: Final = 65535
# aioquic's default packet size (no path-MTU discovery) leaves 1170 bytes for a DATAGRAM
# frame's payload with 8-byte connection IDs; a larger one would block its queue forever.
MAX_DATAGRAM_PAYLOAD: Final = 1170
# aioquic queues datagrams without bound. Audio and input are only worth sending fresh:
# beyond this many waiting (about 80 ms of audio), new ones are dropped and counted.
MAX_PENDING_DATAGRAMS: Final = 16


# The QUIC socket's buffers: the kernel charges a whole buffer slot per datagram however
# small, so the default 208 KiB fills with a few hundred packets; a flood of junk must not
# crowd out a real peer's packets (DATAGRAM frames are never retransmitted).
QUIC_SOCKET_BUFFER: Final = 4 * 1024 * 1024


def enlarge_socket_buffers(transport: asyncio.BaseTransport) -> None:
    """Give a QUIC endpoint's UDP socket QUIC_SOCKET_BUFFER each way, as far as allowed."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        big_buffers(sock, QUIC_SOCKET_BUFFER)


def _configuration(is_client: bool) -> QuicConfiguration:
    return QuicConfiguration(
        is_client=is_client,
        alpn_protocols=None,
        max_datagram_frame_size=MAX_DATAGRAM_FRAME_SIZE,
        idle_timeout=IDLE_TIMEOUT_S,
    )


def server_configuration(identity: Identity) -> QuicConfiguration:
    config = _configuration(is_client=False)
    config.load_cert_chain(identity.cert_path, identity.key_path)
    return config


def client_configuration() -> QuicConfiguration:
    config = _configuration(is_client=True)
    config.server_name = SERVER_NAME
    # No CA vouches for a lumen host: the certificate is pinned by fingerprint instead,
    # after the handshake. aioquic still checks CertificateVerify against the
    # certificate's key with verification off, which proves the host holds the key.
    config.verify_mode = ssl.CERT_NONE
    return config


SessionEventHandler = Callable[[Any], None]


class SessionProtocol(QuicConnectionProtocol):
    """One lumen/1 connection (either end), driving ``self.session`` once attached."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._loop = asyncio.get_event_loop()
        self.session: Endpoint[Any] | None = None
        self._on_event: SessionEventHandler = lambda event: None
        self._control_stream: int | None = None
        # Not "_timer": QuicConnectionProtocol keeps its own QUIC timer under that name.
        self._session_timer: asyncio.TimerHandle | None = None
        self._keepalive: asyncio.TimerHandle | None = None
        self._closing = False
        self._lingering = False  # closing, but the CONNECTION_CLOSE waits (close_linger_s)
        # How long the CONNECTION_CLOSE waits after the session asks for it. aioquic sends
        # it once and never again, and stream data still unacknowledged dies with it: a
        # host that lingers lets QUIC retransmit a Goodbye (a "busy" refusal, say) that
        # was lost, so the peer learns why instead of waiting out its own deadline.
        self.close_linger_s = 0.0
        self.quic_datagrams_dropped = 0  # aioquic's queue was full
        self.quic_datagrams_received = 0  # DATAGRAM frames from the peer: audio, rumble, input, timing
        self.quic_datagrams_oversize = 0

    # -- hooks ------------------------------------------------------------------

    def on_handshake(self) -> None:
        """TLS is done (the peer's certificate is known)."""

    # -- attaching and driving -------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        if self._quic.configuration.is_client:  # a server's transport is shared: serve() sizes it
            enlarge_socket_buffers(transport)

    def attach(self, session: Endpoint[Any], on_event: SessionEventHandler) -> None:
        self.session = session
        self._on_event = on_event
        self._keepalive = self._loop.call_later(self._ping_interval(), self._ping)

    def now(self) -> float:
        return self._loop.time()

    def drive(self) -> None:
        """Hand out the session's events, then send what it queued and re-arm its timer.
        Call after feeding the session anything from outside the wrapper."""
        session = self.session
        if session is None:
            return
        while (event := session.next_event()) is not None:
            self._on_event(event)
        data = session.control_data_to_send()
        if data and not self._closing:
            if self._control_stream is None:
                # The client opens the control stream: the first bidirectional stream.
                self._control_stream = self._quic.get_next_available_stream_id()
            self._quic.send_stream_data(self._control_stream, data)
        for dgram in session.datagrams_to_send():
            self._queue_datagram(dgram)
        if self._quic._network_paths:  # a server's protocol exists before its first packet is handled
            # Before any close: aioquic drops stream data still unsent when it closes,
            # and a Goodbye must go out ahead of the CONNECTION_CLOSE.
            self.transmit()
        request = session.close_request
        if request is not None and not self._closing:
            self._closing = True
            if self.close_linger_s:
                self._lingering = True
                if self._keepalive is not None:  # the Goodbye is an exchange: ping it through
                    self._keepalive.cancel()
                self._keepalive = self._loop.call_later(EXCHANGE_PING_S, self._ping)
                self._loop.call_later(self.close_linger_s, partial(self._close_lingered, *request))
            else:
                self.close(error_code=request[0], reason_phrase=request[1])
        self._arm_timer()

    def send_datagram(self, data: bytes) -> bool:
        """Send one DATAGRAM frame outside the session (a diagnostic, a test); False if it
        was dropped: too large for a packet, aioquic's queue full, or the connection closing."""
        queued = self._queue_datagram(data)
        if queued:
            self.transmit()
        return queued

    def _queue_datagram(self, data: bytes) -> bool:
        if self._closing:
            return False
        if len(data) > MAX_DATAGRAM_PAYLOAD:
            self.quic_datagrams_oversize += 1
            return False
        # aioquic exposes no queue length: this reads its private deque (1.x).
        if len(self._quic._datagrams_pending) >= MAX_PENDING_DATAGRAMS:
            self.quic_datagrams_dropped += 1
            return False
        self._quic.send_datagram_frame(data)
        return True

    def _arm_timer(self) -> None:
        when = self.session.get_timer() if self.session is not None and not self._closing else None
        if self._session_timer is not None:
            if when is not None and self._session_timer.when() == when:
                return  # the common case on every drive: the same deadline, already armed
            self._session_timer.cancel()
            self._session_timer = None
        if when is not None:
            self._session_timer = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        self._session_timer = None
        if self.session is not None:
            self.session.handle_timer(self.now())
            self.drive()

    def _close_lingered(self, code: int, reason: str) -> None:
        self._lingering = False
        self.close(error_code=code, reason_phrase=reason)

    def _ping(self) -> None:
        if self._closing and not self._lingering:
            return
        if self._quic._network_paths:
            self._quic.send_ping(0)
            self.transmit()
        self._keepalive = self._loop.call_later(self._ping_interval(), self._ping)

    def _ping_interval(self) -> float:
        session = self.session
        return KEEPALIVE_S if session is not None and session.streaming and not session.ended else EXCHANGE_PING_S

    # -- facts ----------------------------------------------------------------------

    def peer_fingerprint(self) -> str | None:
        """SHA-256 of the peer's certificate, once the handshake is done."""
        cert = getattr(self._quic.tls, "_peer_certificate", None)  # aioquic has no public accessor
        return fingerprint(cert.public_bytes(Encoding.DER)) if cert is not None else None

    def peer_address(self) -> tuple[str, int] | None:
        """The peer's IP and UDP port (aioquic keeps them in its private network paths)."""
        paths = getattr(self._quic, "_network_paths", None)
        return (paths[0].addr[0], paths[0].addr[1]) if paths else None

    @property
    def closed(self) -> bool:
        return self._closing

    def close_now(self, code: int, reason: str) -> None:
        """Close the connection without a session (trust refused, say)."""
        if not self._closing:
            self._closing = True
            self.close(error_code=code, reason_phrase=reason[:200])

    # -- aioquic's events ---------------------------------------------------------

    def datagram_received(self, data: bytes | str, addr: Any) -> None:
        super().datagram_received(data, addr)
        # aioquic handles a peer's CONNECTION_CLOSE at once but reports ConnectionTerminated
        # only when its draining period ends (3 PTOs, seconds): tell the session now.
        closed = getattr(self._quic, "_close_event", None)  # private: aioquic 1.x
        session = self.session
        if closed is not None and session is not None and not session.ended and not self._closing:
            self._closing = True
            session.connection_lost(closed.reason_phrase, self.now(), closed.error_code)
            self.drive()

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            self.on_handshake()
        session = self.session
        if session is not None:
            now = self.now()
            if isinstance(event, StreamDataReceived):
                if self._control_stream is None:
                    self._control_stream = event.stream_id
                if event.stream_id == self._control_stream:
                    if event.data:
                        session.receive_control(event.data, now)
                    if event.end_stream:
                        session.control_finished(now)
            elif isinstance(event, StreamReset | StopSendingReceived):
                if event.stream_id == self._control_stream:
                    session.control_finished(now)
            elif isinstance(event, DatagramFrameReceived):
                self.quic_datagrams_received += 1
                session.receive_datagram(event.data, now)
            elif isinstance(event, ConnectionTerminated):
                self._closing = True
                session.connection_lost(event.reason_phrase, now, event.error_code)
        if isinstance(event, ConnectionTerminated):
            self._closing = True
            for handle in (self._session_timer, self._keepalive):
                if handle is not None:
                    handle.cancel()
            self.on_terminated(event.error_code, event.reason_phrase)
        self.drive()

    def on_terminated(self, code: int, reason: str) -> None:
        """The connection is gone (either side closed it, or it idled out)."""
