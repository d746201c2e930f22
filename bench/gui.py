"""``python -m bench.gui`` (or ``lumen-client bench gui``): the desktop client's path to
the screen, measured fairly.

For each size the test pattern is encoded once (libx264, as the host encodes it) and a
host process replays it at 60 fps (``lumen-host --replay``): it costs next to nothing,
so the client has the machine to itself, as it would with a remote host. The client
process opens the stream window (under a private Xvfb when there is no display, Mesa's
llvmpipe rasteriser, V-sync off), connects, and records for every picture shown when it
was captured, decoded and presented; presented frames per second, frames skipped (a
newer picture replaced one not yet shown), its own CPU time and resident memory.

Beside it, in the same run and on the same stream: mpv (``--vo=gpu``, software decode)
playing the file at 60 fps, its displayed and dropped frames: what this machine's GL can
do for a player that needs no network. ``--live-host`` streams from the encoding host
instead (the host's encoder then shares the client's cores).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from . import env_with_bench, free_port

FPS = 60
WARM_UP_S = 2.0  # past the first keyframe and the window's first frames

# mpv's side: frames shown and dropped between the warm-up and the end, then quit.
MPV_SCRIPT = """
local seconds = tonumber(mp.get_opt("lumen-seconds"))
local warm = tonumber(mp.get_opt("lumen-warm-up"))
local function sample()
  return mp.get_property_number("estimated-frame-number", 0), mp.get_property_number("frame-drop-count", 0),
         mp.get_property_number("decoder-frame-drop-count", 0)
