"""PayloadColumn: every slot's payload as msgpack bytes, decoded on read.

A payload costs its msgpack size plus one ``bytes`` header (about 33 bytes) and a list cell,
instead of a dict with its key and value objects. Reading ``column[slot]`` decodes a fresh dict
(the caller's own copy); writing ``column[slot] = payload`` encodes it. Many slots decode in one
msgpack call (:meth:`PayloadColumn.payloads_of`).

Filters on keys without a payload index scan values: for those, the column keeps *hot keys*, the
decoded top-level value of a key for every slot (built once with one bulk decode, then updated by
every write, so never stale), for at most :data:`HOT_KEYS` keys, least recently used dropped first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Callable, Iterable, Iterator, Sequence

import msgpack

from .paths import Path, extract_values

__all__ = ["PayloadColumn", "HOT_KEYS", "payload_dicts", "extracted_values", "key_payloads", "matching_slots"]

#: Top-level keys whose decoded values are kept for scanning filters.
HOT_KEYS = 4
_CHUNK = 8192  # slots decoded per msgpack call
_EMPTY_PAYLOAD = msgpack.packb({})
_NIL = msgpack.packb(None)
_MISSING = object()
_NO_VALUES: list[Any] = []

_pack = msgpack.Packer(use_bin_type=True).pack


def _unpack_many(blobs: list[bytes]) -> list[Any]:
    """Decode many msgpack values with one call (an array header before their bytes)."""
    count = len(blobs)
    header = b"\xdd" + count.to_bytes(4, "big")
    return msgpack.unpackb(header + b"".join(blobs), raw=False, strict_map_key=False)


class PayloadColumn(Sequence[Any]):
    """Payload by slot: None for a free or deleted slot, a dict otherwise."""

    def __init__(self) -> None:
        self._blobs: list[bytes | None] = []
        self._hot: OrderedDict[str, list[Any]] = OrderedDict()
        self._hot_lock = threading.Lock()

    # -- reads -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._blobs)

    def __getitem__(self, slot: Any) -> Any:
        if isinstance(slot, slice):
            return self.payloads_of(range(*slot.indices(len(self))))
        blob = self._blobs[slot]
        if blob is None:
            return None
        if blob == _EMPTY_PAYLOAD:
            return {}
        return msgpack.unpackb(blob, raw=False, strict_map_key=False)

    def __iter__(self) -> Iterator[Any]:
        for start in range(0, len(self._blobs), _CHUNK):
            yield from self.payloads_of(range(start, min(start + _CHUNK, len(self._blobs))))

    def payloads_of(self, slots: Iterable[int]) -> list[Any]:
        """Decoded payloads of many slots (None for deleted ones), a fresh copy each."""
        blobs = self._blobs
        chosen = [blobs[slot] for slot in slots]
        return _unpack_many([_NIL if blob is None else blob for blob in chosen])

    def blob(self, slot: int) -> bytes | None:
        """The msgpack bytes of a slot's payload (None for a deleted slot)."""
        return self._blobs[slot]

    def blobs_of(self, slots: Iterable[int]) -> list[bytes | None]:
        """The msgpack bytes of many slots' payloads, for export."""
        blobs = self._blobs
        return [blobs[slot] for slot in slots]

    def nbytes(self) -> int:
        """Bytes of the encoded payloads (without Python's per-object headers)."""
        return sum(len(blob) for blob in self._blobs if blob is not None)

    # -- writes ----------------------------------------------------------------------------------

    def __setitem__(self, slot: int, payload: dict[str, Any] | None) -> None:
        self._blobs[slot] = None if payload is None else (_pack(payload) if payload else _EMPTY_PAYLOAD)
        for key, values in self._hot.items():
            values[slot] = _MISSING if payload is None else payload.get(key, _MISSING)

    def set_many(self, slots: Sequence[int], payloads: Sequence[dict[str, Any]]) -> None:
        """``column[slot] = payload`` for each pair."""
        blobs = self._blobs
        for slot, payload in zip(slots, payloads):
            blobs[slot] = _pack(payload) if payload else _EMPTY_PAYLOAD
        for key, values in self._hot.items():
            for slot, payload in zip(slots, payloads):
                values[slot] = payload.get(key, _MISSING)

    def set_encoded(self, slots: Sequence[int], payloads: Sequence[dict[str, Any]], blobs: Sequence[bytes]) -> None:
        """``column[slot] = payload`` for each, given the payloads' msgpack bytes as well (packed once,
        by the upsert's validation: ``payload.encode_payloads``)."""
        own = self._blobs
        for slot, blob in zip(slots, blobs):
            own[slot] = _EMPTY_PAYLOAD if blob == _EMPTY_PAYLOAD else blob
        for key, values in self._hot.items():
            for slot, payload in zip(slots, payloads):
                values[slot] = payload.get(key, _MISSING)

    def set_blobs(self, slots: Sequence[int], blobs: Sequence[bytes]) -> None:
        """Store already-encoded payloads (msgpack maps with text keys), e.g. from a snapshot."""
        own = self._blobs
        for slot, blob in zip(slots, blobs):
            own[slot] = _EMPTY_PAYLOAD if blob == _EMPTY_PAYLOAD else blob
        if self._hot:
            decoded = _unpack_many(list(blobs))
            for key, values in self._hot.items():
                for slot, payload in zip(slots, decoded):
                    values[slot] = payload.get(key, _MISSING)

    def extend_empty(self, count: int) -> None:
        """Room for ``count`` new slots (payloads None until set)."""
        self._blobs.extend([None] * count)
        for values in self._hot.values():
            values.extend([_MISSING] * count)

    def clear_slots(self, slots: Iterable[int]) -> None:
        """Forget the payloads of deleted slots."""
        blobs, hot = self._blobs, list(self._hot.values())
        for slot in slots:
            blobs[slot] = None
            for values in hot:
                values[slot] = _MISSING

    def compact(self, keep: Sequence[int]) -> None:
        """Keep only the slots ``keep`` (ascending), renumbered from 0."""
        self._blobs = [self._blobs[slot] for slot in keep]
        self._hot = OrderedDict((key, [values[slot] for slot in keep]) for key, values in self._hot.items())

    # -- scans -----------------------------------------------------------------------------------

    def hot_values(self, key: str) -> list[Any]:
        """The top-level value of ``key`` for every slot (a private sentinel where absent).

        Reads run in parallel (engine/rwlock.py): one builds a key's values while the others wait;
        writes run alone, so they update the hot keys without the lock."""
        with self._hot_lock:
            values = self._hot.get(key)
            if values is not None:
                self._hot.move_to_end(key)
                return values
            return self._build_hot(key)

    def _build_hot(self, key: str) -> list[Any]:
        values = []
        strings: dict[str, str] = {}  # one object per distinct text, as a dict of payloads would share
        blobs = self._blobs
        for start in range(0, len(blobs), _CHUNK):
            chunk = [_NIL if blob is None else blob for blob in blobs[start : start + _CHUNK]]
            for payload in _unpack_many(chunk):
                value = payload.get(key, _MISSING) if payload is not None else _MISSING
                if type(value) is str:
                    value = strings.setdefault(value, value)
                values.append(value)
        self._hot[key] = values
        while len(self._hot) > HOT_KEYS:
            self._hot.popitem(last=False)
        return values

    def extracted(self, path: Path, flat: bool, slots: list[int]) -> list[list[Any]]:
        """``extract_values(column[slot], path, flat)`` for each slot, from the path's hot key."""
        values = self.hot_values(path[0])  # type: ignore[arg-type]
        if len(path) > 1:  # the whole path read from a one-key payload holding the hot value
            key = path[0]
            return [
                _NO_VALUES if values[slot] is _MISSING else extract_values({key: values[slot]}, path, flat)
                for slot in slots
            ]
        if not flat:
            return [_NO_VALUES if values[slot] is _MISSING else [values[slot]] for slot in slots]
        out = []
        for slot in slots:
            value = values[slot]
            if value is _MISSING:
                out.append(_NO_VALUES)
            elif type(value) is list:
                out.append(value)
            else:
                out.append([value])
        return out


