"""``python -m bench.e2e`` (or ``lumen-client bench e2e``): a real host and client, as separate processes on loopback.

Part one streams the test pattern for a while at each size and prints per-frame latency
(capture -> reassembled, capture -> decoded; capture is stamped before encoding, so both
include the host's encode time), host encode and client decode times, frames lost, and
the CPU each process used.

Part two measures the transport ceiling between two processes, without a codec: the
highest offered rate at which the video plane (packetizer, FEC, AES-GCM, UDP GSO/GRO,
reassembler: the real classes, on M3's settings) delivers every frame, beside the same
search over aioquic DATAGRAM frames. Rates count bytes on the wire (datagram payloads).

Part three compares capture -> reassembled with lumen M3's peers (``../shared/lumen-m3``
beside the checkout, or LUMEN_M3_DIR): M3's 64 KiB synthetic frames at 60 fps, for
M3's own pair, this host to M3's client, and M3's host to this client, in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from . import env_with_bench, free_port

PLANE_RATES_MBPS = (250, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000)
QUIC_RATES_MBPS = (25, 50, 75, 100, 125, 150, 200)
# The machines are shared: a rate counts as delivered if one of this many tries is whole.
TRIES = 2
STEP_SECONDS = 2.0
PLANE_FRAME_BYTES = 200_000  # a busy 1080p frame at a high bitrate
QUIC_PAYLOAD = 1170


def _spawn(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    kw.setdefault("env", env_with_bench())
    return subprocess.Popen([sys.executable, "-m", "bench.e2e", *args], text=True, **kw)


def _cpu_of(proc: subprocess.Popen[Any]) -> float:
    """Wait for ``proc`` and return the CPU seconds it used (user + system)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return usage.ru_utime + usage.ru_stime


# -- part one: the real session ------------------------------------------------------


def stream(size: str, seconds: float, workdir: Path) -> dict[str, Any]:
    port, video_port = free_port(), free_port()
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


def _plane_config(key: bytes):  # type: ignore[no-untyped-def]
    from lumen_core.video import VideoConfig

    return VideoConfig(key=key)  # M3's host offer: GF16, 20 %, 4096 shards a block, 1200 bytes


