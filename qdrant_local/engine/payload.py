"""Payload values: JSON normalisation, copying, keyed writes and deletes.

Read selectors live in :mod:`.projection`, facet and order_by values in :mod:`.payload_values`.

Everything here is pure and works on plain JSON values (dict, list, str, int, float, bool, None).
Semantics follow qdrant-client 1.20.0 local mode: ``to_jsonable_python`` in ``local_collection.py``,
``payload_value_setter.py``, ``payload_value_extractor.py`` and ``order_by.py``.

Write discipline: callers validate a whole request first (:func:`normalize_payload`,
:func:`validate_key`, :func:`compile_payload_selector` raise before anything is touched), then apply
:func:`set_payload` / :func:`delete_payload`, which cannot fail on valid input.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import enum
import math
import re
import uuid
from collections.abc import Iterable, Mapping
from decimal import Decimal
from itertools import chain
from pathlib import PurePath
from typing import Any

import msgpack

from ..errors import InvalidInput
from .paths import WILDCARD, Path, format_path, parse_path

__all__ = [
    "MAX_PAYLOAD_DEPTH",
    "check_payload_depth",
    "copy_payload",
    "delete_payload",
    "encode_payloads",
    "normalize_payload",
    "set_payload",
    "validate_key",
]


# --------------------------------------------------------------------------------------------------
# Normalisation


def normalize_payload(payload: Any) -> dict[str, Any]:
    """Return a fresh JSON-compatible deep copy of a payload, or raise :class:`InvalidInput`.

    Conversions are those local mode gets from ``json.dumps`` plus pydantic's ``to_jsonable_python``:
    tuples, sets and frozensets become lists; datetimes, dates and times ISO strings (UTC as ``Z``);
    timedeltas ISO 8601 durations; UUIDs, Decimals and paths strings; bytes UTF-8 text; enums their
    value; str/int/float subclasses plain values; dataclasses and pydantic-style models (anything with
    ``model_dump``) dicts. ``None`` is taken as the empty payload, as local mode's ``payload or {}``.

    Deviations (the Qdrant server's behaviour, not local mode's):
    NaN and +/-inf are rejected (local mode stores them; JSON cannot carry them to the server);
    non-str keys are rejected (json.dumps would silently turn ``1`` into ``"1"``);
    numpy scalars and arrays are converted to Python values (local mode raises a serialisation error).
    """
    if payload is None:
        return {}
    if not isinstance(payload, Mapping):
        raise InvalidInput(f"Payload must be a dict, got {type(payload).__name__}")
    if type(payload) is dict and _is_flat_json(payload):
        return dict(payload)  # the common case, a flat dict of JSON scalars: a shallow copy is a deep one
    check_payload_depth(payload)  # first, without recursion: the normaliser below then recurses < 128 levels
    return _normalize_dict(payload, (), set())


# Deviation: Python ints of any size are stored by local mode; the server's JSON numbers, and our
# msgpack log, hold 64-bit integers, so larger ones are rejected up front (memory and disk agree).
_MIN_INT, _MAX_INT = -(2**63), 2**64 - 1


def _is_utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not valid JSON text either
        return False
    return True


def _out_of_range(value: int, where: tuple[Any, ...]) -> InvalidInput:
    return InvalidInput(f"Payload integer {value} at {_where(where)} does not fit in 64 bits")


def _bad_text(where: tuple[Any, ...]) -> InvalidInput:
    return InvalidInput(f"Payload text at {_where(where)} is not valid unicode (lone surrogate)")


# In a packed request, these bytes may mark what the msgpack fast path cannot vouch for: bin values
# (bytes, which JSON turns into text) and float64 values with an all-ones exponent (NaN or infinity).
# They can also occur inside other values; then the request just takes the exact path.
_UNSURE_BYTES = re.compile(rb"[\xc4-\xc6]|\xcb[\x7f\xff][\xf0-\xff]")
# The float64 NaN / infinity marker alone (a float64 header, then an all-ones exponent).
_NONFINITE_BYTES = re.compile(rb"\xcb[\x7f\xff][\xf0-\xff]")


def encode_payloads(payloads: list[Any]) -> tuple[list[dict[str, Any]], list[bytes] | None]:
    """:func:`normalize_payload` of every payload of an upsert, with a bulk fast path, and, when all
    are flat dicts of exact JSON scalars (the common case), the msgpack bytes the payload column stores.

    A list of plain JSON payloads is packed with msgpack (C speed; it rejects what msgpack cannot
    hold: ints beyond 64 bits, lone surrogates, other types); payloads that are not flat make the
    round trip (a deep copy); anything the pack and round trip cannot vouch for goes through the
    exact per-payload path.

    Each payload is packed once, here; flat ones are then returned as they are, not copied (the
    column keeps their bytes and scalar values, nothing that aliases them). Other payloads get their
    normalised copies and None (the column encodes those itself).
    """
    payloads = [{} if payload is None else payload for payload in payloads]
    if set(map(type, payloads)) <= {dict}:
        pack = msgpack.Packer(use_bin_type=True).pack  # one per call: a Packer is not shared
        try:
            blobs: list[bytes] | None = list(map(pack, payloads))
        except (TypeError, ValueError, OverflowError, UnicodeEncodeError):
            blobs = None
        if blobs is not None:
            joined = b"".join(blobs)
            if _exact_flat(payloads, joined):
                return payloads, blobs
            count = len(blobs)
            unpacked = _round_trip(b"\xdd" + count.to_bytes(4, "big") + joined)  # an array of them
            if unpacked is not None:
                return unpacked, None
    return [normalize_payload(payload) for payload in payloads], None


def _round_trip(packed: bytes) -> list[dict[str, Any]] | None:
    """The packed payloads decoded when that is exactly their normalised form (see :func:`_vouched`)."""
    try:
        unpacked: list[dict[str, Any]] = msgpack.unpackb(packed, raw=False, strict_map_key=True)
    except ValueError:  # a key msgpack accepts but JSON does not
        return None
    return unpacked if unpacked and _vouched(unpacked, packed) else None


_FLAT_KINDS = frozenset((str, int, float, bool, type(None)))


def _exact_flat(payloads: list[dict[Any, Any]], packed: bytes) -> bool:
    """Whether each payload is a flat dict of exact str keys and exact JSON scalars that the pack
    (``packed``: their msgpack bytes) accepted (64-bit integers, valid text), no float NaN or
    infinite: then the payload is its own normalised form. False otherwise (the round trip decides)."""
    kinds = set(map(type, chain.from_iterable(map(dict.values, payloads))))  # C-level loops
    if not kinds <= _FLAT_KINDS or not set(map(type, chain.from_iterable(payloads))) <= {str}:
        return False
    return float not in kinds or _NONFINITE_BYTES.search(packed) is None


def _vouched(unpacked: list[dict[str, Any]], packed: bytes) -> bool:
    """Whether round-tripped payloads are exactly their normalised form.

    Flat payloads: no bytes among the keys and top-level values, and every float finite (checked only
    when the packed bytes hold a NaN / infinity marker somewhere, which a float's own bytes rarely
    imitate). Nested payloads: their depth is checked, and where the packed bytes hold a bin or
    NaN / infinity marker anywhere (often just inside a float's bytes) they take the exact path.
    """
    kinds = set(map(type, chain.from_iterable(map(dict.values, unpacked))))  # C-level loops
    if kinds & _CONTAINERS:
        if _UNSURE_BYTES.search(packed) is not None:
            return False
        for payload in unpacked:
            if any(type(value) in _CONTAINERS for value in payload.values()):
                check_payload_depth(payload)
        return True
    if bytes in kinds or bytes in set(map(type, chain.from_iterable(unpacked))):  # values, then keys
        return False
    if float in kinds and _NONFINITE_BYTES.search(packed) is not None:
        isfinite = math.isfinite
        floats = [value for payload in unpacked for value in payload.values() if type(value) is float]
        if not all(map(isfinite, floats)):
            return False
    return True


def _is_flat_json(payload: dict[Any, Any]) -> bool:
    isfinite = math.isfinite
    for key, item in payload.items():
        kind = type(item)
        if type(key) is not str or not key.isascii():
            return False
        if kind is str:
            if item.isascii():
                continue
            return False
        if kind is int:
            if _MIN_INT <= item <= _MAX_INT:
                continue
            return False
        if kind is bool or item is None:
            continue
        if kind is float and isfinite(item):
            continue
        return False
    return True


_SCALARS = (str, int, float, bool, type(None))


def _normalize_dict(value: Mapping[Any, Any], where: tuple[Any, ...], active: set[int]) -> dict[str, Any]:
    marker = id(value)
    if marker in active:
        raise InvalidInput(f"Payload contains a circular reference at {_where(where)}")
    active.add(marker)
    result: dict[str, Any] = {}
    for key, item in value.items():
        if type(key) is not str:
            if not isinstance(key, str):
                raise InvalidInput(f"Payload keys must be strings, got {type(key).__name__} {key!r} at {_where(where)}")
            key = str.__str__(key)  # a str subclass (a str enum): its text, as json.dumps writes it
        if not key.isascii() and not _is_utf8(key):
            raise _bad_text((*where, key))
        result[key] = _normalize_value(item, (*where, key), active)
    active.discard(marker)
    return result


def _normalize_list(items: Iterable[Any], where: tuple[Any, ...], active: set[int]) -> list[Any]:
    marker = id(items)
    if marker in active:
        raise InvalidInput(f"Payload contains a circular reference at {_where(where)}")
    active.add(marker)
    result = [_normalize_value(item, (*where, index), active) for index, item in enumerate(items)]
    active.discard(marker)
    return result


def _normalize_value(value: Any, where: tuple[Any, ...], active: set[int]) -> Any:
    kind = type(value)
    # Exact JSON types first: they are nearly every value.
    if kind is bool or value is None:
        return value
    if kind is int:
        if not _MIN_INT <= value <= _MAX_INT:
            raise _out_of_range(value, where)
        return value
    if kind is str:
        if not value.isascii() and not _is_utf8(value):
            raise _bad_text(where)
        return value
    if kind is float:
        if not math.isfinite(value):
            raise _not_finite(value, where)
        return value
    if kind is dict:
        return _normalize_dict(value, where, active)
    if kind is list:
        return _normalize_list(value, where, active)
    return _convert(value, where, active)


def _convert(value: Any, where: tuple[Any, ...], active: set[int]) -> Any:
    """Values JSON lacks, converted the way json.dumps + pydantic's to_jsonable_python do."""
    if isinstance(value, enum.Enum) and not isinstance(value, (str, int, float)):
        # json.dumps writes str/int/float-mixin enums through their base type (the branches below,
        # shared with other subclasses of those types); other enums go by their value, as pydantic.
        return _normalize_value(value.value, where, active)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return _normalize_value(float.__float__(value), where, active)
    if isinstance(value, Mapping):
        return _normalize_dict(value, where, active)
    if isinstance(value, (list, tuple, set, frozenset)):
        return _normalize_list(value, where, active)
    if isinstance(value, _dt.datetime):
        return _format_datetime(value)
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, _dt.time):
        return _format_time(value)
    if isinstance(value, _dt.timedelta):
        return _format_duration(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, PurePath):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"Payload bytes at {_where(where)} are not valid UTF-8") from None
    numpy_value = _from_numpy(value)
    if numpy_value is not _NOT_NUMPY:
        return _normalize_value(numpy_value, where, active)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        return _normalize_dict(fields, where, active)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        return _normalize_value(dump(mode="json"), where, active)
    raise InvalidInput(f"Unable to serialize unknown type: {type(value)} at {_where(where)}")


