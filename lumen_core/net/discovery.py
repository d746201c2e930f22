"""Finding hosts on the LAN: DNS-SD over multicast DNS, through python-zeroconf.

A host advertises ``_lumen._udp.local.`` with its QUIC port and a TXT record that a
client can show before it connects (trust still comes from the handshake: a TXT record
is anyone's to forge, so a fingerprint there that differs from a stored pin is a warning,
never a reason to connect):

    proto  "lumen/1"
    ext    the extension version the host speaks ("2"; "0": base mode only)
    name   the host's name, for people
    fp     the SHA-256 fingerprint of its certificate, 64 hex digits
    pair   "1" if the host requires pairing (a client pairs with a PIN instead of
           trusting on first use), "0" if not

``Advertiser`` registers one host; ``Browser`` follows the hosts that come and go and
calls back on zeroconf's thread; ``browse`` collects what answers within some seconds.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from zeroconf import ServiceInfo, ServiceStateChange, Zeroconf

SERVICE_TYPE: Final = "_lumen._udp.local."
PROTOCOL: Final = "lumen/1"


@dataclass(frozen=True, slots=True)
class FoundHost:
    name: str  # the instance name, as advertised
    address: str
    port: int
    fingerprint: str  # hex, lower case; "" if the TXT record had none
    extension_version: int
    protocol: str
    pairing_required: bool = False

    @property
    def endpoint(self) -> str:
        return f"[{self.address}]:{self.port}" if ":" in self.address else f"{self.address}:{self.port}"


def _interfaces(bind: str) -> list[str] | None:
    """zeroconf's interface list for a host bound to ``bind`` (None: all of them)."""
    if bind in ("0.0.0.0", "::", ""):
        return None
    return [bind]


def _zeroconf(bind: str = "0.0.0.0") -> Zeroconf:
    from zeroconf import InterfaceChoice, IPVersion, Zeroconf

    interfaces = _interfaces(bind)
    v6 = ":" in bind
    return Zeroconf(interfaces=interfaces or InterfaceChoice.All,
                    ip_version=IPVersion.V6Only if v6 else IPVersion.V4Only)


class Advertiser:
    """The host's announcement, from ``start`` to ``close``."""

    def __init__(self, *, name: str, bind: str, port: int, fingerprint: str, extension_version: int,
                 pairing_required: bool = False) -> None:
        from zeroconf import ServiceInfo

        self._zc = _zeroconf(bind)
        addresses = _local_addresses() if _interfaces(bind) is None else [str(ipaddress.ip_address(bind))]
        label = "".join(c if c.isprintable() and c != "." else "-" for c in name)[:63] or "lumen host"
        self.info = ServiceInfo(
            SERVICE_TYPE, f"{label}.{SERVICE_TYPE}", port=port, parsed_addresses=addresses,
            properties={"proto": PROTOCOL, "ext": str(extension_version), "name": name[:64], "fp": fingerprint,
                        "pair": "1" if pairing_required else "0"},
            server=f"{socket.gethostname().split('.')[0] or 'lumen'}.local.",
        )

    def start(self) -> None:
        # allow_name_change: two hosts with one name on a LAN get "name (2)", not an error.
        self._zc.register_service(self.info, allow_name_change=True)

    def close(self) -> None:
        try:
            self._zc.unregister_service(self.info)
        finally:
            self._zc.close()


def _local_addresses() -> list[str]:
    """The machine's IPv4 addresses other than loopback's, for a host bound to every one."""
    import ifaddr

    out = []
    for adapter in ifaddr.get_adapters():
        for ip in adapter.ips:
            if isinstance(ip.ip, str) and not ip.ip.startswith("127."):
                out.append(ip.ip)
    return out or ["127.0.0.1"]


def _found(info: ServiceInfo, name: str) -> FoundHost | None:
    props = {k.decode("utf-8", "replace"): (v or b"").decode("utf-8", "replace") for k, v in info.properties.items()}
    addresses = info.parsed_addresses()
    if not addresses or info.port is None or props.get("proto") != PROTOCOL:
        return None
    fingerprint = props.get("fp", "").lower()
    if len(fingerprint) != 64 or any(c not in "0123456789abcdef" for c in fingerprint):
        fingerprint = ""
    try:
        ext = int(props.get("ext", "0"))
    except ValueError:
        ext = 0
    label = props.get("name") or name.removesuffix("." + SERVICE_TYPE)
    return FoundHost(name=label, address=addresses[0], port=info.port, fingerprint=fingerprint,
                     extension_version=ext, protocol=props.get("proto", ""), pairing_required=props.get("pair") == "1")


class Browser:
    """Hosts as they appear and disappear; the callbacks run on zeroconf's thread."""

    def __init__(self, on_change: Callable[[dict[str, FoundHost]], None] | None = None, bind: str = "0.0.0.0") -> None:
        from zeroconf import ServiceBrowser

        self._on_change = on_change
        self._lock = threading.Lock()
        self.hosts: dict[str, FoundHost] = {}
        self._zc = _zeroconf(bind)
        self._browser = ServiceBrowser(self._zc, SERVICE_TYPE, handlers=[self._service_changed])

    def _service_changed(self, zeroconf: Zeroconf, service_type: str, name: str,
                         state_change: ServiceStateChange) -> None:
        """zeroconf's handler (its keyword arguments): a service came, changed or went."""
        from zeroconf import ServiceStateChange

        if state_change is ServiceStateChange.Removed:
            with self._lock:
                gone = self.hosts.pop(name, None)
            if gone is not None:
                self._changed()
            return
        info = zeroconf.get_service_info(service_type, name, timeout=2000)
        found = _found(info, name) if info is not None else None
        if found is not None:
            with self._lock:
                self.hosts[name] = found
            self._changed()

    def snapshot(self) -> dict[str, FoundHost]:
        with self._lock:
            return dict(self.hosts)

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change(self.snapshot())

    def close(self) -> None:
        self._browser.cancel()
        self._zc.close()


def browse(seconds: float, bind: str = "0.0.0.0") -> list[FoundHost]:
    """Every host that answers within ``seconds``."""
    browser = Browser(bind=bind)
    try:
        time.sleep(seconds)
        return sorted(browser.snapshot().values(), key=lambda h: (h.name, h.address))
    finally:
        browser.close()
