"""Payload indexes: answer match / range conditions on indexed fields without scanning payloads.

A :class:`PayloadIndex` covers one indexed field (one parsed key path). It holds, for the live
points of a :class:`~.store.PointStore` at one ``store.version``:

* postings: for each exact, type-tagged scalar value (``(int, 5)``, ``(bool, True)`` and ``(str, "x")``
  are three different keys, as matching is strictly typed) the slots holding it; floats, which no
  match condition takes, share one key (their values kept per posting), so a field of distinct
  prices costs no dict entry per point;
* a numeric column: every int / float value (ints only while exact in float64) with its slot,
  sorted by value, so a numeric range is two binary searches.

Built on first use by the kinds that need them (so a keyword field never pays for them):

* match_except: per-slot posting counts (a slot matches when it has more posted values than posted
  members, or any non-null value outside the postings);
* datetime_range: every distinct string parsed once with the scanning path's ``parse_timestamp``
  into exact integer microseconds, sorted and bisected;
* text kinds: token -> distinct-string postings (the scanning path's tokenizer); the node's own
  ``value_test`` then runs once per candidate distinct string, so phrase semantics are unchanged;
* geo kinds: float64 lat / lon columns of the geo points, pruned by a box with slack, then verified
  with the node's own exact test.

Values come from the same extractor the scanning path uses (``make_extractor(path, flat=True)``),
so what a point "holds" cannot drift between the two paths. Whatever the index cannot answer
exactly (other kinds, bools and huge ints under a range) is either decided by the node's own
``value_test`` on the few distinct values involved, or left to the scanning path.

The index is whole-field and ignores the declared schema type: qdrant-client's local mode gives
identical results with or without an index, whatever its type, so ours must too.

Freshness: the collection reports each write it applies with the slots it touched
(:meth:`PayloadIndexes.note_write`); an index that was current just before the write stays
current, with those slots marked *dirty*. A dirty slot is dropped from the postings and re-checked
with the node's own ``matches`` at query time; when too many slots are dirty the index is rebuilt.
Any other change of ``store.version`` (a batch rollback, a write not reported) makes the index
stale, and a stale index is rebuilt only when a second query arrives at the same version (the
first one scans), so unreported writes alternating with queries never pay a rebuild per query.
"""

from __future__ import annotations

import math
import threading
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

import numpy as np

from .conditions import ConditionNode, FieldNode
from .datetimes import parse_timestamp
from .geo import MEAN_EARTH_RADIUS, is_geo_point
from .order_column import OrderColumn, build_order_column
from .paths import Path, make_extractor, parse_path
from .payload_column import payload_dicts
from .text import tokenize

__all__ = ["PayloadIndex", "PayloadIndexes", "IndexedTarget"]

# Node kinds an index answers; everything else scans.
_TEXT_KINDS = frozenset(("text", "text_any", "phrase", "prefix", "substring"))
_GEO_KINDS = frozenset(("geo_bounding_box", "geo_radius", "geo_polygon"))
_INDEXED_KINDS = (
    frozenset(("match_value", "match_any", "match_except", "range", "datetime_range")) | _TEXT_KINDS | _GEO_KINDS
)
# Kinds whose value_test is isinstance-based, so a str / int / float subclass value may pass it: the
# postings only hold exact types, and the slots holding such values are re-checked per query.
_RECHECK_SUBCLASS_KINDS = frozenset(("datetime_range",)) | _TEXT_KINDS
# Degrees of slack when pruning geo candidates with float64 columns: the exact test decides.
_GEO_SLACK = 1e-6
# Ints beyond this are not exact in float64, so range comparisons on them go through value_test.
_EXACT_INT = 2**53
_SCALAR_TYPES = (str, int, float, bool)
# Slots read per bulk decode while building, and the dtypes their per-chunk columns take.
_BUILD_CHUNK = 8192
_BUILD_COLUMNS = {
    "occurrence_ids": np.int64,
    "occurrence_slots": np.int64,
    "numeric_values": np.float64,
    "numeric_slots": np.int64,
    "valued_slots": np.int64,
    "float_values": np.float64,
}


