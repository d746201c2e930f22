"""``lumen-client bench e2e``: a real host and client, as separate processes on loopback.

Part one streams the test pattern for a while at each size and prints per-frame latency
(capture -> reassembled, capture -> decoded; capture is stamped before encoding, so both
include the host's encode time), host encode and client decode times, frames lost, and
the CPU each process used.

Part two measures the transport ceiling between two processes, without a codec: the
highest offered rate at which the video plane (packetizer, FEC, AES-GCM, UDP GSO/GRO,
reassembler: the real classes) delivers every frame, beside the same search over
aioquic DATAGRAM frames. Rates count bytes on the wire (datagram payloads).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PLANE_RATES_MBPS = (250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000)
QUIC_RATES_MBPS = (25, 50, 75, 100, 125, 150, 200)
# The machines are shared: a rate counts as delivered if one of this many tries is whole.
TRIES = 2
STEP_SECONDS = 2.0
PLANE_FRAME_BYTES = 200_000  # a busy 1080p frame at a high bitrate
QUIC_PAYLOAD = 1170


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "lumen_client.bench", *args], text=True, **kw)


def _cpu_of(proc: subprocess.Popen[Any]) -> float:
    """Wait for ``proc`` and return the CPU seconds it used (user + system)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


# -- part one: the real session ------------------------------------------------------