_NOT_NUMPY = object()


def _from_numpy(value: Any) -> Any:
    """A numpy scalar or array as Python values (without importing numpy when it is not one)."""
    if type(value).__module__ != "numpy":
        return _NOT_NUMPY
    tolist = getattr(value, "tolist", None)
    if tolist is None:
        return _NOT_NUMPY
    return tolist()  # ndarray -> nested lists, scalar -> int/float/bool/str


def _not_finite(value: float, where: tuple[Any, ...]) -> InvalidInput:
    # Deviation: local mode stores NaN and inf; the server cannot receive them (JSON has no NaN).
    return InvalidInput(f"Payload value at {_where(where)} is {value}: NaN and infinite values are not allowed")


def _where(where: tuple[Any, ...]) -> str:
    if not where:
        return "the payload root"
    parts: Path = tuple(item if isinstance(item, str) else int(item) for item in where)
    return repr(format_path(parts))


def _format_offset(value: _dt.datetime | _dt.time) -> str:
    offset = value.utcoffset()
    if offset is None:
        return ""
    seconds = int(offset.total_seconds())
    if seconds == 0 and offset.microseconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    minutes = abs(seconds) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def _format_datetime(value: _dt.datetime) -> str:
    """pydantic's datetime text: ISO 8601, with ``Z`` for UTC and minutes-only offsets."""
    return value.replace(tzinfo=None).isoformat() + _format_offset(value)