def plane_send(rate_mbps: float, seconds: float) -> None:
    """Prints its port; reads the key and the receiver's port; sends for ``seconds``."""
    from lumen_core.net.video import EncodedFrame, VideoSender, open_video_socket

    sock = open_video_socket(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    key = bytes.fromhex(sys.stdin.readline().strip())
    peer = ("127.0.0.1", int(sys.stdin.readline()))
    sender = VideoSender(sock, _plane_config(key), peer, binds=False)
    sender.start()
    payload = os.urandom(PLANE_FRAME_BYTES)
    wire_per_frame = PLANE_FRAME_BYTES * 1.25  # recovery shards and headers, near enough for pacing
    interval = wire_per_frame * 8 / (rate_mbps * 1e6)
    count = int(seconds / interval)
    start = time.perf_counter()
    for n in range(count):
        due = start + n * interval
        delay = due - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        now = time.monotonic_ns()
        sender.send_frame(EncodedFrame(data=payload, keyframe=True, pts_ns=now, capture_ns=now))
    elapsed = time.perf_counter() - start
    time.sleep(0.3)
    sender.stop()
    sender.join()
    print(json.dumps({"frames": count, "sent": sender.stats.frames, "wire_bytes": sender.stats.datagram_bytes,
                      "elapsed": elapsed, "behind_s": max(0.0, elapsed - seconds)}), flush=True)


def plane_recv(port: int, key_hex: str) -> None:
    """Prints its port, then receives from the sender at ``port`` until it goes quiet."""
    from lumen_core.net.handoff import FrameQueue
    from lumen_core.net.video import VideoReceiver, open_video_socket

    sock = open_video_socket(("127.0.0.1", 0))
    print(sock.getsockname()[1], flush=True)
    frames: FrameQueue[Any] = FrameQueue(limit=1 << 20)  # nobody decodes: count, do not drop
    receiver = VideoReceiver(sock, ("127.0.0.1", port), _plane_config(bytes.fromhex(key_hex)), frames, binds=False)
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
    print(json.dumps({"complete": st.frames_completed, "lost": st.frames_dropped, "rejected": st.unauthentic}),
          flush=True)


def plane_step(rate_mbps: float) -> dict[str, Any]:
    key = os.urandom(16)
    sender = _spawn(["plane-send", str(rate_mbps), str(STEP_SECONDS)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert sender.stdin is not None and sender.stdout is not None
    port = int(sender.stdout.readline())
    receiver = _spawn(["plane-recv", str(port), key.hex()], stdout=subprocess.PIPE)
    assert receiver.stdout is not None
    receiver_port = int(receiver.stdout.readline())
    sender.stdin.write(f"{key.hex()}\n{receiver_port}\n")
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
    from lumen_core.net.quic import SessionProtocol, server_configuration

    counts = {"datagrams": 0}
    done = asyncio.Event()

    class Counter(SessionProtocol):  # lumen's QUIC settings, no session: it only counts
        def quic_event_received(self, event):  # type: ignore[no-untyped-def]
            if isinstance(event, DatagramFrameReceived):
                counts["datagrams"] += 1
            super().quic_event_received(event)

        def on_terminated(self, code: int, reason: str) -> None:
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
    port = free_port()
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
    """AES-128-GCM over 1240-byte packets on one core, through cryptography (one call per
    packet) or lumen's C module (one call per 40 packets): what this machine's crypto allows."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from lumen_core.video.crypto import HOST, OVERHEAD, Sealer

    count, packet = 40, 1240
    size = packet + OVERHEAD
    packets, buf = memoryview(os.urandom(count * packet)), bytearray(count * size)
    aead = AESGCM(os.urandom(16))
    sealer = Sealer(os.urandom(16), b"lmn1", HOST, native=True) if native else None
    seq, done, start = bytes(8), 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for n in range(25):
            if sealer is not None:
                sealer.seal_many(buf, size, packets, n * count)
            else:
                for i in range(count):
                    aead.encrypt((n * count + i).to_bytes(12, "big"), packets[i * packet : (i + 1) * packet], seq)
        done += 25 * count
    return done * packet * 8 / (time.perf_counter() - start) / 1e9


# -- part three: beside lumen M3's own pair ------------------------------------------------


def _m3_dir() -> Path | None:
    candidates = [os.environ.get("LUMEN_M3_DIR"), str(Path(__file__).resolve().parents[2] / "shared" / "lumen-m3")]
    for candidate in candidates:
        if candidate and (Path(candidate) / "bin" / "lumen-client-rs").exists():
            return Path(candidate)
    return None


def _m3_client_p50_ms(m3: Path, port: int, pin: str) -> float | None:
    out = subprocess.run([str(m3 / "bin" / "lumen-client-rs"), "--connect", f"127.0.0.1:{port}", "--pin", pin],
                         capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    text = out.stdout + out.stderr
    for word in text.split():
        if word.startswith("lat_p50_us="):
            return int(word.split("=")[1]) / 1000
    return None


def m3_pairs(frames: int, workdir: Path) -> list[tuple[str, float | None]]:
    """capture -> reassembled p50 (ms) of M3's 64 KiB synthetic frames at 60 fps, per pair."""
    m3 = _m3_dir()
    if m3 is None:
        return []
    results: list[tuple[str, float | None]] = []
    env = {**os.environ, "XDG_CONFIG_HOME": str(workdir / "config"), "NO_COLOR": "1"}

    def m3_host() -> tuple[subprocess.Popen[str], int, str]:
        port = free_port()
        config = workdir / "m3-identity"
        pin = subprocess.run([str(m3 / "bin" / "m3-mini-host"), "--print-fingerprint", "--config-dir", str(config)],
                             capture_output=True, text=True, timeout=30, env=env, check=True).stdout.strip()
        proc = subprocess.Popen([str(m3 / "bin" / "m3-mini-host"), "--config-dir", str(config), "--port", str(port),
                                 "--max-sessions", "1", "--frames", str(frames)],  # audio on, as this host
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True)
        time.sleep(1.0)
        return proc, port, pin

    proc, port, pin = m3_host()
    results.append(("m3-mini-host -> lumen-client-rs (M3's own pair)", _m3_client_p50_ms(m3, port, pin)))
    proc.wait(timeout=60)

    port = free_port()
    identity = workdir / "identity"
    pin = subprocess.run([sys.executable, "-m", "lumen_host.cli", "--identity", str(identity), "--fingerprint"],
                         capture_output=True, text=True, timeout=60, env=env, check=True).stdout.strip()
    host = subprocess.Popen([sys.executable, "-m", "lumen_host.cli", "--identity", str(identity), "--port", str(port),
                             "--video-port", str(free_port()), "--source", "m3-synthetic", "--frames", str(frames),
                             "--max-sessions", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2.0)
    results.append(("lumen-host -> lumen-client-rs", _m3_client_p50_ms(m3, port, pin.replace(":", "").lower())))
    host.wait(timeout=60)

    proc, port, pin = m3_host()
    stats = workdir / "m3-pair-client.json"
    subprocess.run([sys.executable, "-m", "lumen_client.cli", "stream", f"127.0.0.1:{port}", "--headless", "--pin",
                    pin, "--no-gamepads", "--stats-json", str(stats), "--size", "1280x720"], env=env, timeout=120,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    proc.wait(timeout=60)
    got = json.loads(stats.read_text()) if stats.exists() else {}
    lat = (got.get("latency_ms") or {}).get("capture_to_reassembled") or {}
    results.append(("m3-mini-host -> lumen-client", lat.get("p50")))
    return results


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
        print("\n3) capture -> reassembled p50, M3's 64 KiB synthetic frames at 60 fps, 300 frames per pair")
        pairs = m3_pairs(300, work)
        if not pairs:
            print("  skipped: lumen M3's peers not found (../shared/lumen-m3 beside the checkout, or LUMEN_M3_DIR)")
        reference = pairs[0][1] if pairs else None
        for label, p50 in pairs:
            ratio = f"  ({p50 / reference:.2f}x M3's pair)" if p50 is not None and reference else ""
            print(f"  {'-' if p50 is None else f'{p50:6.3f}'} ms  {label}{ratio}")
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
        from .gui import main as gui_main

        return gui_main(args[1:])
    else:
        parser = argparse.ArgumentParser(prog="python -m bench.e2e")
        parser.add_argument("--seconds", type=float, default=10.0, help="streaming time per size (default 10)")
        parser.add_argument("--sizes", default="1280x720,1920x1080", help="sizes to stream (default 720p and 1080p)")
        opts = parser.parse_args(args[1:] if role == "e2e" else args)
        return e2e(opts.seconds, opts.sizes.split(","))
    return 0


if __name__ == "__main__":
    sys.exit(main())
