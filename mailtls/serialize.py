"""Turn model values into JSON-able data, one convention for every output.

* dataclasses -> dicts (fields in declaration order; ``der`` bytes are left out)
* ``StrEnum`` -> its value; ``datetime`` -> ISO 8601 in UTC with ``Z``
* tuples -> lists; ``bytes`` -> lowercase hex; ``Path`` -> str
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from enum import Enum
from pathlib import PurePath
from typing import Any

#: Field names never serialised (raw bytes that have their own representation).
SKIPPED_FIELDS = frozenset({"der"})


def iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, Enum):
            return value.value
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return iso(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_jsonable(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in SKIPPED_FIELDS
        }
    if isinstance(value, dict):
        return {str(to_jsonable(k)): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return bytes(value).hex()
    if isinstance(value, PurePath):
        return str(value)
    return str(value)