@dataclass
class _FieldScan:
    """One pass over the live payloads of a field: every value the extractor finds, sorted into the
    lists the index structures are built from."""

    key_id: dict[tuple[type, Any], int] = dc_field(default_factory=dict)
    occurrence_ids: list[int] = dc_field(default_factory=list)  # -1: the shared float key
    occurrence_slots: list[int] = dc_field(default_factory=list)
    numeric_values: list[float] = dc_field(default_factory=list)
    numeric_slots: list[int] = dc_field(default_factory=list)
    other_slots: list[int] = dc_field(default_factory=list)
    subclass_slots: list[int] = dc_field(default_factory=list)
    valued_slots: list[int] = dc_field(default_factory=list)
    float_values: list[float] = dc_field(default_factory=list)


def _scan_field(extract: Any, payloads: Any, slots: np.ndarray) -> _FieldScan:
    """Read the field of every slot once (the scanning path's extractor, so the two cannot drift).

    Payloads are decoded a chunk at a time, and each chunk's lists become numpy parts, so a build
    never holds a Python object per value: the returned scan's lists are numpy arrays (see
    :data:`_BUILD_COLUMNS`), except the few other / subclass slots.
    """
    total = _FieldScan()
    parts: dict[str, list[np.ndarray]] = {name: [] for name in _BUILD_COLUMNS}
    for start in range(0, len(slots), _BUILD_CHUNK):
        chunk = slots[start : start + _BUILD_CHUNK].tolist()
        scan = _FieldScan(key_id=total.key_id, other_slots=total.other_slots, subclass_slots=total.subclass_slots)
        _scan_chunk(scan, extract, chunk, payload_dicts(payloads, chunk))
        for name, dtype in _BUILD_COLUMNS.items():
            parts[name].append(np.asarray(getattr(scan, name), dtype=dtype))
    for name, dtype in _BUILD_COLUMNS.items():
        setattr(total, name, np.concatenate(parts[name]) if parts[name] else np.zeros(0, dtype=dtype))
    return total


def _scan_chunk(scan: _FieldScan, extract: Any, slots: list[int], payloads: list[Any]) -> None:
    key_id = scan.key_id
    for slot, payload in zip(slots, payloads):
        values = extract(payload)
        if values:
            scan.valued_slots.append(slot)
        for value in values:
            value_type = type(value)
            if value_type not in _SCALAR_TYPES:
                # null, objects (geo points), nested arrays, subclasses of str / int / float:
                # not in the postings. Only match_except and geo can select these slots (and
                # isinstance-based tests the subclasses), so those remember them.
                if value is not None:
                    scan.other_slots.append(slot)
                    if isinstance(value, (str, int, float)):
                        scan.subclass_slots.append(slot)
                continue
            if value_type is float:
                # Floats share one posting key (no match condition takes a float operand), so
                # a float field of distinct prices costs no dict entry per point.
                scan.occurrence_ids.append(-1)
                scan.occurrence_slots.append(slot)
                scan.numeric_values.append(value)
                scan.numeric_slots.append(slot)
                scan.float_values.append(value)
                continue
            key = (value_type, value)
            ident = key_id.get(key)
            if ident is None:
                ident = key_id[key] = len(key_id)
            scan.occurrence_ids.append(ident)
            scan.occurrence_slots.append(slot)
            if value_type is int and -_EXACT_INT <= value <= _EXACT_INT:
                scan.numeric_values.append(value)
                scan.numeric_slots.append(slot)