def _format_time(value: _dt.time) -> str:
    return value.replace(tzinfo=None).isoformat() + _format_offset(value)


def _format_duration(value: _dt.timedelta) -> str:
    """pydantic's (speedate's) ISO 8601 duration text: ``P1Y35DT5H``, ``-PT1S``, ``PT0S``."""
    negative = value < _dt.timedelta(0)
    if negative:
        value = -value
    days, seconds, micros = value.days, value.seconds, value.microseconds
    text = "-P" if negative else "P"
    if days >= 365:
        text += f"{days // 365}Y"
        days %= 365
    if days:
        text += f"{days}D"
    if seconds or micros:
        text += "T"
        hours, rest = divmod(seconds, 3600)
        minutes, secs = divmod(rest, 60)
        if hours:
            text += f"{hours}H"
        if minutes:
            text += f"{minutes}M"
        if secs or micros:
            text += str(secs)
            if micros:
                text += "." + f"{micros:06d}".rstrip("0")
            text += "S"
    elif not value.days:
        text += "T0S"
    return text


# --------------------------------------------------------------------------------------------------
# Copying


def copy_payload(value: Any) -> Any:
    """Deep copy of a JSON value (dicts, lists, scalars); several times faster than copy.deepcopy.

    Iterative (an explicit stack, no recursion), so copying works at any nesting depth whatever the
    caller's own stack depth (replay of an old folder, a deep caller).
    """
    kind = type(value)
    if kind is dict:
        root: Any = value.copy()
    elif kind is list:
        root = value.copy()
    else:
        return value
    pending = [root]
    while pending:
        container = pending.pop()
        items = container.items() if type(container) is dict else enumerate(container)
        for k, v in items:
            if type(v) in _CONTAINERS:  # only nested containers need their own copies
                copied = v.copy()
                container[k] = copied
                pending.append(copied)
    return root


