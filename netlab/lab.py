"""Two network namespaces joined through an impaired forwarder.

    ns "host side" (A)  10.77.0.1 --tunA-->  forwarder  --tunB-->  10.77.0.2  (B) "client side"

``NetLab`` creates both namespaces and their TUN devices, gives each device its address,
and forwards between the devices on a thread of this process, through one
``Direction`` each way (``a_to_b``, ``b_to_a``). Programs run inside with ``run`` /
``popen`` (``ip netns exec``); the namespaces and devices are gone after ``close``.
Needs root and /dev/net/tun: ``unavailable()`` says why not, for a skip.
"""

from __future__ import annotations

import itertools
import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Sequence
from typing import Any, Final

from .impairment import Direction, Impairment
from .tun import open_tun

ADDRESS_A: Final = "10.77.0.1"
ADDRESS_B: Final = "10.77.0.2"
MTU: Final = 1500
_ids = itertools.count()


def unavailable() -> str | None:
    """Why a NetLab cannot be built here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun"
    if shutil.which("ip") is None:
        return "no ip(8) (iproute2)"
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


class NetLab:
    def __init__(self, a_to_b: Impairment | None = None, b_to_a: Impairment | None = None, *, seed: int = 1,
                 clock: Any = time.monotonic) -> None:
        tag = f"{os.getpid() % 100000}x{next(_ids)}"
        self.ns_a, self.ns_b = f"lumen-a-{tag}", f"lumen-b-{tag}"
        self.a_to_b = Direction(a_to_b or Impairment(), seed=seed)
        self.b_to_a = Direction(b_to_a or Impairment(), seed=seed + 1)
        self._clock = clock
        self._lock = threading.Lock()  # the directions change while the forwarder runs
        self._stop = threading.Event()
        self._fds: list[int] = []
        self._thread = threading.Thread(target=self._forward, name="netlab-forward", daemon=True)
        try:
            self._build(tag)
        except BaseException:
            self.close()
            raise
        self._thread.start()

    def _build(self, tag: str) -> None:
        for ns in (self.ns_a, self.ns_b):
            _ip("netns", "add", ns)
        for ns, side, address in ((self.ns_a, "a", ADDRESS_A), (self.ns_b, "b", ADDRESS_B)):
            dev = f"lt{side}{tag}"[:15]
            self._fds.append(open_tun(dev))
            _ip("link", "set", dev, "netns", ns)
            _ip("-n", ns, "addr", "add", f"{address}/24", "dev", dev)
            _ip("-n", ns, "link", "set", dev, "mtu", str(MTU), "up")
            _ip("-n", ns, "link", "set", "lo", "up")

    # -- running programs inside -------------------------------------------------

    def command(self, side: str, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.ns_a if side == "a" else self.ns_b, *argv]

    def popen(self, side: str, argv: Sequence[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        return subprocess.Popen(self.command(side, argv), **kwargs)

    def run(self, side: str, argv: Sequence[str], **kwargs: Any) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(self.command(side, argv), **kwargs)

    # -- changing the network while it runs -----------------------------------------

    def set(self, impairment: Impairment, direction: str = "both") -> None:
        with self._lock:
            for d in self._directions(direction):
                d.set(impairment)

    def blackhole(self, seconds: float, direction: str = "both") -> None:
        """Nothing passes ``direction`` ("a>b", "b>a" or "both") for ``seconds`` from now."""
        with self._lock:
            until = self._clock() + seconds
            for d in self._directions(direction):
                d.blackhole(until)

    def counters(self) -> dict[str, dict[str, object]]:
        with self._lock:
            return {"a>b": self.a_to_b.counters.as_dict(), "b>a": self.b_to_a.counters.as_dict()}

    def _directions(self, which: str) -> list[Direction]:
        return {"a>b": [self.a_to_b], "b>a": [self.b_to_a], "both": [self.a_to_b, self.b_to_a]}[which]

    # -- the forwarder --------------------------------------------------------------

    def _forward(self) -> None:
        fd_a, fd_b = self._fds
        poller = select.poll()
        poller.register(fd_a, select.POLLIN)
        poller.register(fd_b, select.POLLIN)
        routes = {fd_a: (self.a_to_b, fd_b), fd_b: (self.b_to_a, fd_a)}
        while not self._stop.is_set():
            with self._lock:
                deadlines = [t for t in (self.a_to_b.next_deadline(), self.b_to_a.next_deadline()) if t is not None]
            wait = 100.0 if not deadlines else max(0.0, (min(deadlines) - self._clock()) * 1000)
            ready = poller.poll(min(wait, 100.0))
            now = self._clock()
            with self._lock:
                for fd, _ in ready:
                    direction = routes[fd][0]
                    for _ in range(256):  # what the device holds, without starving the other one
                        try:
                            packet = os.read(fd, 65536)
                        except (BlockingIOError, OSError):
                            break
                        direction.submit(packet, now)
                out = [(routes[fd_a][1], self.a_to_b.due(now)), (routes[fd_b][1], self.b_to_a.due(now))]
            for fd, packets in out:
                for packet in packets:
                    try:
                        os.write(fd, packet)
                    except OSError:
                        pass  # the namespace's side is going away

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()
        for fd in self._fds:
            os.close(fd)
        self._fds.clear()
        for ns in (self.ns_a, self.ns_b):
            subprocess.run(["ip", "netns", "pids", ns], capture_output=True)
            pids = subprocess.run(["ip", "netns", "pids", ns], capture_output=True, text=True).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (ProcessLookupError, ValueError):
                    pass
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)

    def __enter__(self) -> NetLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
