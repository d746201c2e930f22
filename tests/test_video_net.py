"""The video plane on real UDP sockets: sender (GSO and plain), receiver, garbage."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

from lumen_core.net.handoff import Closed, LatestSlot
from lumen_core.net.video import EncodedFrame, VideoReceiver, VideoSender
from lumen_core.video import FrameReady, Packetizer
from lumen_core.video.bind import BindOpener, BindSealer

KEY = os.urandom(16)


def udp() -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def take_frames(slot: LatestSlot[FrameReady], count: int, timeout_s: float = 10.0) -> list[FrameReady]:
    got: list[FrameReady] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < count and time.monotonic() < deadline:
        frame = slot.take(0.1)
        if frame is not None:
            got.append(frame)
    return got


@pytest.mark.parametrize("gso", [True, False], ids=["gso", "sendto"])
def test_sender_to_receiver_over_loopback(gso: bool) -> None:
    sock = udp()
    skipped: list[int] = []
    sender = VideoSender(sock, KEY, parity_percent=20, max_datagram=1400, on_frame_skipped=lambda: skipped.append(1))
    sender._gso = gso and sender._gso
    slot: LatestSlot[FrameReady] = LatestSlot()
    receiver = VideoReceiver(sock.getsockname(), KEY, slot, lambda last: None)
    sender.start()
    receiver.start()
    try:
        assert sender.wait_for_peer(5), "the receiver's bind datagram never arrived"
        frames = [os.urandom(n) for n in (50_000, 300, 200_000, 1_500_000)]
        got: list[FrameReady] = []
        for i, data in enumerate(frames):
            sender.submit(EncodedFrame(data=data, keyframe=i == 0, pts_ns=i))
            got += take_frames(slot, 1)
        assert [bytes(f.data) for f in got] == frames
        assert receiver.stats.forged == 0 and receiver.stats.frames_lost == 0
    finally:
        for part in (sender, receiver):
            part.stop()
        sender.join()
        receiver.join()
        sock.close()


def test_receiver_survives_garbage_and_forgeries() -> None:
    fake_host = udp()
    fake_host.settimeout(5)
    slot: LatestSlot[FrameReady] = LatestSlot()
    receiver = VideoReceiver(fake_host.getsockname(), KEY, slot, lambda last: None)
    receiver.start()
    try:
        bind, client = fake_host.recvfrom(2048)
        assert BindOpener(KEY).open(bind)
        forger = Packetizer(os.urandom(16))
        for _ in range(300):
            fake_host.sendto(os.urandom(int.from_bytes(os.urandom(2), "big") % 1500), client)
        for block in forger.packetize(os.urandom(9000), keyframe=True, pts_ns=0):
            for d in block.datagrams():
                fake_host.sendto(d, client)
        real = Packetizer(KEY)
        frame = os.urandom(30_000)
        for block in real.packetize(frame, keyframe=True, pts_ns=7):
            for d in block.datagrams():
                fake_host.sendto(d, client)
        [got] = take_frames(slot, 1)
        assert bytes(got.data) == frame and got.pts_ns == 7
        stats = receiver.stats
        assert stats.malformed + stats.forged >= 300
    finally:
        receiver.stop()
        receiver.join()
        fake_host.close()


def test_binds_are_authentic_and_single_use() -> None:
    sealer, opener = BindSealer(KEY), BindOpener(KEY)
    first, second = sealer.next(), sealer.next()
    assert opener.open(first) and opener.open(second)
    assert not opener.open(first)  # replayed
    assert not opener.open(BindSealer(os.urandom(16)).next())  # another key
    assert not opener.open(first[:-1]) and not opener.open(b"\xb1" + first[1:-1] + b"\x00")


def test_latest_slot_keeps_only_the_newest() -> None:
    slot: LatestSlot[int] = LatestSlot()
    assert slot.take(0.01) is None
    assert not slot.put(1)
    assert slot.put(2)  # 1 was never taken
    assert slot.take() == 2 and slot.skipped == 1
    woke: list[int | None] = []
    t = threading.Thread(target=lambda: woke.append(slot.take(5)))
    t.start()
    time.sleep(0.05)
    slot.put(3)
    t.join(5)
    assert woke == [3]
    slot.close()
    with pytest.raises(Closed):
        slot.take()