end
local f0, d0, dd0
mp.add_timeout(warm, function() f0, d0, dd0 = sample() end)
mp.add_timeout(seconds, function()
  local f1, d1, dd1 = sample()
  print(string.format("LUMEN-MPV %d %d %d", f1 - f0, d1 - d0, dd1 - dd0))
  mp.command("quit")
end)
"""


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _percentiles(values: list[int]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    p50, p95 = (np.percentile(values, [50, 95]) / 1e6).tolist()
    return float(p50), float(p95)


def record(size: str, seconds: float, path: Path) -> Path:
    """``seconds`` of the test pattern at 60 fps, encoded as the host would, one keyframe:
    the elementary stream at ``path`` (what the host replays), and the same packets in
    Matroska with their timestamps (what mpv plays), whose path is returned."""
    from lumen_host.video import EncoderSettings, PatternVideo, open_encoder

    width, height = (int(v) for v in size.split("x"))
    count = int(seconds * FPS)
    encoder, _ = open_encoder(EncoderSettings("h264", width, height, FPS, 8000, gop_s=seconds + 1), ["libx264"])
    source = PatternVideo(width, height)
    with path.open("wb") as out:
        for n in range(count):
            frame = source.grab(n, n * 1_000_000_000 // FPS)
            frame.pts = n
            for packet in encoder.encode(frame):
                out.write(bytes(packet))
        for packet in encoder.encode(None):
            out.write(bytes(packet))
    import av

    timed = path.with_suffix(".mkv")
    with av.open(str(path), format="h264") as raw, av.open(str(timed), "w") as mkv:
        src = raw.streams.video[0]
        dst = mkv.add_stream_from_template(src)
        dst.time_base = Fraction(1, FPS)
        for n, packet in enumerate(p for p in raw.demux(src) if p.size):
            packet.pts = packet.dts = n
            packet.time_base = Fraction(1, FPS)
            packet.stream = dst
            mkv.mux(packet)
    return timed


def client(port: int, pin: str, size: str, seconds: float) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("PYOPENGL_PLATFORM", "glx")
    from PySide6.QtCore import QEvent, QTimer
    from PySide6.QtWidgets import QApplication

    from lumen_client.app.connection import Connection
    from lumen_client.app.stream_window import StreamWindow
    from lumen_client.pipeline import Picture
    from lumen_client.session import StreamOptions
    from lumen_client.trust_store import TrustStore

    app = QApplication([])
    width, height = (int(v) for v in size.split("x"))
    window = StreamWindow("bench", vsync=False)  # the lowest-latency path; Xvfb has no vblank to wait for
    window.resize(width, height)
    window.show()
    shown: list[tuple[int, int, int]] = []  # presented, capture, decoded (monotonic ns)

    def presented(picture: Picture, at_ns: int) -> None:
        shown.append((at_ns, picture.capture_ns, picture.decoded_ns))

    window.video.on_presented = presented
    memory: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        conn = Connection(StreamOptions(host="127.0.0.1", port=port, pin=pin, width=width, height=height),
                          TrustStore(Path(tmp) / "pins.json"), window.video.sink)
        window.attach(conn)
        start = time.monotonic()
        sampler = QTimer()
        sampler.timeout.connect(lambda: memory.append((round(time.monotonic() - start, 1), round(_rss_mb(), 1))))
        sampler.start(10_000)
        QTimer.singleShot(int(seconds * 1000), app.quit)
        before = resource.getrusage(resource.RUSAGE_SELF)
        conn.start()
        app.exec()  # the application's own event loop, as in lumen-client
        usage = resource.getrusage(resource.RUSAGE_SELF)
        memory.append((round(time.monotonic() - start, 1), round(_rss_mb(), 1)))
        assert conn.session is not None
        session = conn.session
        conn.stop()
        conn.join()
        stats = session.stats()
    window.close()
    since = int((start + WARM_UP_S) * 1e9)
    steady = [s for s in shown if s[0] >= since]
    span_s = max(1e-3, seconds - WARM_UP_S)
    cap50, cap95 = _percentiles([at - cap for at, cap, _ in steady])
    dec50, dec95 = _percentiles([at - dec for at, _, dec in steady])
    cpu_s = (usage.ru_utime - before.ru_utime) + (usage.ru_stime - before.ru_stime)
    print(json.dumps({
        "presented": len(shown), "presented_fps": len(steady) / span_s,
        "decoded": stats["frames_decoded"], "skipped": window.video.stats.skipped,
        "capture_p50_ms": cap50, "capture_p95_ms": cap95, "decoded_p50_ms": dec50, "decoded_p95_ms": dec95,
        "cpu_percent": cpu_s / seconds * 100, "memory_mb": memory, "decoder": stats["decoder"],
        "capture_to_decoded_p50_ms": (stats["latency_ms"]["capture_to_decoded"] or {}).get("p50", 0.0),
        "decode_p50_ms": (stats["latency_ms"]["decode"] or {}).get("p50", 0.0),
    }), flush=True)
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    os._exit(0)  # a measuring process: nothing left to flush, no interpreter teardown to wait for


def mpv_reference(path: Path, size: str, seconds: float, env: dict[str, str], tmp: Path) -> dict[str, float] | None:
    """mpv playing ``path`` (60 fps, longer than ``seconds``) with --vo=gpu: frames shown
    and dropped after the warm-up."""
    if shutil.which("mpv") is None:
        print("    reference: mpv not found (Debian: apt install mpv)")
        return None
    script = tmp / "lumen-stats.lua"
    script.write_text(MPV_SCRIPT)
    width, height = size.split("x")
    out = subprocess.run(
        # --gpu-sw: mpv refuses a software rasteriser unless told; llvmpipe is what there is.
        ["mpv", "--no-config", "--vo=gpu", "--gpu-sw", "--gpu-context=x11egl", "--hwdec=no", "--no-audio",
         f"--geometry={width}x{height}",
         f"--script={script}", f"--script-opts=lumen-seconds={seconds},lumen-warm-up={WARM_UP_S}", str(path)],
        env=env, capture_output=True, text=True, timeout=seconds + 60)
    lines = [line.split() for line in out.stdout.splitlines() + out.stderr.splitlines() if "LUMEN-MPV" in line]
    if not lines:
        print(f"    mpv failed: {(out.stderr or out.stdout)[-500:]}")
        return None
    fields = lines[-1][lines[-1].index("LUMEN-MPV") + 1:]
    advanced, vo_drops, decoder_drops = (float(v) for v in fields)
    shown = advanced - vo_drops - decoder_drops
    return {"shown_fps": shown / max(1e-3, seconds - WARM_UP_S), "vo_drops": vo_drops, "decoder_drops": decoder_drops}


def _host(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "lumen_host.cli", *args], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait_listening(host: subprocess.Popen[bytes]) -> bool:
    """Read the host's log up to "listening on", then drain the rest on a thread (a
    full pipe would stop the host)."""
    stream = host.stderr
    assert stream is not None
    for line in stream:
        if b"listening on" in line:
            threading.Thread(target=stream.read, daemon=True).start()
            return True
    return False


def run(seconds: float, sizes: list[str], live_host: bool) -> int:
    xvfb = None
    env = env_with_bench()
    if not env.get("DISPLAY"):
        if shutil.which("Xvfb") is None:
            print("bench gui: needs a display or Xvfb", file=sys.stderr)
            return 1
        number = next(n for n in range(150, 250) if not Path(f"/tmp/.X{n}-lock").exists())
        xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["DISPLAY"] = f":{number}"
        time.sleep(1.0)
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "?")
    print(f"lumen GUI benchmark: {seconds:.0f} s per size, {os.cpu_count()} CPUs ({cpu}); software decode, "
          f"OpenGL via {'Xvfb + Mesa llvmpipe' if xvfb else env['DISPLAY']}, V-sync off; host: "
          f"{'encoding the test pattern live' if live_host else 'replaying the test pattern, encoded once'}")
    try:
        with tempfile.TemporaryDirectory(prefix="lumen-bench-gui-") as tmp_dir:
            tmp = Path(tmp_dir)
            from lumen_core.identity import load_or_create_identity

            identity, _ = load_or_create_identity(tmp / "identity")
            for size in sizes:
                recording = tmp / f"pattern-{size}.h264"
                timed = record(size, seconds + 5.0, recording)
                port = free_port()
                source = [] if live_host else ["--replay", str(recording)]
                host = _host(["--identity", str(tmp / "identity"), "--port", str(port), "--video-port",
                              str(free_port()), "--size", size, "--fps", str(FPS), "--max-sessions", "1",
                              "--no-advertise", *source], env)
                if not _wait_listening(host):
                    print(f"  {size}: the host did not start")
                    continue
                out = subprocess.run(
                    [sys.executable, "-m", "bench.gui", "client", str(port), identity.fingerprint, size, str(seconds)],
                    env=env, capture_output=True, text=True, timeout=seconds + 60)
                host.wait(timeout=30)
                lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
                if not lines:
                    print(f"  {size}: the client failed:\n{out.stderr[-2000:]}")
                    continue
                r: dict[str, Any] = json.loads(lines[-1])
                print(f"  {size}: presented {r['presented_fps']:.1f} fps of {FPS} ({r['skipped']} skipped, "
                      f"{r['decoded']} decoded, decoder {r['decoder']})")
                print(f"    decoded -> presented p50 {r['decoded_p50_ms']:.2f} ms, p95 {r['decoded_p95_ms']:.2f} ms")
                print(f"    capture -> presented p50 {r['capture_p50_ms']:.2f} ms, p95 {r['capture_p95_ms']:.2f} ms "
                      f"(of which capture -> decoded p50 {r['capture_to_decoded_p50_ms']:.2f} ms, decode "
                      f"{r['decode_p50_ms']:.2f} ms)")
                print(f"    client CPU {r['cpu_percent']:.0f}% of one core; resident memory (s, MB): "
                      + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in r["memory_mb"]))
                mpv = mpv_reference(timed, size, seconds, env, tmp)
                if mpv is not None:
                    print(f"    reference, mpv --vo=gpu playing the same stream: {mpv['shown_fps']:.1f} fps shown, "
                          f"{mpv['vo_drops']:.0f} frames dropped by the output, {mpv['decoder_drops']:.0f} by the "
                          "decoder")
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["client"]:
        client(int(args[1]), args[2], args[3], float(args[4]))
        return 0
    parser = argparse.ArgumentParser(prog="python -m bench.gui")
    parser.add_argument("--seconds", type=float, default=60.0, help="streaming time per size (default 60)")
    parser.add_argument("--sizes", default="1280x720,1920x1080", help="sizes (default 720p and 1080p)")
    parser.add_argument("--live-host", action="store_true", help="stream from the encoding host instead")
    opts = parser.parse_args(args)
    return run(opts.seconds, opts.sizes.split(","), opts.live_host)


if __name__ == "__main__":
    sys.exit(main())
