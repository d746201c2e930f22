"""What the host list knows live: hosts announced on the LAN (mDNS, lumen_core.net.discovery)
and whether each saved host answers right now (lumen_core.net.probe), both reported to
the GUI thread through signals. Neither blocks the GUI: zeroconf has its own thread, and
probes run on a small pool."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from PySide6.QtCore import QObject, QTimer, Signal

from lumen_core.net.discovery import Browser, FoundHost
from lumen_core.net.probe import probe

log = logging.getLogger(__name__)

PROBE_INTERVAL_S: Final = 5.0
PROBE_TIMEOUT_S: Final = 1.0


class LanHosts(QObject):
    """Hosts announced on the LAN, by endpoint ("ip:port"), as they come and go."""

    changed = Signal(object)  # dict[str, FoundHost]

    def __init__(self) -> None:
        super().__init__()
        self.hosts: dict[str, FoundHost] = {}
        self._browser: Browser | None = None
        self.changed.connect(self._store)

    def start(self) -> str | None:
        """Start listening; why not, if it cannot (no multicast route, say)."""
        try:
            self._browser = Browser(lambda found: self.changed.emit(
                {h.endpoint: h for h in found.values()}))
        except Exception as exc:  # zeroconf's errors are many; the list works without discovery
            log.warning("no LAN discovery: %s", exc)
            return str(exc)
        return None

    def _store(self, hosts: dict[str, FoundHost]) -> None:
        self.hosts = hosts

    def close(self) -> None:
        if self._browser is not None:
            self._browser.close()
            self._browser = None


class Reachability(QObject):
    """Probes the addresses it is given every PROBE_INTERVAL_S; ``result(address, rtt_s)``
    with rtt_s < 0 for no answer."""

    result = Signal(str, float)

    def __init__(self) -> None:
        super().__init__()
        self.addresses: list[tuple[str, str, int]] = []  # (address as shown, host, port)
        self.state: dict[str, float | None] = {}  # address -> rtt_s, None: offline; absent: not known yet
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="lumen-probe")
        self._timer = QTimer(self)
        self._timer.setInterval(int(PROBE_INTERVAL_S * 1000))
        self._timer.timeout.connect(self.probe_now)
        self.result.connect(self._store)

    def start(self) -> None:
        self._timer.start()
        self.probe_now()

    def probe_now(self) -> None:
        for address, host, port in self.addresses:
            self._pool.submit(self._probe, address, host, port)

    def _probe(self, address: str, host: str, port: int) -> None:
        answer = probe(host, port, PROBE_TIMEOUT_S)
        try:
            self.result.emit(address, answer.rtt_s if answer else -1.0)
        except RuntimeError:  # the window (and this object) is gone
            pass

    def _store(self, address: str, rtt_s: float) -> None:
        self.state[address] = rtt_s if rtt_s >= 0 else None

    def close(self) -> None:
        self._timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