def stream(size: str, seconds: float, workdir: Path) -> dict[str, Any]:
    port, video_port = _free_port(), _free_port()
    host_stats, client_stats = workdir / f"host-{size}.json", workdir / f"client-{size}.json"
    env = {**os.environ, "XDG_CONFIG_HOME": str(workdir / "config")}
    host = subprocess.Popen(
        [sys.executable, "-m", "lumen_host.cli", "--identity", str(workdir / "identity"), "--port", str(port),
         "--video-port", str(video_port), "--size", size, "--fps", "60", "--max-sessions", "1",
         "--stats-json", str(host_stats)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    time.sleep(2.0)  # imports and identity
    client = subprocess.Popen(
        [sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{port}", "--headless", "--duration",
         str(seconds), "--no-gamepads", "--stats-json", str(client_stats), "--size", size],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client_cpu = _cpu_of(client)
    host_cpu = _cpu_of(host)
    served = json.loads(host_stats.read_text())[0]
    got = json.loads(client_stats.read_text())
    return {"size": size, "host": served, "client": got, "host_cpu_s": host_cpu, "client_cpu_s": client_cpu}


# -- part two: transport ceiling ----------------------------------------------------------


def plane_send(rate_mbps: float, seconds: float) -> None:
    from lumen_core.net.video import EncodedFrame, VideoSender

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    key = bytes.fromhex(sys.stdin.readline().strip())
    sender = VideoSender(sock, key, parity_percent=20, max_datagram=1400)
    sender.start()
    if not sender.wait_for_peer(10):
        raise SystemExit("no receiver")
    payload = os.urandom(PLANE_FRAME_BYTES)
    wire_per_frame = PLANE_FRAME_BYTES * 1.25  # parity and headers, near enough for pacing
    interval = wire_per_frame * 8 / (rate_mbps * 1e6)
    count = int(seconds / interval)
    start = time.perf_counter()
    for n in range(count):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        sender.send_frame(EncodedFrame(data=payload, keyframe=True, pts_ns=time.monotonic_ns()))
    elapsed = time.perf_counter() - start
    time.sleep(0.3)
    sender.stop()
    sender.join()
    print(json.dumps({"frames": count, "sent": sender.stats.frames, "wire_bytes": sender.stats.datagram_bytes,
                      "elapsed": elapsed, "behind_s": max(0.0, elapsed - seconds)}), flush=True)


def plane_recv(port: int, key_hex: str) -> None:
    from lumen_core.net.handoff import LatestSlot
    from lumen_core.net.video import VideoReceiver

    slot: LatestSlot[Any] = LatestSlot()
    receiver = VideoReceiver(("127.0.0.1", port), bytes.fromhex(key_hex), slot, lambda last: None)
    receiver.start()
    idle_since = time.monotonic()
    last = -1
    while True:
        time.sleep(0.1)
        seen = receiver.stats.datagrams
        if seen != last:
            last, idle_since = seen, time.monotonic()
        elif receiver.first_datagram.is_set() and time.monotonic() - idle_since > 1.0:
            break
        elif time.monotonic() - idle_since > 15:
            break
    receiver.stop()
    receiver.join()
    st = receiver.stats
    print(json.dumps({"complete": st.frames_complete, "lost": st.frames_lost, "rejected": st.forged + st.malformed}),
          flush=True)


def plane_step(rate_mbps: float) -> dict[str, Any]:
    key = os.urandom(16)
    sender = _spawn(["plane-send", str(rate_mbps), str(STEP_SECONDS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert sender.stdin is not None and sender.stdout is not None
    port = int(sender.stdout.readline())
    receiver = _spawn(["plane-recv", str(port), key.hex()], stdout=subprocess.PIPE)
    sender.stdin.write(key.hex() + "\n")
    sender.stdin.flush()
    sent = json.loads(sender.stdout.readline())
    got = json.loads(receiver.communicate()[0])
    sender.wait()
    delivered = got["complete"] == sent["frames"] and got["lost"] == 0 and sent["behind_s"] < 0.1 * STEP_SECONDS
    return {"offered_mbps": rate_mbps, "achieved_mbps": sent["wire_bytes"] * 8 / sent["elapsed"] / 1e6,
            "frames": sent["frames"], "sender_kept_up": sent["behind_s"] < 0.1 * STEP_SECONDS,
            "received": got["complete"], "lost": got["lost"], "ok": delivered}


async def _quic_recv(port: int, identity_dir: str) -> None:
    from aioquic.asyncio import serve
    from aioquic.quic.events import DatagramFrameReceived

    from lumen_core.identity import load_or_create_identity
    from lumen_core.net.quic import LumenProtocol, server_configuration

    counts = {"datagrams": 0}
    done = asyncio.Event()

    class Counter(LumenProtocol):
        def quic_event_received(self, event):  # type: ignore[no-untyped-def]
            if isinstance(event, DatagramFrameReceived):
                counts["datagrams"] += 1
            super().quic_event_received(event)

        def on_closed(self, reason: str) -> None:
            done.set()

    identity, _ = load_or_create_identity(Path(identity_dir))
    server = await serve("127.0.0.1", port, configuration=server_configuration(identity), create_protocol=Counter)
    print("ready", flush=True)
    await asyncio.wait_for(done.wait(), 60)
    server.close()
    print(json.dumps(counts), flush=True)


async def _quic_send(port: int, rate_mbps: float, seconds: float) -> None:
    from aioquic.asyncio import connect

    from lumen_core.net.quic import client_configuration

    payload = os.urandom(QUIC_PAYLOAD)
    interval = QUIC_PAYLOAD * 8 / (rate_mbps * 1e6)
    async with connect("127.0.0.1", port, configuration=client_configuration()) as proto:
        quic = proto._quic
        start = time.perf_counter()
        sent = 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed / interval) + 1
            while sent < due:
                quic.send_datagram_frame(payload)
                sent += 1
            proto.transmit()
            await asyncio.sleep(0.001)
        for _ in range(40):  # let the queue drain: congestion control may hold some back
            if not quic._datagrams_pending:
                break
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.3)
        pending = len(quic._datagrams_pending)
        proto.close()
        await proto.wait_closed()
    print(json.dumps({"sent": sent, "unsent": pending, "elapsed": time.perf_counter() - start}), flush=True)


def quic_step(rate_mbps: float, workdir: Path) -> dict[str, Any]:
    port = _free_port()
    receiver = _spawn(["quic-recv", str(port), str(workdir / "quic-identity")], stdout=subprocess.PIPE)
    assert receiver.stdout is not None
    receiver.stdout.readline()
    sender = _spawn(["quic-send", str(port), str(rate_mbps), str(STEP_SECONDS)], stdout=subprocess.PIPE)
    sent = json.loads(sender.communicate()[0])
    got = json.loads(receiver.communicate()[0])
    ok = got["datagrams"] == sent["sent"] and sent["unsent"] == 0
    return {"offered_mbps": rate_mbps, "achieved_mbps": got["datagrams"] * QUIC_PAYLOAD * 8 / STEP_SECONDS / 1e6,
            "sent": sent["sent"], "received": got["datagrams"], "ok": ok}


def ceiling(steps: list[dict[str, Any]]) -> float:
    """The highest rate achieved with every frame delivered, every lower step whole too."""
    best = 0.0
    for step in steps:
        if not step["ok"]:
            break
        best = max(best, step["achieved_mbps"])
    return best


def seal_reference_gbps(seconds: float = 1.0, *, native: bool = False) -> float:
    """AES-128-GCM over 1352-byte shards on one core, through cryptography (one call per
    shard) or lumen's C module (one call per 40 shards): what this machine's crypto allows."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from lumen_core.video.crypto import Sealer

    count, shard, header = 40, 1352, bytes(36)
    size = len(header) + shard + 16
    shards, buf = memoryview(os.urandom(count * shard)), bytearray(count * size)
    aead, sealer = AESGCM(os.urandom(16)), Sealer(os.urandom(16), native=True) if native else None
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for n in range(25):
            if sealer is not None:
                sealer.seal_many(buf, size, shards, n * count)
            else:
                for i in range(count):
                    aead.encrypt((n * count + i).to_bytes(12, "big"), shards[i * shard : (i + 1) * shard], header)
        done += 25 * count
    return done * shard * 8 / (time.perf_counter() - start) / 1e9


# -- the command ---------------------------------------------------------------------------


def _fmt(p: dict[str, float] | None) -> str:
    return "-" if not p else f"{p['p50']:6.2f} {p['p95']:6.2f} {p['p99']:6.2f}"


def e2e(seconds: float, sizes: list[str]) -> int:
    print(f"lumen e2e benchmark: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="lumen-bench-") as tmp:
        work = Path(tmp)
        print(f"\n1) test pattern, 60 fps, {seconds:.0f} s each; latency in ms (p50 p95 p99)")
        for size in sizes:
            r = stream(size, seconds, work)
            c, h = r["client"], r["host"]
            lat = c["latency_ms"]
            print(f"  {size}: frames sent {h['frames_sent']}, decoded {c['frames_decoded']}, lost {c['frames_lost']}, "
                  f"recovered {c['frames_recovered']}; decoder {c['decoder']}, encoder {h['encoder']}")
            print(f"    capture -> reassembled  {_fmt(lat['capture_to_reassembled'])}")
            print(f"      of which host (capture -> sent) {_fmt(lat['host_processing'])}")
            print(f"      and video plane (sent -> reassembled) {_fmt(lat['sent_to_reassembled'])}")
            print(f"    capture -> decoded      {_fmt(lat['capture_to_decoded'])}")
            print(f"    host encode p50 {h['encode_p50_ms']:.2f} ms; client decode p50 "
                  f"{(lat['decode'] or {}).get('p50', 0):.2f} ms")
            print(f"    CPU: host {r['host_cpu_s'] / c['duration_s'] * 100:.0f}%, "
                  f"client {r['client_cpu_s'] / c['duration_s'] * 100:.0f}% of one core (whole process lifetime)")
        print(f"\n2) transport ceiling between two processes, {STEP_SECONDS:.0f} s per step")
        plane = []
        for rate in PLANE_RATES_MBPS:
            for _ in range(TRIES):
                step = plane_step(rate)
                if step["ok"]:
                    break
            plane.append(step)
            print(f"  video plane {rate:5d} Mbit/s offered: {step['achieved_mbps']:7.0f} sent, "
                  f"{step['received']}/{step['frames']} frames, lost {step['lost']}"
                  f"{'' if step['sender_kept_up'] else ' (sender saturated)'} -> {'ok' if step['ok'] else 'LOSS'}")
            if not step["ok"]:
                break
        quic = []
        for rate in QUIC_RATES_MBPS:
            for _ in range(TRIES):
                step = quic_step(rate, work)
                if step["ok"]:
                    break
            quic.append(step)
            print(f"  aioquic DATAGRAM {rate:4d} Mbit/s offered: {step['received']}/{step['sent']} delivered "
                  f"-> {'ok' if step['ok'] else 'LOSS'}")
            if not step["ok"]:
                break
        top, qtop = ceiling(plane), ceiling(quic)
        ratio = f"{top / qtop:.1f}x" if qtop else "n/a"
        print(f"\n  ceiling: video plane {top:.0f} Mbit/s, aioquic DATAGRAM {qtop:.0f} Mbit/s ({ratio})")
        from lumen_core.video.crypto import native_available

        native = f", C module {seal_reference_gbps(native=True):.2f}" if native_available() else ""
        print(f"  reference: AES-128-GCM seal loop alone, one core: cryptography {seal_reference_gbps():.2f}"
              f"{native} Gbit/s")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    role = args[0] if args else ""
    if role == "plane-send":
        plane_send(float(args[1]), float(args[2]))
    elif role == "plane-recv":
        plane_recv(int(args[1]), args[2])
    elif role == "quic-recv":
        asyncio.run(_quic_recv(int(args[1]), args[2]))
    elif role == "quic-send":
        asyncio.run(_quic_send(int(args[1]), float(args[2]), float(args[3])))
    elif role == "gui":
        from .bench_gui import main as gui_main

        return gui_main(args[1:])
    else:
        parser = argparse.ArgumentParser(prog="lumen-client bench e2e")
        parser.add_argument("--seconds", type=float, default=10.0, help="streaming time per size (default 10)")
        parser.add_argument("--sizes", default="1280x720,1920x1080", help="sizes to stream (default 720p and 1080p)")
        opts = parser.parse_args(args[1:] if role == "e2e" else args)
        return e2e(opts.seconds, opts.sizes.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
