"""Payload key paths: parsing (``a.b[0]."c.d"[]``) and value extraction.

The grammar and every quirk follow qdrant-client's ``local/json_path_parser.py`` so that a path that
local mode accepts (or rejects) is accepted (or rejected) here too:

* a key is a run of ``str.isalnum()`` characters, ``_`` and ``-``, or any text between double quotes;
* each key may be followed by ``[]`` (every array element) and ``[N]`` (one element, ``N <= 2**64-1``);
* parts are joined by ``.``; anything else (``a..b``, ``a[x]``, ``a.``, ``[0]``, ``""``) is
  ``InvalidPath("Invalid path")``.

A parsed path is a tuple of items: a ``str`` is an object key, an ``int`` an array index and the
:data:`WILDCARD` singleton an ``[]``. Tuples are hashable, so parsed paths key caches and prefix trees.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Union

from ..errors import InvalidInput, InvalidPath

__all__ = [
    "WILDCARD",
    "PathItem",
    "Path",
    "parse_path",
    "extract_values",
    "make_extractor",
    "format_path",
]

U64_MAX = 2**64 - 1


class _Wildcard:
    """The ``[]`` path item: every element of an array."""

    __slots__ = ()
    _instance: _Wildcard | None = None

    def __new__(cls) -> _Wildcard:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "WILDCARD"

    def __reduce__(self) -> str:
        return "WILDCARD"


WILDCARD = _Wildcard()

PathItem = Union[str, int, _Wildcard]
Path = tuple[PathItem, ...]


def parse_path(key: str) -> Path:
    """Parse a payload key path into its items, or raise ``InvalidPath("Invalid path")``.

    Results are cached: paths repeat across requests and points.
    """
    if not isinstance(key, str):
        raise InvalidInput(f"Payload key must be a string, got {type(key).__name__}: {key!r}")
    return _parse_path_cached(key)


@lru_cache(maxsize=4096)
def _parse_path_cached(key: str) -> Path:
    items: list[PathItem] = []
    rest = key
    # Mirrors parse_json_path: an empty input, or a part that is neither quoted nor a plain key, is
    # invalid; after each part and its brackets comes either the end, or "." and another part.
    while rest:
        if rest.startswith('"'):
            # json_path_parser counts quotes over the whole remainder, not after the opening one.
            if rest.count('"') < 2:
                raise InvalidPath(key)
            end = rest.find('"', 1)
            items.append(rest[1:end])
            rest = rest[end + 1 :]
        else:
            length = 0
            for char in rest:
                if not char.isalnum() and char not in ("_", "-"):
                    break
                length += 1
            if length == 0:
                raise InvalidPath(key)
            items.append(rest[:length])
            rest = rest[length:]
        while rest.startswith("["):
            close = rest.find("]", 1)
            if close == -1:
                raise InvalidPath(key)
            if close == 1:
                items.append(WILDCARD)
            else:
                digits = rest[1:close]
                if not (digits.isascii() and digits.isdigit()):
                    raise InvalidPath(key)
                index = int(digits)
                if index > U64_MAX:
                    raise InvalidPath(key)
                items.append(index)
            rest = rest[close + 1 :]
        if not rest:
            return tuple(items)
        # A lone trailing character ("a." or "a]") is invalid even when it is the separator.
        if len(rest) == 1 or not rest.startswith("."):
            raise InvalidPath(key)
        rest = rest[1:]
    raise InvalidPath(key)


def format_path(path: Path) -> str:
    """Render parsed items back to a path string (keys needing it are quoted); for messages."""
    parts: list[str] = []
    for item in path:
        if isinstance(item, str):
            plain = item != "" and all(c.isalnum() or c in "_-" for c in item)
            text = item if plain else f'"{item}"'
            parts.append(text if not parts else "." + text)
        elif item is WILDCARD:
            parts.append("[]")
        else:
            parts.append(f"[{item}]")
    return "".join(parts)


def extract_values(payload: Any, path: str | Path, flat: bool = True) -> list[Any]:
    """Every value ``path`` selects in ``payload``, in document order; ``[]`` when none.

    Mirrors ``value_by_key`` (which returns None instead of ``[]``): intermediate arrays are only
    walked by ``[]``/``[N]``, and with ``flat`` a selected array contributes its elements (one level)
    instead of itself. The returned values are the payload's own objects, not copies.
    """
    items = parse_path(path) if isinstance(path, str) else path
    current: list[Any] = [payload]
    for item in items:
        selected: list[Any] = []
        if isinstance(item, str):
            for data in current:
                if isinstance(data, dict) and item in data:
                    selected.append(data[item])
        elif item is WILDCARD:
            for data in current:
                if isinstance(data, list):
                    selected.extend(data)
        else:
            for data in current:
                if isinstance(data, list) and item < len(data):  # type: ignore[operator]
                    selected.append(data[item])  # type: ignore[index]
        if not selected:
            return []
        current = selected
    if not flat:
        return current
    result: list[Any] = []
    for value in current:
        if isinstance(value, list):
            result.extend(value)
        else:
            result.append(value)
    return result


_EMPTY: list[Any] = []


def make_extractor(path: str | Path, flat: bool = True) -> Callable[[Any], list[Any]]:
    """A function ``payload -> values`` equal to ``extract_values(payload, path, flat)``, faster.

    Filters call it once per candidate point, so the common one-key path skips the generic walk.
    The returned list may be the payload's own array or a shared empty list: callers must not
    mutate it.
    """
    items = parse_path(path) if isinstance(path, str) else path
    if len(items) == 1 and isinstance(items[0], str):
        key = items[0]
        if flat:

            def extract_flat_key(payload: Any) -> list[Any]:
                if not isinstance(payload, dict):
                    return _EMPTY
                value: object = payload.get(key, _EMPTY)
                if value is _EMPTY:
                    return _EMPTY
                if isinstance(value, list):
                    return value
                return [value]

            return extract_flat_key

        def extract_key(payload: Any) -> list[Any]:
            if not isinstance(payload, dict) or key not in payload:
                return _EMPTY
            return [payload[key]]

        return extract_key

    def extract_path(payload: Any) -> list[Any]:
        return extract_values(payload, items, flat)

    return extract_path