_CONTAINERS = frozenset((dict, list))

#: The deepest nesting of objects and arrays a payload may hold (the payload itself is level 1): the
#: server's JSON parser stops at 128 levels.
MAX_PAYLOAD_DEPTH = 128


def check_payload_depth(value: Any, what: str = "Payload") -> None:
    """Raise InvalidInput when ``value`` nests dicts and lists (or tuples) deeper than MAX_PAYLOAD_DEPTH.

    Walked with an explicit stack, so it cannot overflow whatever the depth; circular references are
    left to the normaliser, which names them.
    """
    stack = [(value, 1)]
    seen = {id(value)}  # each container once: a circular reference ends here and is reported as such later
    while stack:
        container, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            raise InvalidInput(f"{what} is nested deeper than {MAX_PAYLOAD_DEPTH} levels")
        children = container.values() if isinstance(container, Mapping) else container
        for child in children:
            if isinstance(child, (Mapping, list, tuple)) and id(child) not in seen:
                seen.add(id(child))
                stack.append((child, depth + 1))


# --------------------------------------------------------------------------------------------------
# Keyed writes and deletes


def validate_key(key: Any) -> Path:
    """Parse a payload key path, raising ``InvalidPath("Invalid path")`` (or InvalidInput) if bad."""
    return parse_path(key)


