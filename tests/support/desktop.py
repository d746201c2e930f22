"""Fixtures that stand in for a desktop: a real X server (Xvfb, with Mesa's llvmpipe
giving OpenGL 4.5) and a PulseAudio daemon with a null sink whose monitor records what
was played. Tests start them; nothing outside pytest has to.

Both are session-scoped and skip, with the reason, when the program is not installed
(``./dev test`` installs them).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

NULL_SINK = "lumen_test"


def _wait_for(path: Path, proc: subprocess.Popen[bytes], what: str, timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not path.exists():
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what} did not start within {timeout_s} s")
        time.sleep(0.05)


def die_with_parent() -> None:
    """In the child before exec: get SIGTERM when pytest exits, however it exits."""
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="session")
def xvfb_display() -> str:
    """A running Xvfb; DISPLAY points at it for the rest of the session.

    The server outlives the fixture and ends with the pytest process: Qt's application
    object lives until the interpreter exits, and an X server that vanishes under it
    makes Qt exit with an error.
    """
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb)")
    number = next(n for n in range(90, 200) if not Path(f"/tmp/.X{n}-lock").exists())
    proc = subprocess.Popen(
        ["Xvfb", f":{number}", "-screen", "0", "1920x1080x24", "-nolisten", "tcp", "+extension", "GLX", "-noreset"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
    )
    try:
        _wait_for(Path(f"/tmp/.X11-unix/X{number}"), proc, "Xvfb")
    except RuntimeError:
        _stop(proc)
        raise
    os.environ.update(DISPLAY=f":{number}", QT_QPA_PLATFORM="xcb", PYOPENGL_PLATFORM="glx")
    os.environ.pop("WAYLAND_DISPLAY", None)
    return f":{number}"


@dataclass(frozen=True)
class PulseSink:
    server: str  # PULSE_SERVER value
    sink: str  # the null sink; record "<sink>.monitor" to hear what was played

    def recorder(self, rate: int = 48000) -> Recorder:
        """Start recording the sink's monitor (s16le stereo); start it before playing."""
        return Recorder(self, rate)


class Recorder:
    """Records a sink's monitor from construction until ``stop()``, which returns the
    raw s16le stereo bytes."""

    def __init__(self, sink: PulseSink, rate: int) -> None:
        self._proc = subprocess.Popen(
            ["parec", f"--server={sink.server}", f"--device={sink.sink}.monitor", "--format=s16le",
             f"--rate={rate}", "--channels=2", "--raw", "--latency-msec=20"],
            stdout=subprocess.PIPE,
        )
        self._wait_until_recording(sink)

    def _wait_until_recording(self, sink: PulseSink, timeout_s: float = 10.0) -> None:
        """Until the daemon lists parec's record stream: what plays from then on is heard."""
        deadline = time.monotonic() + timeout_s
        while not subprocess.run(["pactl", f"--server={sink.server}", "list", "short", "source-outputs"],
                                 capture_output=True, text=True).stdout.strip():
            if self._proc.poll() is not None:
                raise RuntimeError(f"parec exited with status {self._proc.returncode}")
            if time.monotonic() > deadline:
                self._proc.kill()
                raise RuntimeError(f"parec did not start recording within {timeout_s} s")
            time.sleep(0.02)

    def stop(self) -> bytes:
        self._proc.terminate()
        out, _ = self._proc.communicate(timeout=5)
        return out


@pytest.fixture(scope="session")
def pulse_sink() -> Iterator[PulseSink]:
    """A private PulseAudio daemon whose default sink is a null sink."""
    if shutil.which("pulseaudio") is None:
        pytest.skip("PulseAudio is not installed (Debian packages pulseaudio, pulseaudio-utils)")
    runtime = Path(tempfile.mkdtemp(prefix="lumen-pulse-"))
    socket_path = runtime / "native"
    env = {**os.environ, "PULSE_RUNTIME_PATH": str(runtime), "HOME": str(runtime)}
    proc = subprocess.Popen(
        ["pulseaudio", "--daemonize=no", "--exit-idle-time=-1", "-n", "--disable-shm=yes",
         f"--load=module-native-protocol-unix socket={socket_path} auth-anonymous=1",
         f"--load=module-null-sink sink_name={NULL_SINK}",
         "--load=module-always-sink"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=die_with_parent,
    )
    try:
        _wait_for(socket_path, proc, "pulseaudio")
        server = f"unix:{socket_path}"
        subprocess.run(["pactl", f"--server={server}", "set-default-sink", NULL_SINK], check=True, timeout=10)
        old = os.environ.get("PULSE_SERVER")
        os.environ["PULSE_SERVER"] = server
        yield PulseSink(server=server, sink=NULL_SINK)
    finally:
        _stop(proc)
        shutil.rmtree(runtime, ignore_errors=True)
    if old is None:
        os.environ.pop("PULSE_SERVER", None)
    else:
        os.environ["PULSE_SERVER"] = old
