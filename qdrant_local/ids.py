"""Point ids: validation, canonical form and scroll order.

Qdrant ids are unsigned 64-bit integers or UUIDs. A UUID may arrive in any spelling that
``uuid.UUID`` accepts (hyphenated, 32 hex digits, braces, ``urn:uuid:``) or as a ``uuid.UUID`` object;
it is stored and returned as the canonical lowercase hyphenated string, so every spelling reaches
the same point.

Scroll order is qdrant-client's: every integer id (ascending) before every UUID (ascending as a
string, which for canonical lowercase hex is also ascending as a 128-bit number).
"""

from __future__ import annotations

import uuid
from typing import Any, Union

from .errors import InvalidPointId

PointId = Union[int, str]

MAX_INT_ID = 2**64 - 1


def _not_a_point_id(value: Any) -> InvalidPointId:
    return InvalidPointId(
        value,
        f"value {value!r} is not a valid point ID, valid values are either an unsigned integer or a UUID",
    )


def normalize_id(value: Any) -> PointId:
    """Return the canonical form of a point id, or raise :class:`InvalidPointId`."""
    if isinstance(value, bool):
        # Deviation: qdrant-client's pydantic coerces True to 1; the server rejects booleans.
        raise _not_a_point_id(value)
    if isinstance(value, int):
        # Deviation: local mode stores negative ids and ids >= 2**64; the server accepts only u64.
        if 0 <= value <= MAX_INT_ID:
            return int(value)
        raise _not_a_point_id(value)
    if isinstance(value, str):
        try:
            return str(uuid.UUID(value))
        except ValueError:
            raise InvalidPointId(value) from None
    if isinstance(value, uuid.UUID):
        return str(value)
    # numpy integers are common in user code (ids from np.arange); accept them as ints.
    if type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "iu":
        return normalize_id(int(value))
    raise _not_a_point_id(value)


def normalize_ids(values: list[Any]) -> list[PointId]:
    """Canonical forms of many ids; plain in-range ints (the common case) are checked in bulk."""
    if values and set(map(type, values)) == {int} and 0 <= min(values) and max(values) <= MAX_INT_ID:
        return list(values)
    return [normalize_id(value) for value in values]


def try_normalize_id(value: Any) -> PointId | None:
    """Canonical id, or None when the value is not a valid id (retrieve skips such ids silently)."""
    try:
        return normalize_id(value)
    except InvalidPointId:
        return None


def order_key(point_id: PointId) -> tuple[str, int]:
    """Sort key giving qdrant-client's scroll order: integers first, then UUID strings."""
    if isinstance(point_id, str):
        return point_id, 0
    return "", point_id
