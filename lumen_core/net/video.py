"""The video plane's sockets and threads (no asyncio here: see DESIGN, hot path).

Host: ``VideoSender`` takes encoded frames through a one-slot handoff, packetizes and
seals them, and sends whole FEC blocks with UDP GSO where the kernel has it (one
``sendmsg`` per block) or datagram by datagram. A listener thread learns the client's
address from its bind datagrams and counts anything else as garbage.

Client: ``VideoReceiver`` binds, receives (with UDP GRO where available), reassembles,
and hands whole frames to the decoder through a one-slot handoff.
"""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..video.bind import BindOpener, BindSealer
from ..video.packetizer import Packetizer, SealedBlock
from ..video.reassembler import FrameReady, KeyframeNeeded, Reassembler
from .handoff import Closed, LatestSlot

log = logging.getLogger(__name__)

SOL_UDP: Final = 17
UDP_SEGMENT: Final = 103
UDP_GRO: Final = 104
# The kernel takes at most 64 segments in one GSO send.
GSO_MAX_SEGMENTS: Final = 64


def gso_segments(datagram_size: int) -> int:
    """How many datagrams of a block go in one GSO send (under 64 KB, at most 64)."""
    return min(GSO_MAX_SEGMENTS, 65000 // datagram_size)
# Big buffers: a 1080p keyframe is ~1000 datagrams arriving at once.
SOCKET_BUFFER: Final = 16 * 1024 * 1024
BIND_INTERVAL_S: Final = 0.2
KEEPALIVE_INTERVAL_S: Final = 1.0
RECV_TIMEOUT_S: Final = 0.02


# Linux caps SO_RCVBUF at net.core.rmem_max (208 KiB by default: a fifth of a keyframe);
# the FORCE variants pass the cap where the process may (CAP_NET_ADMIN).
SO_SNDBUFFORCE: Final = 32
SO_RCVBUFFORCE: Final = 33


def _big_buffers(sock: socket.socket) -> None:
    for forced, plain in ((SO_SNDBUFFORCE, socket.SO_SNDBUF), (SO_RCVBUFFORCE, socket.SO_RCVBUF)):
        for opt in (forced, plain):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, SOCKET_BUFFER)
                break
            except OSError:
                continue


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    data: bytes
    keyframe: bool
    pts_ns: int