def matching_slots(
    payloads: Any,
    path: Path,
    flat: bool,
    extract: Callable[[Any], list[Any]],
    matches: Callable[[list[Any]], bool],
    slots: list[int],
) -> list[int]:
    """The slots whose ``extract(payloads[slot])`` values pass ``matches`` (a filter's scan)."""
    if not (flat and len(path) == 1 and isinstance(payloads, PayloadColumn) and isinstance(path[0], str)):
        return [
            slot
            for slot, values in zip(slots, extracted_values(payloads, path, flat, extract, slots))
            if matches(values)
        ]
    values = payloads.hot_values(path[0])
    box: list[Any] = [None]  # one reused single-value list: matches() reads it and keeps nothing
    missing = matches(_NO_VALUES)
    hits = []
    for slot in slots:
        value = values[slot]
        if value is _MISSING:
            if missing:
                hits.append(slot)
            continue
        if type(value) is list:
            if matches(value):
                hits.append(slot)
            continue
        box[0] = value
        if matches(box):
            hits.append(slot)
    return hits


def key_payloads(payloads: Any, path: Path, slots: list[int]) -> list[Any]:
    """For each slot, a payload that reads like the slot's own along ``path``: from a column, a
    one-key dict of the path's hot key (no decode per request); from a plain list, the payload."""
    if isinstance(payloads, PayloadColumn) and path and isinstance(path[0], str):
        key = path[0]
        values = payloads.hot_values(key)
        return [{} if values[slot] is _MISSING else {key: values[slot]} for slot in slots]
    return payload_dicts(payloads, slots)


def payload_dicts(payloads: Any, slots: list[int]) -> list[Any]:
    """Payloads of ``slots`` from a PayloadColumn (one bulk decode) or a plain list."""
    if isinstance(payloads, PayloadColumn):
        return payloads.payloads_of(slots)
    return [payloads[slot] for slot in slots]


def extracted_values(
    payloads: Any, path: Path, flat: bool, extract: Callable[[Any], list[Any]], slots: list[int]
) -> list[list[Any]]:
    """``extract(payloads[slot])`` for each slot; from hot keys when ``payloads`` is a column."""
    if isinstance(payloads, PayloadColumn) and path and isinstance(path[0], str):
        return payloads.extracted(path, flat, slots)
    if isinstance(payloads, PayloadColumn):
        return [extract(payload) for payload in payloads.payloads_of(slots)]
    return [extract(payloads[slot]) for slot in slots]
