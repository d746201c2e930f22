"""Host addresses as people type them: HOST, HOST:PORT, [V6] or [V6]:PORT."""

from __future__ import annotations

import re
from typing import Final

from lumen_core.control.base import DEFAULT_PORT

_ADDRESS: Final = re.compile(r"\[([0-9a-fA-F:.]+)\](?::(\d+))?|([^:\[\]]+)(?::(\d+))?|([0-9a-fA-F:]+)")


def parse_address(text: str) -> tuple[str, int]:
    """(host, port); ValueError says what is wrong. A bare IPv6 address takes the
    default port (its colons cannot carry one: write [V6]:PORT)."""
    match = _ADDRESS.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not HOST or HOST:PORT")
    host = match[1] or match[3] or match[5]
    port = int(match[2] or match[4] or DEFAULT_PORT)
    if not 0 < port < 65536:
        raise ValueError(f"port {port} is out of range")
    return host, port


def format_address(host: str, port: int) -> str:
    """The address as a person would type it again: the port only if it is not the default."""
    shown = f"[{host}]" if ":" in host else host
    return shown if port == DEFAULT_PORT else f"{shown}:{port}"
