"""The host's options: who is on loopback, when pairing is required, and the video socket's
wildcard address for the bind address's family."""

from __future__ import annotations

import pytest
from lumen_host.options import HostOptions


@pytest.mark.parametrize(("bind", "loopback"), [
    ("127.0.0.1", True), ("127.8.9.10", True), ("::1", True), ("localhost", True),
    ("0.0.0.0", False), ("::", False), ("192.168.1.5", False), ("den.local", False),  # a name: not trusted
])
def test_loopback_is_what_only_this_machine_reaches(bind: str, loopback: bool) -> None:
    assert HostOptions(bind=bind).loopback == loopback


def test_pairing_is_required_off_loopback_unless_unpaired_clients_are_allowed() -> None:
    assert not HostOptions(bind="127.0.0.1").pairing_required
    assert HostOptions(bind="127.0.0.1", require_pairing=True).pairing_required  # other users of this machine
    assert HostOptions(bind="0.0.0.0").pairing_required
    assert not HostOptions(bind="0.0.0.0", allow_unpaired=True).pairing_required
    assert HostOptions(bind="0.0.0.0", allow_unpaired=True, require_pairing=True).pairing_required


def test_the_video_socket_binds_the_wildcard_of_the_same_family() -> None:
    assert HostOptions(bind="127.0.0.1").bind_any == "0.0.0.0"
    assert HostOptions(bind="::1").bind_any == "::" and HostOptions(bind="fe80::1").bind_any == "::"
