"""The core's errors: one base class to catch, and the families callers tell apart."""

from __future__ import annotations

import pytest

from lumen_core.control import GoodbyeCode
from lumen_core.errors import FecError, IdentityError, LumenError, PinError, ProtocolError


def test_a_protocol_error_carries_the_goodbye_code_it_closes_with() -> None:
    assert ProtocolError("bad Hello").code == GoodbyeCode.PROTOCOL_ERROR == 1
    error = ProtocolError("version 2", code=GoodbyeCode.UNSUPPORTED_VERSION)
    assert str(error) == "version 2" and error.code == GoodbyeCode.UNSUPPORTED_VERSION


@pytest.mark.parametrize("cls", [ProtocolError, PinError, IdentityError, FecError])
def test_every_error_is_a_lumen_error(cls: type[LumenError]) -> None:
    assert issubclass(cls, LumenError)


def test_what_a_person_or_a_caller_got_wrong_is_also_a_value_error() -> None:
    assert issubclass(PinError, ValueError) and issubclass(FecError, ValueError)
    assert not issubclass(ProtocolError, ValueError) and not issubclass(IdentityError, ValueError)
