"""``lumen-client bench gui``: the desktop client's path to the screen, measured.

For each size a host process streams the test pattern; a client process opens the
stream window (under a private Xvfb when there is no display), connects, and records
capture -> presented latency for every picture shown, presented frames per second,
its own CPU time and resident memory every 10 s. Software decode, as on these machines.
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
import time
from pathlib import Path
from typing import Any

import numpy as np

from .bench import _free_port


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def client(port: int, pin: str, size: str, seconds: float) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")
    os.environ.setdefault("PYOPENGL_PLATFORM", "glx")
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    from .app.connection import Connection
    from .app.stream_window import StreamWindow
    from .session import StreamOptions
    from .trust_store import TrustStore

    app = QApplication([])
    width, height = (int(v) for v in size.split("x"))
    window = StreamWindow("bench", vsync=False)  # the lowest-latency path; Xvfb has no vblank to wait for
    window.resize(width, height)
    window.show()
    latencies: list[tuple[float, int]] = []
    window.video.on_presented = lambda ns: latencies.append((time.monotonic(), ns))
    with tempfile.TemporaryDirectory() as tmp:
        conn = Connection(StreamOptions(host="127.0.0.1", port=port, pin=pin, width=width, height=height),
                          TrustStore(Path(tmp) / "pins.json"), window.video)
        window.attach(conn)
        conn.start()
        memory: list[tuple[float, float]] = []
        start = time.monotonic()
        next_sample = start
        while (now := time.monotonic()) - start < seconds:
            app.processEvents()
            if now >= next_sample:
                memory.append((round(now - start, 1), round(_rss_mb(), 1)))
                next_sample += 10.0
            time.sleep(0.001)
        memory.append((round(time.monotonic() - start, 1), round(_rss_mb(), 1)))
        usage = resource.getrusage(resource.RUSAGE_SELF)
        session = conn.session.stats()
        conn.stop()
        conn.join()
    window.close()
    steady = [ns for t, ns in latencies if t - start > 2.0]  # past the first keyframe and warm-up
    p50, p95 = (np.percentile(steady, [50, 95]) / 1e6).tolist() if steady else (0.0, 0.0)
    print(json.dumps({
        "presented": len(latencies), "presented_fps": len(steady) / max(1e-3, seconds - 2.0),
        "skipped": window.video.stats.skipped, "p50_ms": p50, "p95_ms": p95,
        "cpu_percent": (usage.ru_utime + usage.ru_stime) / seconds * 100, "memory_mb": memory,
        "decoded_p50_ms": (session["latency_ms"]["capture_to_decoded"] or {}).get("p50", 0.0),
        "host_p50_ms": (session["latency_ms"]["host_processing"] or {}).get("p50", 0.0),
    }), flush=True)
    window.deleteLater()
    app.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    os._exit(0)  # a measuring process: nothing left to flush, no interpreter teardown to wait for


def run(seconds: float, sizes: list[str]) -> int:
    xvfb = None
    env = dict(os.environ)
    if not env.get("DISPLAY"):
        if shutil.which("Xvfb") is None:
            print("lumen-client bench gui: needs a display or Xvfb", file=sys.stderr)
            return 1
        number = next(n for n in range(150, 250) if not Path(f"/tmp/.X{n}-lock").exists())
        xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env["DISPLAY"] = f":{number}"
        time.sleep(1.0)
    print(f"lumen GUI benchmark: {seconds:.0f} s per size, software decode, OpenGL via "
          f"{'Xvfb + Mesa llvmpipe' if xvfb else env['DISPLAY']}")
    try:
        with tempfile.TemporaryDirectory(prefix="lumen-bench-gui-") as tmp:
            from lumen_core.identity import load_or_create_identity

            identity, _ = load_or_create_identity(Path(tmp) / "identity")
            for size in sizes:
                port = _free_port()
                host = subprocess.Popen(
                    [sys.executable, "-m", "lumen_host.cli", "--identity", str(Path(tmp) / "identity"), "--port",
                     str(port), "--video-port", str(_free_port()), "--size", size, "--fps", "60",
                     "--max-sessions", "1"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(2.0)
                out = subprocess.run(
                    [sys.executable, "-m", "lumen_client.bench_gui", "client", str(port), identity.fingerprint, size,
                     str(seconds)], env=env, capture_output=True, text=True, timeout=seconds + 60)
                host.wait(timeout=30)
                lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
                if not lines:
                    print(f"  {size}: the client failed:\n{out.stderr[-2000:]}")
                    continue
                r: dict[str, Any] = json.loads(lines[-1])
                mem = r["memory_mb"]
                print(f"  {size}: capture -> presented p50 {r['p50_ms']:.2f} ms, p95 {r['p95_ms']:.2f} ms; "
                      f"presented {r['presented_fps']:.1f} fps ({r['skipped']} skipped); client CPU "
                      f"{r['cpu_percent']:.0f}% of one core")
                print(f"    of which capture -> decoded p50 {r['decoded_p50_ms']:.2f} ms "
                      f"(host, capture -> sent: {r['host_p50_ms']:.2f} ms)")
                print("    resident memory (s, MB): " + ", ".join(f"{t:.0f}: {m:.0f}" for t, m in mem))
    finally:
        if xvfb is not None:
            xvfb.terminate()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["client"]:
        client(int(args[1]), args[2], args[3], float(args[4]))
        return 0
    parser = argparse.ArgumentParser(prog="lumen-client bench gui")
    parser.add_argument("--seconds", type=float, default=60.0, help="streaming time per size (default 60)")
    parser.add_argument("--sizes", default="1280x720,1920x1080", help="sizes (default 720p and 1080p)")
    opts = parser.parse_args(args)
    return run(opts.seconds, opts.sizes.split(","))


if __name__ == "__main__":
    sys.exit(main())
