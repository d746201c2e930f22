"""Tagged fields: the encoding of lumen's extension blocks and extended messages.

::

    field: +--------+-----------------+--------------------+
           | u8 tag | u16 LE length   | value (length B)   |
           +--------+-----------------+--------------------+

Rules (the theory of operation):
- Fields may come in any order. Unknown tags are skipped (that is how later versions
  add fields). A known tag with a value of the wrong length, a value out of range, a
  repeated tag, a missing required field or a field running past the end is a
  protocol error.
- Kinds: u8/u16/u32/u64 (exact width, little-endian), bool (one byte, 0 or 1), str
  (UTF-8, at most ``limit`` bytes), bytes (exactly ``exact`` or at most ``limit`` bytes).

Each message class lists its fields as data in ``FIELDS``; ``encode_fields`` and
``decode_fields`` are generic over that table.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Final, TypeVar

from ..errors import ProtocolError

_FIELD = struct.Struct("<BH")
FIELD_HEADER_SIZE: Final = _FIELD.size
_INT_WIDTH: Final = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}


@dataclass(frozen=True, slots=True)
class Field:
    tag: int
    name: str
    kind: str  # u8 u16 u32 u64 bool str bytes
    required: bool = True
    check: Callable[[Any], bool] | None = None
    limit: int = 255  # str/bytes: maximum length in bytes
    exact: int | None = None  # bytes: exact length


def between(lo: int, hi: int) -> Callable[[int], bool]:
    return lambda v: lo <= v <= hi


class Fields:
    """Base of every class encoded as tagged fields."""

    FIELDS: ClassVar[tuple[Field, ...]]


F = TypeVar("F", bound=Fields)


def _encode_value(f: Field, value: Any) -> bytes:
    if f.kind in _INT_WIDTH:
        return int(value).to_bytes(_INT_WIDTH[f.kind], "little")
    if f.kind == "bool":
        return b"\x01" if value else b"\x00"
    if f.kind == "str":
        return str(value).encode("utf-8")
    return bytes(value)


def _valid(f: Field, value: Any) -> bool:
    if f.kind in _INT_WIDTH and not 0 <= value < 1 << (8 * _INT_WIDTH[f.kind]):
        return False
    if f.kind == "str" and len(value.encode("utf-8")) > f.limit:
        return False
    if f.kind == "bytes" and (len(value) != f.exact if f.exact is not None else len(value) > f.limit):
        return False
    return f.check is None or bool(f.check(value))


def encode_fields(obj: Fields) -> bytes:
    """The tagged fields of ``obj``. ValueError if one breaks its own rules (our bug)."""
    parts = []
    for f in obj.FIELDS:
        value = getattr(obj, f.name)
        if value is None:
            if f.required:
                raise ValueError(f"{type(obj).__name__}.{f.name} is required")
            continue
        if not _valid(f, value):
            raise ValueError(f"{type(obj).__name__}.{f.name}={value!r} is out of range")
        raw = _encode_value(f, value)
        parts.append(_FIELD.pack(f.tag, len(raw)) + raw)
    return b"".join(parts)


def _decode_value(f: Field, raw: bytes, where: str) -> Any:
    if f.kind in _INT_WIDTH:
        if len(raw) != _INT_WIDTH[f.kind]:
            raise ProtocolError(f"{where}: {len(raw)} bytes for a {f.kind}")
        value: Any = int.from_bytes(raw, "little")
    elif f.kind == "bool":
        if raw not in (b"\x00", b"\x01"):
            raise ProtocolError(f"{where}: a boolean is one byte, 0 or 1")
        value = raw == b"\x01"
    elif f.kind == "str":
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError(f"{where}: not UTF-8") from None
    else:
        value = bytes(raw)
    if not _valid(f, value):
        raise ProtocolError(f"{where}: value out of range")
    return value


def decode_fields(cls: type[F], data: bytes) -> F:
    """An instance of ``cls`` from its tagged fields; ProtocolError if they are malformed."""
    by_tag = {f.tag: f for f in cls.FIELDS}
    values: dict[str, Any] = {}
    pos, name = 0, cls.__name__
    while pos < len(data):
        if len(data) - pos < FIELD_HEADER_SIZE:
            raise ProtocolError(f"{name}: truncated field header")
        tag, length = _FIELD.unpack_from(data, pos)
        pos += FIELD_HEADER_SIZE
        if length > len(data) - pos:
            raise ProtocolError(f"{name}: field {tag} runs past the end")
        raw = data[pos : pos + length]
        pos += length
        f = by_tag.get(tag)
        if f is None:
            continue
        if f.name in values:
            raise ProtocolError(f"{name}.{f.name} appears twice")
        values[f.name] = _decode_value(f, raw, f"{name}.{f.name}")
    for f in cls.FIELDS:
        if f.required and f.name not in values:
            raise ProtocolError(f"{name}.{f.name} is missing")
    return cls(**values)
