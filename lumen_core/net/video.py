"""The video plane's sockets and threads (no asyncio here: see DESIGN, hot path).

Host: ``VideoSender`` takes encoded frames through a one-slot handoff, packetizes and
seals them, and sends them from the port its Welcome announced to the QUIC peer's IP
and the client's Start port, with UDP GSO where the kernel has it (one ``sendmsg`` per
up to 64 datagrams) or datagram by datagram. In extended mode a listener thread takes
the client's bind datagrams (video/bind.py) and moves the video where they come from.

Both ends learn from the kernel when the other's port is closed (ICMP port unreachable:
the peer's process is gone): the host's socket asks for it with IP_RECVERR and reads
the error queue for the address; the client's is connected, so a read says so.
``on_unreachable`` reports it, at most every UNREACHABLE_REPORT_S.

Client: ``open_video_socket`` binds the socket *before* Start is sent (its port goes in
Start); ``VideoReceiver`` then connects it to the host's video port, receives (with UDP
GRO where available), reassembles, puts frames back in order (reorder.FrameOrder:
a short wait for one that is late), and hands them to the decoder through a
short FIFO (handoff.FrameQueue: compressed frames are a chain). In extended mode it
sends bind datagrams from the same socket.
"""

from __future__ import annotations

import logging
import select
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from ..video.bind import BIND_INTERVAL_S, KEEPALIVE_INTERVAL_S, BindSealer, BindTracker
from ..video.config import MAX_DATAGRAM, VideoConfig
from ..video.header import USER_KEYFRAME, USER_PICTURE
from ..video.packetizer import Packetizer, SealedBlock, SenderStats
from ..video.reassembler import FrameReady, Reassembler, ReceiverStats
from ..video.reorder import FrameOrder, OrderStats
from .handoff import Closed, FrameQueue
from .sockets import big_buffers
from .worker import Worker

log = logging.getLogger(__name__)

