#!/usr/bin/env python3
"""Start time of the AppImage's contents: AppRun to the main window shown.

    python3 packaging/appimage/bench_start.py [--work build/appimage] [--runs 5]

Times, side by side in one run, the client started three ways, until a visible window
titled "lumen" exists (xdotool polls every 20 ms): AppRun from the squashfs mounted
read-only the way the AppImage runtime mounts it (a kernel loop mount here, which needs
root; the runtime uses FUSE), AppRun from the AppDir, and the checkout's own
``python -m lumen_client.cli`` as the reference. Each gets a fresh HOME. Under Xvfb
when there is no DISPLAY. Also prints the squashfs's size.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def time_to_window(cmd: list[str], env: dict[str, str], timeout_s: float = 60.0) -> float:
    with tempfile.TemporaryDirectory(prefix="lumen-start-") as home:
        env = {**env, "HOME": home, "XDG_CONFIG_HOME": f"{home}/.config", "XDG_CACHE_HOME": f"{home}/.cache"}
        started = time.perf_counter()
        errors = Path(home) / "stderr"
        app = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=errors.open("wb"))
        try:
            while time.perf_counter() - started < timeout_s:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^lumen$"], env=env,
                                       capture_output=True)
                if found.returncode == 0:
                    return time.perf_counter() - started
                if app.poll() is not None:
                    said = errors.read_text(errors="replace").strip().splitlines()[-3:]
                    raise RuntimeError(f"{cmd[-1]} exited ({app.returncode}) before showing a window: {said}")
                time.sleep(0.02)
            raise RuntimeError(f"{cmd[0]} showed no window in {timeout_s:.0f} s")
        finally:
            app.terminate()
            app.wait(10)


def main() -> int:
    try:
        return bench()
    except (RuntimeError, subprocess.CalledProcessError) as exc:
        print(f"bench_start: {exc}", file=sys.stderr)
        return 1


def bench() -> int:
    parser = argparse.ArgumentParser(prog="bench_start.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=ROOT / "build/appimage", help="the build's work folder")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    appdir = args.work / "AppDir"
    images = sorted(args.work.glob("lumen-client-*.squashfs"))
    if not appdir.is_dir() or not images:
        print(f"bench_start: no build in {args.work}: run packaging/appimage/build.py first", file=sys.stderr)
        return 2
    if shutil.which("xdotool") is None:
        print("bench_start: needs xdotool (Debian package xdotool)", file=sys.stderr)
        return 2
    with ExitStack() as stack:
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        if os.environ.get("DISPLAY"):
            env["DISPLAY"] = os.environ["DISPLAY"]
        else:
            number = next(n for n in range(150, 250) if not Path(f"/tmp/.X{n}-lock").exists())
            # -noreset: by default the server resets when its last client leaves, and a
            # client connecting meanwhile is refused (each run ends with no client left)
            xvfb = subprocess.Popen(["Xvfb", f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp",
                                     "-noreset"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            stack.callback(xvfb.wait)
            stack.callback(xvfb.terminate)
            env["DISPLAY"] = f":{number}"
            deadline = time.monotonic() + 30
            # ready once a client gets a reply (a cold Xvfb takes seconds to compile its keymap)
            while subprocess.run(["xdotool", "getmouselocation"], env=env, capture_output=True).returncode != 0:
                if xvfb.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("Xvfb did not start")
                time.sleep(0.1)
        ways: dict[str, list[str]] = {}
        if os.geteuid() == 0:
            mount = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lumen-squashfs-")))
            subprocess.run(["mount", "-t", "squashfs", "-o", "loop,ro", str(images[-1]), str(mount)], check=True)
            stack.callback(subprocess.run, ["umount", str(mount)], check=False)
            ways["AppRun in the mounted squashfs"] = [str(mount / "AppRun")]
        ways["AppRun in the AppDir"] = [str(appdir / "AppRun")]
        ways["checkout (reference)"] = [sys.executable, "-m", "lumen_client.cli"]
        print(f"lumen start time, AppRun to main window shown; {args.runs} runs each, interleaved; "
              f"{os.cpu_count()} CPUs; squashfs {images[-1].name} {images[-1].stat().st_size / 2**20:.1f} MiB",
              flush=True)
        times: dict[str, list[float]] = {name: [] for name in ways}
        ref_env = {**env, "PATH": os.environ.get("PATH", env["PATH"])}
        for _ in range(args.runs):
            for name, cmd in ways.items():
                times[name].append(time_to_window(cmd, ref_env if name.startswith("checkout") else env))
        for name, got in times.items():
            print(f"  {name:32s} first {got[0]:5.2f} s, median {statistics.median(got):5.2f} s, "
                  f"best {min(got):5.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