class VideoSender:
    """Host side of the video plane for one session."""

    def __init__(
        self,
        sock: socket.socket,
        key: bytes,
        *,
        parity_percent: int,
        max_datagram: int,
        pace_bps: int | None = None,
        on_frame_skipped: Callable[[], None] | None = None,
        on_peer: Callable[[], None] | None = None,
    ) -> None:
        self._sock = sock
        _big_buffers(sock)
        self._sock.settimeout(0.1)
        self._packetizer = Packetizer(key, parity_percent=parity_percent, max_datagram=max_datagram)
        self._binds = BindOpener(key)
        self._slot: LatestSlot[EncodedFrame] = LatestSlot()
        self._pace_bps = pace_bps
        self._on_frame_skipped = on_frame_skipped
        self._on_peer = on_peer
        self._peer: tuple[str, int] | None = None
        self._peer_seen = threading.Event()
        self._stop = threading.Event()
        self._gso = hasattr(socket, "CMSG_SPACE")
        self.garbage = 0
        self.send_errors = 0
        self._threads = [
            threading.Thread(target=self._listen, name="video-listen", daemon=True),
            threading.Thread(target=self._send_loop, name="video-send", daemon=True),
        ]

    @property
    def stats(self):  # type: ignore[no-untyped-def]
        return self._packetizer.stats

    @property
    def peer(self) -> tuple[str, int] | None:
        return self._peer

    @property
    def fec_engine(self) -> str:
        return self._packetizer.engine_name

    @property
    def aead(self) -> str:
        return self._packetizer.aead_name

    def start(self) -> None:
        for t in self._threads:
            t.start()

    def submit(self, frame: EncodedFrame) -> None:
        """Hand over an encoded frame (any thread). A frame the sender had not taken yet
        is replaced: the decoder's reference chain then needs an IDR."""
        if self._slot.put(frame) and self._on_frame_skipped:
            self._on_frame_skipped()

    def wait_for_peer(self, timeout_s: float) -> bool:
        return self._peer_seen.wait(timeout_s)

    def stop(self) -> None:
        self._stop.set()
        self._slot.close()

    def join(self) -> None:
        for t in self._threads:
            if t.is_alive():
                t.join()

    # -- threads -------------------------------------------------------------

    def _listen(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self._sock.recvfrom(2048)
            except TimeoutError:
                continue
            except OSError:
                return
            if self._binds.open(data):
                if self._peer != addr:
                    log.info("video goes to %s:%d", addr[0], addr[1])
                    self._peer = addr
                    if self._on_peer:
                        self._on_peer()  # frames sent before were lost: the client needs an IDR
                self._peer_seen.set()
            else:
                self.garbage += 1

    def _send_loop(self) -> None:
        while not self._stop.is_set():
            try:
                frame = self._slot.take(0.1)
            except Closed:
                return
            if frame is not None:
                self.send_frame(frame)

    def send_frame(self, frame: EncodedFrame) -> bool:
        """Packetize and send ``frame`` now, on the calling thread (the send thread's
        work; benchmarks call it directly). False if no client address is known yet."""
        peer = self._peer
        if peer is None:
            return False
        host_us = (time.monotonic_ns() - frame.pts_ns) // 1000
        blocks = self._packetizer.packetize(frame.data, keyframe=frame.keyframe, pts_ns=frame.pts_ns, host_us=host_us)
        for block in blocks:
            started = time.perf_counter()
            self._send_block(block, peer)
            if self._pace_bps:
                budget = len(block.buffer) * 8 / self._pace_bps
                spare = budget - (time.perf_counter() - started)
                if spare > 0.0005:
                    time.sleep(spare)
        return True

    def _send_block(self, block: SealedBlock, peer: tuple[str, int]) -> None:
        size = block.datagram_size
        if self._gso:
            view = memoryview(block.buffer)
            per_send = gso_segments(size) * size
            segment = [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", size))]
            try:
                for off in range(0, len(view), per_send):
                    self._sock.sendmsg([view[off : off + per_send]], segment, 0, peer)
                return
            except OSError as exc:
                log.info("UDP GSO unavailable (%s): sending datagram by datagram", exc)
                self._gso = False
        for dgram in block.datagrams():
            try:
                self._sock.sendto(dgram, peer)
            except OSError:
                self.send_errors += 1


class VideoReceiver:
    """Client side of the video plane for one session."""

    def __init__(
        self,
        host: tuple[str, int],
        key: bytes,
        frames: LatestSlot[FrameReady],
        on_keyframe_needed: Callable[[int | None], None],
        clock_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        family = socket.AF_INET6 if ":" in host[0] else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        _big_buffers(self._sock)
        self._sock.connect(host)
        self._sock.settimeout(RECV_TIMEOUT_S)
        self._gro = self._enable_gro()
        self._buffer = bytearray(65535)
        self._view = memoryview(self._buffer)
        self._cmsg_space = socket.CMSG_SPACE(4)
        self._reassembler = Reassembler(key)
        self._binds = BindSealer(key)
        self._frames = frames
        self._on_keyframe_needed = on_keyframe_needed
        self._clock_ns = clock_ns
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="video-receive", daemon=True)
        self.first_datagram = threading.Event()

    def _enable_gro(self) -> bool:
        try:
            self._sock.setsockopt(SOL_UDP, UDP_GRO, 1)
            return True
        except OSError:
            return False

    @property
    def stats(self):  # type: ignore[no-untyped-def]
        return self._reassembler.stats

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self) -> None:
        if self._thread.is_alive():
            self._thread.join()
        self._sock.close()

    def _receive(self) -> None:
        """Read what the socket has (one datagram, or with GRO up to 64 KB of equal-size
        ones) into the reassembler; TimeoutError if nothing came."""
        buf = self._buffer
        if not self._gro:
            n = self._sock.recv_into(buf)
            self._reassembler.receive_datagram(self._view[:n], self._clock_ns())
            return
        n, ancdata, _, _ = self._sock.recvmsg_into([buf], self._cmsg_space)
        size = n
        for level, kind, value in ancdata:
            if level == SOL_UDP and kind == UDP_GRO:
                size = int.from_bytes(value[:4], "little") or n
        # The reassembler copies what it keeps: the buffer is reused for the next read.
        self._reassembler.receive_segments(self._view[:n], size, self._clock_ns())

    def _run(self) -> None:
        rx = self._reassembler
        next_bind = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= next_bind:
                try:
                    self._sock.send(self._binds.next())
                except OSError:
                    pass  # host not up yet; the next bind tries again
                next_bind = now + (KEEPALIVE_INTERVAL_S if self.first_datagram.is_set() else BIND_INTERVAL_S)
            try:
                self._receive()
                self.first_datagram.set()
            except TimeoutError:
                pass
            except OSError:
                time.sleep(RECV_TIMEOUT_S)  # ICMP port unreachable before the host listens
            now_ns = self._clock_ns()
            timer = rx.get_timer()
            if timer is not None and timer <= now_ns:
                rx.handle_timer(now_ns)
            while (event := rx.next_event()) is not None:
                if isinstance(event, FrameReady):
                    self._frames.put(event)
                elif isinstance(event, KeyframeNeeded):
                    self._on_keyframe_needed(event.last_frame)
