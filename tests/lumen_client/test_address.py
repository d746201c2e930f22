"""Host addresses as people type them (lumen_client/address.py)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lumen_client.address import format_address, parse_address
from lumen_core.control.base import DEFAULT_PORT


@pytest.mark.parametrize(("text", "expected"), [
    ("192.168.1.20", ("192.168.1.20", DEFAULT_PORT)),
    (" host.lan:9000 ", ("host.lan", 9000)),
    ("[::1]", ("::1", DEFAULT_PORT)),
    ("[fe80::1]:9778", ("fe80::1", 9778)),
    ("fe80::1", ("fe80::1", DEFAULT_PORT)),
])
def test_addresses_people_type(text: str, expected: tuple[str, int]) -> None:
    assert parse_address(text) == expected


@pytest.mark.parametrize("text", ["", "host:", "host:0", "host:65536", "[::1", "a:b:c:zz", "host:9:9"])
def test_what_is_not_an_address_is_a_clear_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"not HOST or HOST:PORT|out of range"):
        parse_address(text)


@given(st.text(max_size=40))
def test_any_text_is_an_address_or_a_value_error(text: str) -> None:
    try:
        host, port = parse_address(text)
    except ValueError:
        return
    assert host and 0 < port < 65536 and host in text


@pytest.mark.parametrize(("host", "port"), [("10.0.0.1", DEFAULT_PORT), ("10.0.0.1", 9000), ("::1", 9000)])
def test_formatted_addresses_read_back(host: str, port: int) -> None:
    assert parse_address(format_address(host, port)) == (host, port)