class PayloadIndex:
    """Value -> slots postings and a sorted numeric column of one field, at one store version."""

    def __init__(self, path: Path, payloads: list[Any], live: np.ndarray, n_slots: int, version: int) -> None:
        self.path = path
        self.n_slots = n_slots
        self.version = version
        self._base_slots = n_slots  # slots the postings cover
        # Slots written since the build (sorted, unique): their postings may be wrong.
        self.dirty_slots = np.zeros(0, dtype=np.int64)
        self._extract = make_extractor(path, flat=True)
        scan = _scan_field(self._extract, payloads, np.flatnonzero(live[:n_slots]))
        self._build_postings(scan)
        self._build_numeric_column(scan)
        self._build_outsiders(scan, n_slots)
        self._init_lazy_structures()

    def _build_postings(self, scan: _FieldScan) -> None:
        """Key ids -> slots, as one array sorted by key id plus offsets."""
        key_id = self._key_id = scan.key_id
        # Key id of the float bucket (after the other keys), or None when the field holds no float.
        self._float_key = len(key_id) if len(scan.float_values) else None
        self._n_keys = len(key_id) + (1 if len(scan.float_values) else 0)
        # The bucket's values in posting order (occurrence order, as the stable sort keeps it).
        self._float_values = np.asarray(scan.float_values, dtype=np.float64)
        ids = np.asarray(scan.occurrence_ids, dtype=np.int64)
        ids[ids < 0] = len(key_id)
        slots = np.asarray(scan.occurrence_slots, dtype=np.int64)
        order = np.argsort(ids, kind="stable")
        self._posting_slots = slots[order]
        # postings of key id k are _posting_slots[_offsets[k]:_offsets[k + 1]]
        self._offsets = np.zeros(self._n_keys + 1, dtype=np.int64)
        np.cumsum(np.bincount(ids, minlength=self._n_keys), out=self._offsets[1:])

    def _build_numeric_column(self, scan: _FieldScan) -> None:
        """Every exact int / float value with its slot, sorted by value (NaN last)."""
        numbers = np.asarray(scan.numeric_values, dtype=np.float64)
        value_order = np.argsort(numbers, kind="stable")  # NaN sorts last
        self._numeric_values = numbers[value_order]
        self._numeric_slots = np.asarray(scan.numeric_slots, dtype=np.int64)[value_order]
        self._numeric_not_nan = int(np.count_nonzero(~np.isnan(numbers)))
        # Keys a numeric range cannot take from the column: bools and huge ints (few, in practice).
        self._inexact_keys = [
            key for key in scan.key_id if key[0] is bool or (key[0] is int and not -_EXACT_INT <= key[1] <= _EXACT_INT)
        ]

    def _build_outsiders(self, scan: _FieldScan, n_slots: int) -> None:
        """Slots holding a non-null value outside the postings, those holding a str / int / float
        subclass value (sorted, unique), and where the field selects any value (null included, for
        get_collection)."""
        self._other_slots = np.unique(np.asarray(scan.other_slots, dtype=np.int64))
        self._subclass_slots = np.unique(np.asarray(scan.subclass_slots, dtype=np.int64))
        self._valued = np.zeros(n_slots, dtype=bool)
        self._valued[scan.valued_slots] = True

    def _init_lazy_structures(self) -> None:
        """Structures built on first use by the query kinds that need them (see _ensure_* below)."""
        self._scalar_counts: np.ndarray | None = None
        self._posting_keys: np.ndarray | None = None
        self._str_keys: list[tuple[int, str]] | None = None
        self._str_by_id: dict[int, str] | None = None
        self._token_keys: dict[str, np.ndarray] | None = None
        self._datetime_column: tuple[list[int], np.ndarray] | None = None
        self._geo_column: tuple[np.ndarray, np.ndarray, np.ndarray, list[Any], np.ndarray] | None = None
        self._order_column: OrderColumn | None | bool = False  # False: not built yet

    def slots_of(self, key: tuple[type, Any]) -> np.ndarray:
        """Slots holding the exact typed value ``key`` (a slot may repeat)."""
        if key[0] is float:  # not asked by any condition today (match operands are bool / int / str)
            if self._float_key is None:
                return self._posting_slots[:0]
            bucket = self._posting_slots[self._offsets[self._float_key] : self._offsets[self._float_key + 1]]
            return bucket[self._float_values == key[1]]
        ident = self._key_id.get(key)
        if ident is None:
            return self._posting_slots[:0]
        return self._posting_slots[self._offsets[ident] : self._offsets[ident + 1]]

    def order_column(self) -> OrderColumn | None:
        """The field's order values sorted for scroll(order_by=...), or None when they cannot be
        ordered exactly from a column (see engine/order_column.py). Dirty slots are not excluded."""
        if self._order_column is False:
            self._order_column = build_order_column(
                self._key_id,
                self._posting_slots,
                self._offsets,
                self._float_key,
                self._float_values,
                len(self._other_slots) > 0,
            )
        return self._order_column  # type: ignore[return-value]

    @property
    def n_dirty(self) -> int:
        """How many slots are re-checked per query instead of read from the postings."""
        return len(self.dirty_slots)

    def note_write(self, slots: list[int], version: int, n_slots: int, removed: list[int] = ()) -> None:  # type: ignore[assignment]
        """Slots a write touched (added or changed) or ``removed``, now at ``version`` with ``n_slots``.

        Removed slots are not re-checked: every answer is cut to its live candidates anyway, so
        only the per-field point count needs to forget them.
        """
        if slots:
            self.dirty_slots = np.union1d(self.dirty_slots, np.asarray(slots, dtype=np.int64))
        if len(removed):
            gone = np.asarray(removed, dtype=np.int64)
            self._valued[gone[gone < len(self._valued)]] = False
        self.n_slots = n_slots
        self.version = version

    def answer(self, node: FieldNode, candidates: np.ndarray, payloads: list[Any] | None = None) -> np.ndarray | None:
        """The candidate slots matching ``node``, or None when this index cannot answer it.

        ``payloads`` (the store's, by slot) is needed when some slots are dirty, when the field
        holds str / int / float subclass values (datetime and text kinds) and for geo kinds.
        """
        kind = node.kind
        recheck = self.dirty_slots
        if kind == "match_value":
            value = node.params["value"]
            slots = self.slots_of((type(value), value))
        elif kind == "match_any":
            parts = [self.slots_of((type(value), value)) for value in node.params["any"]]
            slots = np.concatenate(parts) if parts else self._posting_slots[:0]
        elif kind == "match_except":
            slots = self._except_slots(node)
        elif kind == "range":
            slots = self._range_slots(node)
        elif kind == "datetime_range":
            slots = self._datetime_slots(node)
        elif kind in _TEXT_KINDS:
            slots = self._text_slots(node)
        elif kind in _GEO_KINDS:
            if payloads is None:
                return None
            slots = self._geo_slots(node, payloads)
        else:
            return None
        if kind in _RECHECK_SUBCLASS_KINDS and len(self._subclass_slots):
            recheck = np.union1d(recheck, self._subclass_slots)
        out = np.zeros(self.n_slots, dtype=bool)
        out[slots] = True
        out &= candidates
        if len(recheck):
            if payloads is None:
                return None
            out[recheck] = False
            extract, matches = self._extract, node.matches
            recheck = recheck[candidates[recheck]].tolist()
            hits = [slot for slot in recheck if matches(extract(payloads[slot]))]
            if hits:
                out[hits] = True
        return out

    def count_with_values(self, payloads: list[Any], live: np.ndarray) -> int:
        """Live points where the field selects at least one value (a null counts, ``[]`` not)."""
        dirty = self.dirty_slots
        count = int(np.count_nonzero(self._valued)) - int(
            np.count_nonzero(self._valued[dirty[dirty < self._base_slots]])
        )
        extract = self._extract
        return count + sum(1 for slot in dirty.tolist() if slot < len(live) and live[slot] and extract(payloads[slot]))

    # -- match_except ------------------------------------------------------------------------------

    def _except_slots(self, node: FieldNode) -> np.ndarray:
        """Slots with a non-null value outside the list: more posted values than posted members,
        or any value outside the postings (objects, nested arrays, subclasses never are members)."""
        if self._scalar_counts is None:
            self._scalar_counts = np.bincount(self._posting_slots, minlength=self._base_slots)
        # Each distinct member once, or a repeated one would count its postings twice.
        parts = [self.slots_of(key) for key in {(type(value), value) for value in node.params["except"]}]
        member_counts = np.bincount(np.concatenate(parts), minlength=self._base_slots) if parts else 0
        # Each occurrence of a value is one posting, so an array [1, 1] counts 2 on both sides.
        differs = self._scalar_counts > member_counts
        differs[self._other_slots] = True
        return np.flatnonzero(differs)

    # -- keys ----------------------------------------------------------------------------------------

    def _slots_of_key_ids(self, key_ids: np.ndarray) -> np.ndarray:
        """Slots holding any of the keys ``key_ids`` (a slot may repeat)."""
        if len(key_ids) <= 64:
            parts = [self._posting_slots[self._offsets[k] : self._offsets[k + 1]] for k in key_ids.tolist()]
            return np.concatenate(parts) if parts else self._posting_slots[:0]
        if self._posting_keys is None:
            # key id of each posting (the postings are grouped by key id)
            self._posting_keys = np.repeat(np.arange(self._n_keys, dtype=np.int64), np.diff(self._offsets))
        wanted = np.zeros(self._n_keys, dtype=bool)
        wanted[key_ids] = True
        return self._posting_slots[wanted[self._posting_keys]]

    def _ensure_str_keys(self) -> list[tuple[int, str]]:
        if self._str_keys is None:
            self._str_keys = [(ident, key[1]) for key, ident in self._key_id.items() if key[0] is str]
        return self._str_keys

    # -- datetime_range ------------------------------------------------------------------------------

    def _datetime_slots(self, node: FieldNode) -> np.ndarray:
        """Slots with a string value that parses as a datetime inside the bounds.

        Every distinct string is parsed once, by the scanning path's own ``parse_timestamp``, into
        exact integer microseconds; the bounds are compiled the same way, so comparisons agree.
        """
        if self._datetime_column is None:
            stamped = []
            for ident, text in self._ensure_str_keys():
                micros = parse_timestamp(text)
                if micros is not None:
                    stamped.append((micros, ident))
            stamped.sort()
            # Python ints, bisected: exact whatever the magnitude of a bound.
            self._datetime_column = ([m for m, _ in stamped], np.asarray([i for _, i in stamped], dtype=np.int64))
        stamps, key_ids = self._datetime_column
        bounds = node.params
        lower, upper = 0, len(stamps)
        if bounds.get("gt") is not None:
            lower = max(lower, bisect_right(stamps, bounds["gt"]))
        if bounds.get("gte") is not None:
            lower = max(lower, bisect_left(stamps, bounds["gte"]))
        if bounds.get("lt") is not None:
            upper = min(upper, bisect_left(stamps, bounds["lt"]))
        if bounds.get("lte") is not None:
            upper = min(upper, bisect_right(stamps, bounds["lte"]))
        return self._slots_of_key_ids(key_ids[lower:upper] if lower < upper else key_ids[:0])

    # -- text ----------------------------------------------------------------------------------------

    def _text_slots(self, node: FieldNode) -> np.ndarray:
        """Slots with a string value passing the node's own test, which runs once per distinct
        string: for the token kinds only on strings holding the query's tokens (token postings,
        built with the scanning path's tokenizer), for prefix / substring on every distinct string."""
        value_test = node.value_test
        kind = node.kind
        if kind in ("prefix", "substring"):
            candidates = self._ensure_str_keys()
        else:
            tokens = set(tokenize(node.params[kind]))
            if not tokens:
                return self._posting_slots[:0]  # an empty query never matches
            token_keys = self._ensure_token_keys()
            lists = [token_keys.get(token, self._posting_slots[:0]) for token in tokens]
            if kind == "text_any":
                key_ids = np.unique(np.concatenate(lists))
            else:
                lists.sort(key=len)
                key_ids = lists[0]
                for more in lists[1:]:
                    key_ids = np.intersect1d(key_ids, more, assume_unique=True)
            if kind == "text_any" or kind == "text":
                # Holding every (any) token is the whole test: no string needs re-testing.
                return self._slots_of_key_ids(key_ids)
            strings = self._ensure_str_keys_by_id()
            candidates = [(ident, strings[ident]) for ident in key_ids.tolist()]
        matched = [ident for ident, text in candidates if value_test(text)]  # type: ignore[misc]
        return self._slots_of_key_ids(np.asarray(matched, dtype=np.int64))

    def _ensure_token_keys(self) -> dict[str, np.ndarray]:
        if self._token_keys is None:
            token_lists: dict[str, list[int]] = {}
            for ident, text in self._ensure_str_keys():
                for token in set(tokenize(text)):
                    token_lists.setdefault(token, []).append(ident)
            # ascending key ids per token (str keys are visited in id order), unique
            self._token_keys = {token: np.asarray(ids, dtype=np.int64) for token, ids in token_lists.items()}
        return self._token_keys

    def _ensure_str_keys_by_id(self) -> dict[int, str]:
        if self._str_by_id is None:
            self._str_by_id = dict(self._ensure_str_keys())
        return self._str_by_id

    # -- geo -----------------------------------------------------------------------------------------

    def _geo_slots(self, node: FieldNode, payloads: list[Any]) -> np.ndarray:
        """Slots with a geo point passing the node's own test, which runs only on the points a
        float64 bounding box (with slack) cannot rule out."""
        if self._geo_column is None:
            self._geo_column = self._build_geo_column(payloads)
        lats, lons, slots, values, exact = self._geo_column
        keep = _geo_prune(node, lats, lons)
        if keep is None:
            keep = np.ones(len(slots), dtype=bool)
        points_test = getattr(node, "points_test", None)  # GeoNode's batch test, exact on float64
        if points_test is None:
            batch = keep[:0]
            one_by_one = np.flatnonzero(keep)
        else:
            batch = np.flatnonzero(keep & exact)
            one_by_one = np.flatnonzero(keep & ~exact)  # ints beyond 2**53: Python's exact test
        parts = []
        if len(batch):
            assert points_test is not None  # only a batch test fills ``batch``
            with np.errstate(all="ignore"):
                parts.append(slots[batch[points_test(lats[batch], lons[batch])]])
        value_test = node.value_test
        hits = [position for position in one_by_one.tolist() if value_test(values[position])]  # type: ignore[misc]
        parts.append(slots[np.asarray(hits, dtype=np.int64)])
        return np.concatenate(parts)

    def _build_geo_column(
        self, payloads: list[Any]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[Any], np.ndarray]:
        # Geo points are objects, so they live on the "other" slots. A slot written since the
        # build may read differently now, but it is dirty and re-checked anyway.
        extract = self._extract
        lats: list[float] = []
        lons: list[float] = []
        slots: list[int] = []
        values: list[Any] = []
        exact: list[bool] = []
        other_slots = self._other_slots.tolist()
        for slot, payload in zip(other_slots, payload_dicts(payloads, other_slots)):
            for value in extract(payload):
                if is_geo_point(value):
                    lat, lon = value["lat"], value["lon"]
                    lats.append(float(lat))
                    lons.append(float(lon))
                    slots.append(slot)
                    values.append(value)
                    # float64 holds the coordinate exactly (ints up to 2**53)
                    exact.append(
                        (type(lat) is float or abs(lat) <= _EXACT_INT)
                        and (type(lon) is float or abs(lon) <= _EXACT_INT)
                    )
        return (
            np.asarray(lats, dtype=np.float64),
            np.asarray(lons, dtype=np.float64),
            np.asarray(slots, dtype=np.int64),
            values,
            np.asarray(exact, dtype=bool),
        )

    def _range_slots(self, node: FieldNode) -> np.ndarray:
        bounds = node.params
        values = self._numeric_values
        lower, upper = 0, len(values)
        if any(bound is not None for bound in bounds.values()):
            upper = self._numeric_not_nan  # NaN fails every comparison, passes no bound
        if bounds.get("gt") is not None:
            lower = max(lower, int(np.searchsorted(values[:upper], bounds["gt"], side="right")))
        if bounds.get("gte") is not None:
            lower = max(lower, int(np.searchsorted(values[:upper], bounds["gte"], side="left")))
        if bounds.get("lt") is not None:
            upper = min(upper, int(np.searchsorted(values[:upper], bounds["lt"], side="left")))
        if bounds.get("lte") is not None:
            upper = min(upper, int(np.searchsorted(values[:upper], bounds["lte"], side="right")))
        parts = [self._numeric_slots[lower:upper] if lower < upper else self._numeric_slots[:0]]
        # The node's own test decides the values the column does not hold exactly, so whether a
        # bool counts as a number stays the scanning path's decision.
        value_test = node.value_test
        for key in self._inexact_keys:
            if value_test is not None and value_test(key[1]):
                parts.append(self.slots_of(key))
        return np.concatenate(parts)