def _merge(target: dict[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    """Merge like the server's ``merge_map``: a null value removes the key. Values are copied."""
    for key, value in new.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = copy_payload(value)
    return target


def set_payload(target: dict[str, Any], new: Mapping[str, Any], key: str | Path | None = None) -> None:
    """Merge ``new`` into ``target`` in place, at ``key`` when given (qdrant-client's setter).

    ``new`` must already be normalised; its values are copied, so one ``new`` can be applied to many
    points. Without ``key`` top-level keys are replaced (nested objects are not deep-merged) and a
    null value deletes its key. With ``key``: missing objects on the way are created; a scalar in the
    way is replaced by an object; ``arr[]`` merges into every element and ``arr[N]`` into one
    (an index past the end does nothing); a non-array where the path expects one becomes ``[]``.
    """
    if key is None:
        _merge(target, new)
        return
    path = parse_path(key) if isinstance(key, str) else key
    _set_at(target, path, 0, new, None, None)


def _set_at(
    data: Any,
    path: Path,
    position: int,
    new: Mapping[str, Any],
    parent: Any,
    parent_item: str | int | None,
) -> None:
    """One step of ``Setter.set``: ``data`` is ``parent[parent_item]``, ``path[position]`` the item."""
    item = path[position]
    last = position == len(path) - 1
    if isinstance(item, str):
        if isinstance(data, dict):
            if item not in data:
                data[item] = {}
            if last:
                if isinstance(data[item], dict):
                    _merge(data[item], new)
                else:
                    data[item] = _merge({}, new)
            else:
                _set_at(data[item], path, position + 1, new, data, item)
            return
        # Not an object where the path needs one: replace it with a fresh object holding the rest.
        # parent is never None here: the root is always a dict.
        if last:
            parent[parent_item] = {item: _merge({}, new)}
        else:
            replacement: dict[str, Any] = {item: {}}
            parent[parent_item] = replacement
            _set_at(replacement[item], path, position + 1, new, replacement, item)
        return
    if not isinstance(data, list):
        # Mirrors _ListSetter: an array step on a non-array empties it to [] and stops there.
        parent[parent_item] = []
        return
    if item is WILDCARD:
        for index, element in enumerate(data):
            if last:
                if isinstance(element, dict):
                    _merge(element, new)
                else:
                    data[index] = _merge({}, new)
            else:
                _set_at(element, path, position + 1, new, data, index)
        return
    index = int(item)  # type: ignore[arg-type]  # the remaining item kind: an array index
    if index < len(data):
        if last:
            if isinstance(data[index], dict):
                _merge(data[index], new)
            else:
                data[index] = _merge({}, new)
        else:
            _set_at(data[index], path, position + 1, new, data, index)


def delete_payload(target: dict[str, Any], keys: Iterable[str | Path]) -> None:
    """Delete each key path from ``target`` in place (qdrant-client's ``delete_value_by_key``).

    A path that selects nothing is a no-op. A path ending in ``[N]`` is a no-op, as on the server;
    a path ending in ``[]`` empties the array.
    """
    for key in keys:
        path = parse_path(key) if isinstance(key, str) else key
        _delete_at(target, path, 0)


def _delete_at(data: Any, path: Path, position: int) -> None:
    item = path[position]
    if position == len(path) - 1:
        if isinstance(item, str):
            if isinstance(data, dict):
                data.pop(item, None)
        elif item is WILDCARD and isinstance(data, list):
            data.clear()
        return
    if isinstance(item, str):
        if isinstance(data, dict) and item in data:
            _delete_at(data[item], path, position + 1)
    elif item is WILDCARD:
        if isinstance(data, list):
            for element in data:
                _delete_at(element, path, position + 1)
    elif isinstance(data, list) and item < len(data):  # type: ignore[operator]
        _delete_at(data[item], path, position + 1)  # type: ignore[index]
