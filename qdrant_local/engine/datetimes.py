"""Datetime payload values: the formats Qdrant core accepts, and exact microsecond timestamps.

Mirrors qdrant-client's ``local/datetime_utils.py`` (the parser) and ``local/order_by.py`` (the
microsecond conversion), which in turn mirror core. Datetime range filters and ``order_by`` compare
payload strings through :func:`parse_timestamp`, cached because the same strings recur across
queries.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from functools import lru_cache
from typing import Any

__all__ = [
    "parse_datetime",
    "parse_timestamp",
    "datetime_to_microseconds",
    "bound_to_microseconds",
]

MICROS_PER_SECOND = 1_000_000
MICROS_PER_DAY = 24 * 60 * 60 * MICROS_PER_SECOND
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# The formats qdrant core accepts, tried in this order (datetime_utils.available_formats).
_FORMATS = (
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%d %H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%d %H:%M:%S%z",
    # core reads back its own Display output, which puts a space before the offset
    "%Y-%m-%dT%H:%M:%S.%f %z",
    "%Y-%m-%d %H:%M:%S.%f %z",
    "%Y-%m-%dT%H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
)


def _normalize(text: str) -> str:
    """Rewrite the leniencies of core's parser that strptime lacks (datetime_utils.normalize)."""
    text = text.lstrip()
    if text.endswith(" UTC"):
        text = text[: -len(" UTC")] + "+00:00"
    elif text.endswith("z"):
        text = text[:-1] + "Z"
    # A fraction longer than microseconds is cut to six digits rather than rejected.
    dot = text.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(text) and text[end].isdigit():
            end += 1
        if end - dot > 7:
            text = text[: dot + 7] + text[end:]
    return text


def _try_formats(text: str) -> datetime | None:
    for fmt in _FORMATS:
        try:
            parsed = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)  # naive means UTC, as in core
        return parsed
    return None


def parse_datetime(text: str) -> datetime | None:
    """The timezone-aware datetime a payload string denotes, or None if core would not parse it."""
    text = _normalize(text)
    parsed = _try_formats(text)
    if parsed is not None:
        return parsed
    # strptime's %z wants minutes; core also takes an hours-only offset ("+01"). Only strings that
    # end in one get the retry, so truncated datetimes ("2024-06-15 12") stay invalid.
    offset = text[-3:]
    if len(offset) == 3 and offset[0] in "+-" and offset[1:].isdigit():
        return _try_formats(text + ":00")
    return None


def datetime_to_microseconds(value: datetime) -> int:
    """Exact microseconds since the Unix epoch; a naive datetime is taken as UTC (order_by.py)."""
    if value.utcoffset() is None:
        value = value.replace(tzinfo=timezone.utc)
    delta = value - _EPOCH
    return delta.days * MICROS_PER_DAY + delta.seconds * MICROS_PER_SECOND + delta.microseconds


@lru_cache(maxsize=65536)
def parse_timestamp(text: str) -> int | None:
    """Microseconds since the epoch of a payload datetime string, None if it is not one.

    Comparing these integers is exactly comparing the aware datetimes, which is what local mode does.
    """
    parsed = parse_datetime(text)
    return None if parsed is None else datetime_to_microseconds(parsed)


def bound_to_microseconds(value: Any) -> int:
    """Microseconds of a DatetimeRange / start_from bound: datetime, date (midnight UTC) or string.

    Strings are read the way pydantic reads them into qdrant_client's ``DatetimeRange`` (ISO 8601),
    falling back to core's payload formats; numbers are Unix timestamps in seconds, as pydantic
    takes them (or milliseconds above 2e10, likewise). Raises ValueError for anything else.
    """
    if isinstance(value, datetime):
        return datetime_to_microseconds(value)
    if isinstance(value, date):
        return datetime_to_microseconds(datetime.combine(value, datetime.min.time()))
    if isinstance(value, bool):
        raise ValueError(f"Invalid datetime bound: {value!r}")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) > 2e10 else value
        return datetime_to_microseconds(datetime.fromtimestamp(seconds, tz=timezone.utc))
    if isinstance(value, str):
        try:
            parsed: datetime | None = datetime.fromisoformat(value.replace("z", "Z"))
        except ValueError:
            parsed = parse_datetime(value)
        if parsed is None:
            raise ValueError(f"Invalid datetime bound: {value!r}")
        return datetime_to_microseconds(parsed)
    raise ValueError(f"Invalid datetime bound: {value!r}")