class PayloadIndexes:
    """The indexes of one collection, built lazily per field and rebuilt when the store changed."""

    def __init__(self) -> None:
        self._paths: dict[Path, str] = {}
        self._built: dict[Path, PayloadIndex] = {}
        self._stale_seen: dict[Path, tuple[int, int]] = {}  # path -> (id(store), version) of a stale query
        self._build_lock = threading.Lock()

    def set_fields(self, field_names: list[str]) -> None:
        """Index exactly these fields (the collection's payload_schema keys); drop the others."""
        paths: dict[Path, str] = {}
        for name in field_names:
            try:
                paths[parse_path(name)] = name
            except ValueError:
                continue  # a key no filter can name cannot be asked for either
        self._paths = paths
        self._built = {path: index for path, index in self._built.items() if path in paths}
        self._stale_seen = {}

    def __bool__(self) -> bool:
        return bool(self._paths)

    def index_for(self, path: Path, store: Any) -> PayloadIndex | None:
        """A fresh index of ``path`` over ``store``, or None (not indexed, or stale and not worth it yet).

        Reads run in parallel (engine/rwlock.py): one builds an index while the others wait for it."""
        if path not in self._paths:
            return None
        with self._build_lock:
            return self._index_for(path, store)

    def _index_for(self, path: Path, store: Any) -> PayloadIndex | None:
        index = self._built.get(path)
        stamp = (id(store), store.version)
        if index is not None and getattr(index, "store_id", None) == stamp[0] and index.version == store.version:
            if index.n_dirty <= _max_dirty(store.n_slots):
                return index
            self._stale_seen[path] = stamp  # fresh but mostly re-checks: rebuild now
        if index is not None and self._stale_seen.get(path) != stamp:
            # First query since a write: scanning once is cheaper than a rebuild that the next
            # write may make stale again.
            self._stale_seen[path] = stamp
            return None
        index = PayloadIndex(path, store.payloads, store.live, store.n_slots, store.version)
        index.store_id = stamp[0]  # type: ignore[attr-defined]
        self._built[path] = index
        return index

    def answer(self, node: FieldNode, store: Any, candidates: np.ndarray) -> np.ndarray | None:
        """Answer a field condition from an index when one covers it; None to fall back to scanning."""
        if not self.covers(node):
            return None
        index = self.index_for(node.path, store)
        if index is None:
            return None
        return index.answer(node, candidates, store.payloads)

    def count_with_values(self, field_name: str, store: Any) -> int | None:
        """How many live points hold a value of the indexed field ``field_name`` (the points of
        get_collection's payload_schema), or None when no fresh index of it is at hand."""
        try:
            path = parse_path(field_name)
        except ValueError:
            return None
        index = self.index_for(path, store)
        if index is None:
            return None
        return index.count_with_values(store.payloads, store.live_mask)

    def covers(self, node: Any) -> bool:
        """Whether ``node`` is a field condition of a kind and on a field these indexes answer."""
        return isinstance(node, FieldNode) and node.kind in _INDEXED_KINDS and node.flat and node.path in self._paths

    def note_write(self, store: Any, version_before: int, slots: list[int], removed: list[int] = ()) -> None:  # type: ignore[assignment]
        """A write moved ``store`` from ``version_before`` to its current version, touching ``slots``
        and deleting the points of ``removed``.

        Indexes that were current at ``version_before`` stay current (touched slots become dirty,
        removed ones are simply dead); the others are stale already and are left to be rebuilt.
        """
        for index in self._built.values():
            if getattr(index, "store_id", None) == id(store) and index.version == version_before:
                index.note_write(slots, store.version, store.n_slots, removed)


