"""The video plane on real UDP sockets: sender (GSO and plain), receiver, binds, garbage."""

from __future__ import annotations

import os
import socket
import time

import pytest

from lumen_core.net.handoff import FrameQueue
from lumen_core.net.video import EncodedFrame, VideoReceiver, VideoSender, open_video_socket
from lumen_core.video import FrameReady, Packetizer, VideoConfig
from lumen_core.video.bind import BindSealer, BindTracker

CONFIG = VideoConfig(key=os.urandom(16))


def take_frames(slot: FrameQueue[FrameReady], count: int, timeout_s: float = 10.0) -> list[FrameReady]:
    got: list[FrameReady] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        frame = slot.take(0.1)
        if frame is not None:
            got.append(frame)
    return got


def wait_for(condition, timeout_s: float = 5.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


@pytest.mark.parametrize("gso", [True, False], ids=["gso", "sendto"])
@pytest.mark.parametrize("binds", [True, False], ids=["extended", "base"])
def test_sender_to_receiver_over_loopback(gso: bool, binds: bool) -> None:
    host_sock = open_video_socket(("127.0.0.1", 0))
    client_sock = open_video_socket(("127.0.0.1", 0))  # bound before "Start", as a client must
    sent: list[tuple[int, int]] = []
    sender = VideoSender(host_sock, CONFIG, client_sock.getsockname(), binds=binds, gso=gso,
                         on_frame_sent=lambda index, us: sent.append((index, us)))
    slot: FrameQueue[FrameReady] = FrameQueue()
    receiver = VideoReceiver(client_sock, host_sock.getsockname(), CONFIG, slot, binds=binds)
    sender.start()
    receiver.start()
    try:
        aus = [os.urandom(n) for n in (50_000, 300, 0, 200_000, 1_500_000)]
        got: list[FrameReady] = []
        for i, data in enumerate(aus):
            sender.submit(EncodedFrame(data=data, keyframe=i == 0, pts_ns=i, capture_ns=time.monotonic_ns()))
            got += take_frames(slot, 1)
        assert [bytes(f.data) for f in got] == aus
        assert [f.keyframe for f in got] == [True, False, False, False, False]
        assert receiver.stats.unauthentic == 0 and receiver.stats.frames_dropped == 0
        wait_for(lambda: len(sent) == len(aus))  # called after the frame's last send
        assert [index for index, _ in sent] == list(range(len(aus)))
        if binds:
            wait_for(lambda: sender.binds_received >= 1)
        else:
            assert receiver.binds_sent == 0 and sender.binds_received == 0
    finally:
        for part in (sender, receiver):
            part.stop()
        sender.join()
        receiver.join()
        host_sock.close()


@pytest.mark.parametrize("chained", [True, False], ids=["codec", "m3-synthetic"])
def test_a_keyframe_drops_what_waits_only_in_a_chained_stream(chained: bool) -> None:
    host_sock = open_video_socket(("127.0.0.1", 0))
    client_sock = open_video_socket(("127.0.0.1", 0))
    sender = VideoSender(host_sock, CONFIG, client_sock.getsockname(), binds=False)
    slot: FrameQueue[FrameReady] = FrameQueue()
    receiver = VideoReceiver(client_sock, host_sock.getsockname(), CONFIG, slot, binds=False)
    receiver.start()
    try:
        for i in range(3):  # queued before the send thread runs: as when it is late
            sender.submit(EncodedFrame(data=bytes([i]) * 1000, keyframe=True, pts_ns=i, capture_ns=0, chained=chained))
        sender.start()
        # The client's own queue keeps only the newest keyframe: count what was reassembled.
        wait_for(lambda: receiver.stats.frames_completed == (3 if not chained else 1))
        assert sender.stats.frames == (3 if not chained else 1)
        assert take_frames(slot, 1)[0].data[0] == 2
    finally:
        for part in (sender, receiver):
            part.stop()
        sender.join()
        receiver.join()
        host_sock.close()


def test_receiver_survives_garbage_and_forgeries() -> None:
    fake_host = open_video_socket(("127.0.0.1", 0))
    client_sock = open_video_socket(("127.0.0.1", 0))
    client = client_sock.getsockname()
    slot: FrameQueue[FrameReady] = FrameQueue()
    receiver = VideoReceiver(client_sock, fake_host.getsockname(), CONFIG, slot, binds=False)
    receiver.start()
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for _ in range(300):
            fake_host.sendto(os.urandom(int.from_bytes(os.urandom(2), "big") % 1500), client)
        forger = Packetizer(VideoConfig(key=os.urandom(16)))
        for block in forger.packetize(os.urandom(9000), pts_ns=0, user_flags=5):
            for d in block.datagrams():
                fake_host.sendto(d, client)
        real = Packetizer(CONFIG)
        au = os.urandom(30_000)
        for block in real.packetize(au, pts_ns=7, user_flags=5):
            for d in block.datagrams():
                stranger.sendto(d, client)  # the right key, the wrong address: the kernel drops it
                fake_host.sendto(d, client)
        [got] = take_frames(slot, 1)
        assert bytes(got.data) == au and got.pts_ns == 7
        assert receiver.stats.unauthentic >= 300
    finally:
        receiver.stop()
        receiver.join()
        fake_host.close()
        stranger.close()


def test_a_newer_bind_from_a_new_address_moves_the_video() -> None:
    key, salt = CONFIG.key, CONFIG.salt
    sealer = BindSealer(key, salt)
    tracker = BindTracker(key, salt, ("10.0.0.1", 5000))
    first, second, third = sealer.next(), sealer.next(), sealer.next()
    assert len(first) == 29
    assert not tracker.receive(first, ("10.0.0.1", 5000))  # a keepalive from where video already goes
    assert tracker.receive(third, ("192.0.2.7", 6000))  # NAT rebinding: the video follows
    assert tracker.peer == ("192.0.2.7", 6000)
    assert not tracker.receive(second, ("10.0.0.1", 5000))  # older, though authentic: it stays
    assert not tracker.receive(third, ("198.51.100.1", 1))  # a replay moves nothing
    assert tracker.peer == ("192.0.2.7", 6000) and tracker.binds == 3 and tracker.moves == 1
    for bad in (BindSealer(os.urandom(16), salt).next(), first[:-1], b"garbage", bytes(29)):
        assert not tracker.receive(bad, ("203.0.113.9", 9))
    assert tracker.garbage == 5  # the replay and the four above