SOL_UDP: Final = 17
UDP_SEGMENT: Final = 103
UDP_GRO: Final = 104
# The kernel takes at most 64 segments in one GSO send.
GSO_MAX_SEGMENTS: Final = 64
# Big buffers: a 1080p keyframe is ~1000 datagrams arriving at once (M3's host sends
# with no pacing, G11).
SOCKET_BUFFER: Final = 16 * 1024 * 1024
RECV_TIMEOUT_S: Final = 0.02
# Datagrams gathered from the socket into one batch for the reassembler.
DRAIN_MAX: Final = 64
# The peer's liveness signals (heard, unreachable) go to the event loop at most this often.
UNREACHABLE_REPORT_S: Final = 0.25
HEARD_REPORT_S: Final = 0.25
IP_RECVERR: Final = 11
# Encoded frames waiting to be sent. A sender that keeps up holds none; one pacing a big
# keyframe into a slow path holds a few (compressed frames are a chain: replacing one
# would cost another keyframe). More than this is a backlog worth only a fresh IDR.
SEND_QUEUE_FRAMES: Final = 8
PACE_BURST_S: Final = 0.002
def gso_segments(datagram_size: int) -> int:
    """How many datagrams go in one GSO send (under 64 KB, at most 64)."""
    return max(1, min(GSO_MAX_SEGMENTS, 65000 // datagram_size))


def open_video_socket(address: tuple[str, int]) -> socket.socket:
    """A UDP socket bound to ``address`` (port 0 picks one), with big buffers."""
    family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    big_buffers(sock, SOCKET_BUFFER)
    sock.bind(address)
    return sock


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    data: bytes
    keyframe: bool
    pts_ns: int  # the host's wall clock (UNIX-epoch ns) at capture: what the header carries
    capture_ns: int  # the host's monotonic clock at capture: for its processing time
    # A codec's frames depend on the ones before, so a keyframe makes those still queued
    # worthless. M3's synthetic frames each stand alone, and its client checks every one.
    chained: bool = True


class VideoSender:
    """Host side of the video plane for one session."""

    def __init__(
        self,
        sock: socket.socket,
        config: VideoConfig,
        peer: tuple[str, int],
        *,
        binds: bool,
        pace_bps: int | None = None,
        gso: bool = True,  # False: one sendto per datagram, the path where the kernel has no GSO
        on_frame_skipped: Callable[[], object] | None = None,
        on_frame_sent: Callable[[int, int], None] | None = None,
        on_peer_moved: Callable[[], object] | None = None,
        on_heard: Callable[[], object] | None = None,
        on_unreachable: Callable[[], object] | None = None,
    ) -> None:
        self._sock = sock
        self._sock.settimeout(0.1)
        if sock.family == socket.AF_INET:
            sock.setsockopt(socket.IPPROTO_IP, IP_RECVERR, 1)
        self._packetizer = Packetizer(config)
        self._binds = BindTracker(config.key, config.salt, peer) if binds else None
        self._peer = peer
        self._slot: FrameQueue[EncodedFrame] = FrameQueue(SEND_QUEUE_FRAMES)
        self._pace_bps = pace_bps
        self._on_frame_skipped = on_frame_skipped
        self._on_frame_sent = on_frame_sent
        self._on_peer_moved = on_peer_moved
        self._on_heard = on_heard
        self._on_unreachable = on_unreachable
        self._reported_heard = 0.0
        self._reported_unreachable = 0.0
        self.paused = False  # the client is not there: frames are dropped, not sent
        self.frames_paused = 0
        self._gso = gso and hasattr(socket, "CMSG_SPACE")
        self._garbage = 0
        self.send_errors = 0
        self._listener = Worker("video-listen", self._listen)
        self._sender = Worker("video-send", self._send_loop, wake=self._slot.close)

    @property
    def stats(self) -> SenderStats:
        return self._packetizer.stats

    @property
    def peer(self) -> tuple[str, int]:
        return self._peer

    def set_pace(self, bps: int | None) -> None:
        """Any thread: send a frame's datagrams at most this fast (None: as fast as possible)."""
        self._pace_bps = bps

    def set_fec_percent(self, percent: int) -> None:
        """Any thread: recovery shards at ``percent`` from the next frame (up to what the
        receiver takes: see VideoConfig.parity_for)."""
        self._packetizer.fec_percent = percent

    @property
    def garbage(self) -> int:
        """Datagrams on the video port that were not authentic binds."""
        return self._garbage + (self._binds.garbage if self._binds is not None else 0)

    @property
    def binds_received(self) -> int:
        return self._binds.binds if self._binds is not None else 0

    @property
    def fec_engine(self) -> str:
        return self._packetizer.engine_name

    @property
    def aead(self) -> str:
        return self._packetizer.aead_name

    def start(self) -> None:
        self._listener.start()
        self._sender.start()

    def submit(self, frame: EncodedFrame) -> None:
        """Hand over an encoded frame (any thread). It waits behind the frames not sent
        yet; a keyframe of a chained stream makes them worthless and they are dropped, and a
        full queue is dropped whole: the decoder's reference chain then needs an IDR."""
        dropped = self._slot.put(frame, keyframe=frame.keyframe and frame.chained)
        if dropped and not frame.keyframe and self._on_frame_skipped:
            self._on_frame_skipped()

    def stop(self) -> None:
        self._listener.stop()
        self._sender.stop()

    def join(self) -> None:
        self._listener.join()
        self._sender.join()

    # -- threads -------------------------------------------------------------

    def _listen(self) -> None:
        while not self._listener.stopped:
            try:
                data, addr = self._sock.recvfrom(MAX_DATAGRAM + 1)
            except TimeoutError:
                continue
            except OSError:
                if self._listener.stopped:
                    return
                self._read_errors()  # an ICMP error reported on the socket: not fatal for a listener
                continue
            binds = self._binds
            if binds is None:
                self._garbage += 1
                continue
            before = binds.binds
            moved = binds.receive(data, addr[:2])
            if binds.binds != before and self._on_heard is not None:
                now = time.monotonic()
                if now - self._reported_heard >= HEARD_REPORT_S:
                    self._reported_heard = now
                    self._on_heard()
            if moved:
                assert binds.peer is not None
                log.info("video moves to %s:%d (bind datagram)", binds.peer[0], binds.peer[1])
                self._peer = binds.peer
                if self._on_peer_moved:
                    self._on_peer_moved()  # frames sent before were lost: the client needs an IDR

    def _read_errors(self) -> None:
        """Drain the socket's error queue; report a port unreachable from the peer."""
        for _ in range(16):
            try:
                _, _, _, addr = self._sock.recvmsg(1, 512, socket.MSG_ERRQUEUE)
            except OSError:
                return
            now = time.monotonic()
            if (addr and tuple(addr[:2]) == self._peer and self._on_unreachable is not None
                    and now - self._reported_unreachable >= UNREACHABLE_REPORT_S):
                self._reported_unreachable = now
                self._on_unreachable()

    def _send_loop(self) -> None:
        while not self._sender.stopped:
            try:
                frame = self._slot.take(0.1)
            except Closed:
                return
            if frame is not None:
                if self.paused:
                    self.frames_paused += 1
                else:
                    self.send_frame(frame)

    def send_frame(self, frame: EncodedFrame) -> None:
        """Packetize and send ``frame`` now, on the calling thread (the send thread's
        work; benchmarks call it directly)."""
        index = self._packetizer.next_frame_index
        host_us = (time.monotonic_ns() - frame.capture_ns) // 1000
        flags = USER_KEYFRAME if frame.keyframe else USER_PICTURE
        peer = self._peer
        for block in self._packetizer.packetize_iter(frame.data, pts_ns=frame.pts_ns, user_flags=flags):
            self._send_block(block, peer)
        if self._on_frame_sent is not None:
            self._on_frame_sent(index, host_us)

    def _send_block(self, block: SealedBlock, peer: tuple[str, int]) -> None:
        size = block.datagram_size
        view = memoryview(block.buffer)
        per_send = gso_segments(size) * size
        if self._pace_bps:
            # Paced, a send is at most PACE_BURST_S of the pace: a 64 KB GSO burst into a
            # slow path's queue is the very loss pacing is there to avoid.
            per_send = max(1, min(per_send // size, int(self._pace_bps * PACE_BURST_S / 8 / size))) * size
        segment = [(SOL_UDP, UDP_SEGMENT, struct.pack("=H", size))]
        for off in range(0, len(view), per_send):
            started = time.perf_counter()
            chunk = view[off : off + per_send]
            if self._gso:
                try:
                    self._sock.sendmsg([chunk], segment, 0, peer)
                except ConnectionRefusedError:
                    # An earlier datagram's ICMP error, reported here instead of to the
                    # listener (and this chunk not sent): read it, send again.
                    self._read_errors()
                    try:
                        self._sock.sendmsg([chunk], segment, 0, peer)
                    except OSError:
                        self.send_errors += 1
                except OSError as exc:
                    log.info("UDP GSO unavailable (%s): sending datagram by datagram", exc)
                    self._gso = False
            if not self._gso:
                for pos in range(0, len(chunk), size):
                    try:
                        self._sock.sendto(chunk[pos : pos + size], peer)
                    except OSError:
                        self.send_errors += 1
                        self._read_errors()
            if self._pace_bps:
                spare = len(chunk) * 8 / self._pace_bps - (time.perf_counter() - started)
                if spare > 0.0005:
                    time.sleep(spare)


class VideoReceiver:
    """Client side of the video plane for one session, on an already bound socket."""

    def __init__(
        self,
        sock: socket.socket,
        host: tuple[str, int],
        config: VideoConfig,
        frames: FrameQueue[FrameReady],
        *,
        binds: bool,
        clock_ns: Callable[[], int] = time.monotonic_ns,
        on_heard: Callable[[], object] | None = None,
        on_unreachable: Callable[[], object] | None = None,
    ) -> None:
        self._sock = sock
        self._sock.connect(host)  # the kernel now drops datagrams from anyone else
        self._sock.setblocking(False)
        self._poller = select.poll()
        self._poller.register(self._sock, select.POLLIN)
        self._gro = self._enable_gro()
        self._buffer = bytearray(DRAIN_MAX * MAX_DATAGRAM + 65535)
        self._view = memoryview(self._buffer)
        self._cmsg_space = socket.CMSG_SPACE(4)
        self._reassembler = Reassembler(config)
        self._order = FrameOrder()
        self._binds = BindSealer(config.key, config.salt) if binds and config.encrypt else None
        self._frames = frames
        self._clock_ns = clock_ns
        self._worker = Worker("video-receive", self._run)
        self._on_heard = on_heard
        self._on_unreachable = on_unreachable
        self.first_datagram = threading.Event()
        self.binds_sent = 0
        self.receive_errors = 0

    def _enable_gro(self) -> bool:
        try:
            self._sock.setsockopt(SOL_UDP, UDP_GRO, 1)
            return True
        except OSError:
            return False

    @property
    def stats(self) -> ReceiverStats:
        return self._reassembler.stats

    @property
    def order_stats(self) -> OrderStats:
        return self._order.stats

    @property
    def fec_engine(self) -> str:
        return self._reassembler.engine_name

    def start(self) -> None:
        self._worker.start()

    def stop(self) -> None:
        self._worker.stop()

    def join(self) -> None:
        self._worker.join()
        self._sock.close()

    def _receive(self) -> None:
        """Read what the socket has into the reassembler; TimeoutError if nothing came.

        One read is one datagram, or with GRO up to 64 KB of equal-size ones; a read of
        one is followed by more, without waiting, while datagrams of its size are queued
        (up to DRAIN_MAX): a host that sends datagram by datagram (M3's) would otherwise
        cost the reassembler's one-at-a-time path for each.
        """
        n, size = self._read(0, block=True)
        total = n
        if size == n:
            while total + size <= len(self._buffer) and total < DRAIN_MAX * size:
                try:
                    more, more_size = self._read(total, block=False)
                except BlockingIOError:
                    break
                if more_size != size or more % size:
                    # Another size: what came so far, then this one alone.
                    self._reassembler.receive_segments(self._view[:total], size, self._clock_ns())
                    self._reassembler.receive_segments(self._view[total : total + more], more_size, self._clock_ns())
                    return
                total += more
        # The reassembler copies what it keeps: the buffer is reused for the next read.
        self._reassembler.receive_segments(self._view[:total], size, self._clock_ns())

    def _read(self, at: int, *, block: bool) -> tuple[int, int]:
        """One read into the buffer at ``at``: (bytes, segment size). ``block``: wait up
        to RECV_TIMEOUT_S (TimeoutError); otherwise BlockingIOError if nothing is there.
        The socket itself never blocks: Python would retry a non-blocking read on a
        socket with a timeout until the timeout passed."""
        if block and not self._poller.poll(RECV_TIMEOUT_S * 1000):
            raise TimeoutError
        if not self._gro:
            n = self._sock.recv_into(self._view[at:])
            return n, n
        n, ancdata, _, _ = self._sock.recvmsg_into([self._view[at:]], self._cmsg_space)
        size = n
        for level, kind, value in ancdata:
            if level == SOL_UDP and kind == UDP_GRO:
                size = int.from_bytes(value[:4], "little") or n
        return n, size

    def _run(self) -> None:
        rx = self._reassembler
        next_bind = 0.0
        reported_heard = reported_unreachable = 0.0
        while not self._worker.stopped:
            if self._binds is not None:
                now = time.monotonic()
                if now >= next_bind:
                    try:
                        self._sock.send(self._binds.next())
                        self.binds_sent += 1
                    except OSError:
                        pass  # the host's port is not open yet; the next bind tries again
                    next_bind = now + (KEEPALIVE_INTERVAL_S if self.first_datagram.is_set() else BIND_INTERVAL_S)
            try:
                self._receive()
                self.first_datagram.set()
                now = time.monotonic()
                if self._on_heard is not None and now - reported_heard >= HEARD_REPORT_S:
                    reported_heard = now
                    self._on_heard()
            except (TimeoutError, BlockingIOError):
                pass
            except OSError as exc:
                self.receive_errors += 1
                now = time.monotonic()
                if (isinstance(exc, ConnectionRefusedError) and self._on_unreachable is not None
                        and self.first_datagram.is_set() and now - reported_unreachable >= UNREACHABLE_REPORT_S):
                    reported_unreachable = now
                    self._on_unreachable()  # the host's video port is closed
                time.sleep(RECV_TIMEOUT_S)  # ICMP port unreachable before the host's socket is up
            now_ns = self._clock_ns()
            ready = self._order.poll(now_ns)
            while (event := rx.next_event()) is not None:
                ready += self._order.push(event, now_ns)
            for frame in ready:
                self._frames.put(frame, keyframe=frame.keyframe)