def _geo_prune(node: FieldNode, lats: np.ndarray, lons: np.ndarray) -> np.ndarray | None:
    """A superset of the geo points that can pass ``node`` (None: no pruning possible)."""
    params = node.params
    slack = _GEO_SLACK
    if node.kind == "geo_bounding_box":
        (left, top), (right, bottom) = params["top_left"], params["bottom_right"]
        keep = (lats < top + slack) & (lats > bottom - slack)
        if left > right:  # crosses the anti-meridian: the box is two lon ranges
            return keep & ((lons > left - slack) | (lons < right + slack))
        return keep & (lons > left - slack) & (lons < right + slack)
    if node.kind == "geo_polygon":
        # local mode's polygon test is planar in (lat, lon): inside means inside the vertices' box
        ring = params["exterior"]
        ring_lats = [point[0] for point in ring]
        ring_lons = [point[1] for point in ring]
        return (
            (lats >= min(ring_lats) - slack)
            & (lats <= max(ring_lats) + slack)
            & (lons >= min(ring_lons) - slack)
            & (lons <= max(ring_lons) + slack)
        )
    center_lon, center_lat = params["center"]
    radius = params["radius"]
    if not math.isfinite(radius) or not -90.0 <= center_lat <= 90.0:
        return None
    # Haversine distance is at least the latitude difference along a meridian when both latitudes
    # are in [-90, 90]; points outside that range are kept for the exact test.
    angle = max(radius, 0.0) / MEAN_EARTH_RADIUS  # radians
    keep = np.abs(lats - center_lat) <= math.degrees(angle) + slack
    if math.degrees(angle) + abs(center_lat) < 89.0:
        # No pole in the circle: its longitudes span asin(sin(angle) / cos(center_lat)) either side
        # of the center's (the classic bounding box of a spherical cap). Haversine reads the
        # longitude difference through sin^2(dlon / 2), so it is taken modulo 360.
        spread = math.degrees(math.asin(min(1.0, math.sin(angle) / math.cos(math.radians(center_lat)))))
        dlon = np.abs(np.mod(lons - center_lon + 180.0, 360.0) - 180.0)
        keep &= dlon <= spread + slack
    return keep | (np.abs(lats) > 90.0)


def _max_dirty(n_slots: int) -> int:
    """Dirty slots an index tolerates before a rebuild is cheaper than re-checking them per query."""
    return 64 + n_slots // 32


class IndexedTarget:
    """A PointStore seen through its indexes: a FilterTarget whose field nodes may skip the scan."""

    def __init__(self, store: Any, indexes: PayloadIndexes) -> None:
        self.store = store
        self.payload_indexes = indexes
        self.n_slots = store.n_slots
        self.point_ids = store.point_ids
        self.payloads = store.payloads
        self.slot_of = store.slot_of

    def vector_mask(self, vector_name: str) -> np.ndarray | None:
        return self.store.vector_mask(vector_name)

    def order_must(self, nodes: list[ConditionNode]) -> list[ConditionNode]:
        """``must`` conditions with those an index covers moved just after the free ones (cost 0:
        constants, has_id), so scanning conditions only see the slots the indexes let through."""
        return sorted(nodes, key=lambda node: min(node.cost, 1) if self.payload_indexes.covers(node) else node.cost)

    def index_answer(self, node: FieldNode, candidates: np.ndarray) -> np.ndarray | None:
        """Seam used by FieldNode.evaluate: an index answer or None."""
        return self.payload_indexes.answer(node, self.store, candidates)
