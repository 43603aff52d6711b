"""One collection: validates write requests into operations, applies them, and answers reads.

Every write goes through two steps. ``prepare_*`` validates the whole request against the current
state (ids, vectors, names, paths, filters, and the existence of every named point) and returns a
resolved operation; nothing has changed yet. ``apply`` then performs it and cannot fail on input.
The database logs the operation between the two, so a rejected request leaves no trace anywhere.
"""

from __future__ import annotations

import heapq
from typing import Any, Iterable

import numpy as np

from ..errors import InvalidInput, InvalidVector, PointNotFound
from ..ids import PointId, normalize_id, normalize_ids
from . import operations as ops
from .config import CollectionConfig
from .filters import CompiledFilter, compile_filter, filter_mask
from .index import IndexedTarget, PayloadIndexes
from .maskcache import MaskCache
from .paths import make_extractor, parse_path
from .payload import delete_payload, encode_payloads, normalize_payload, set_payload, validate_key
from .payload_column import extracted_values, key_payloads
from .payload_values import facet_values, order_values, to_order_value
from .points_input import (
    PreparedVectors,
    batch_columns,
    prepare_columns,
    read_batch,
    read_points,
    split_point_vectors,
)
from .projection import PayloadSelector, compile_payload_selector, select_payload
from .selectors import Selector, parse_selector
from .store import PointStore, make_vector_store
from .vectors import DenseVectors, MultiVectors


class Collection:
    """Points of one collection and the operations on them. Callers hold the database lock."""

    def __init__(self, name: str, config: CollectionConfig) -> None:
        self.name = name
        self.config = config
        self.payload_schema: dict[str, Any] = {}
        self.payload_indexes = PayloadIndexes()  # follows payload_schema; see engine/index.py
        vectors = {
            vector_name: make_vector_store(spec.kind, dim=spec.size, distance=spec.distance, modifier=spec.modifier)
            for vector_name, spec in config.vectors.items()
        }
        self.store = PointStore(vectors)
        self.mask_cache = MaskCache()
        # HNSW indexes by dense vector name, kept by the database's AnnService (engine/ann) when
        # the ann extra is installed; empty otherwise.
        self.vector_indexes: dict[str, Any] = {}

    def reconfigure(self, config: CollectionConfig) -> None:
        """Adopt an updated configuration (metadata, sparse modifiers, echoed settings)."""
        for vector_name, spec in config.vectors.items():
            existing = self.store.vectors.get(vector_name)
            if existing is None:
                self.store.add_vector_store(
                    vector_name,
                    make_vector_store(spec.kind, dim=spec.size, distance=spec.distance, modifier=spec.modifier),
                )
            elif spec.kind == "sparse":
                existing.modifier = spec.modifier  # type: ignore[union-attr]
        for vector_name in [n for n in self.store.vectors if n not in config.vectors]:
            del self.store.vectors[vector_name]
        self.config = config

    def set_payload_index(self, field_name: str, schema: Any) -> None:
        if schema is None:
            self.payload_schema.pop(field_name, None)
        else:
            self.payload_schema[field_name] = schema
        self.payload_indexes.set_fields(list(self.payload_schema))

    def state_operations(self, max_points: int, max_bytes: int) -> Iterable[ops.Upsert]:
        """The live points as upserts, in slot order (for snapshots), each at most ``max_points`` points and,
        packed, about ``max_bytes`` at most (a single point larger than that gets an upsert of its own).

        Vector bytes are known per point; the payloads of a chunk are measured by packing them once, and a
        chunk over the budget is halved until it fits, so any dimension and payload size compacts.
        """
        store = self.store
        live = np.flatnonzero(store.live_mask)
        per_point = 16 + sum(v.dim * 4 for v in store.vectors.values() if isinstance(v, DenseVectors))
        step = max(1, min(max_points, max_bytes // per_point))
        for start in range(0, len(live), step):
            yield from self._state_chunks(live[start : start + step], per_point, max_bytes)

    def _state_chunks(self, slots: np.ndarray, per_point: int, max_bytes: int) -> Iterable[ops.Upsert]:
        store = self.store
        payload_bytes = sum(len(blob or b"") for blob in store.payloads.blobs_of(slots.tolist()))
        size = per_point * len(slots) + payload_bytes + self._ragged_bytes(slots)
        if size > max_bytes and len(slots) > 1:
            half = len(slots) // 2
            yield from self._state_chunks(slots[:half], per_point, max_bytes)
            yield from self._state_chunks(slots[half:], per_point, max_bytes)
            return
        payloads = store.payloads.payloads_of(slots.tolist())
        dense, multi, sparse = {}, {}, {}
        for name, vectors in store.vectors.items():
            positions = np.flatnonzero(vectors.present[slots])
            if isinstance(vectors, DenseVectors):
                dense[name] = (positions, vectors.matrix[slots[positions]])
            elif isinstance(vectors, MultiVectors):
                multi[name] = [(int(p), vectors.rows[int(slots[p])]) for p in positions]
            else:
                sparse[name] = [(int(p), vectors.raw(int(slots[p]))) for p in positions]
        yield ops.Upsert(
            store.ids_of(slots),
            payloads,
            PreparedVectors(dense, multi, sparse),  # type: ignore[arg-type]
        )

    def _ragged_bytes(self, slots: np.ndarray) -> int:
        """Bytes of the multivectors and sparse vectors of ``slots`` (dense ones are counted per point)."""
        total = 0
        for vectors in self.store.vectors.values():
            if isinstance(vectors, DenseVectors):
                continue
            for slot in slots[vectors.present[slots]].tolist():
                raw = vectors.raw(slot)
                total += 16 + (sum(part.nbytes for part in raw) if isinstance(raw, tuple) else raw.nbytes)  # type: ignore[union-attr]
        return total

    def estimated_bytes(self, sample_size: int = 32) -> int:
        """About how many bytes a snapshot of this collection takes (for the compaction policy).

        Dense vectors are counted exactly; payloads, sparse vectors and multivectors from a fixed
        sample of live points, so the estimate costs the same on every write whatever the size.
        """
        store = self.store
        count = len(store)
        if count == 0:
            return 0
        total = sum(count * v.dim * 4 for v in store.vectors.values() if isinstance(v, DenseVectors))
        # Slots spread over the whole range, the live ones kept: O(sample), not a scan of the live mask.
        spread = _spread(store.n_slots, sample_size)
        sample = spread[store.live_mask[spread]].tolist()
        if not sample:  # mostly deleted slots: look for the live ones
            live = np.flatnonzero(store.live_mask)
            sample = live[_spread(len(live), sample_size)].tolist()
        sampled = 0
        for slot in sample:
            sampled += 16 + len(store.payloads.blob(slot) or b"")
            for vectors in store.vectors.values():
                if isinstance(vectors, DenseVectors) or not vectors.present[slot]:
                    continue
                raw = vectors.raw(slot)
                sampled += sum(part.nbytes for part in raw) if isinstance(raw, tuple) else raw.nbytes  # type: ignore[union-attr]
        return total + sampled * count // len(sample)

    # -- reading helpers -------------------------------------------------------------------------

    def mask(self, compiled: CompiledFilter | None) -> np.ndarray:
        """Live slots matching the filter (all live slots for None); a fresh array, from the mask
        cache when the same filter was evaluated since the last change."""
        store = self.store
        if compiled is None:
            return store.live_mask.copy()
        return self.mask_cache.mask(
            self._mask_state(),
            compiled.key,
            lambda: filter_mask(compiled, self.filter_target(), store.live_mask.copy()),
        )

    def selection(
        self, compiled: CompiledFilter | None, vector_name: str | None, max_rows: int
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Live slots matching the filter and holding ``vector_name`` (when given): a mask, and their
        sorted positions when there are at most ``max_rows`` of them (else None). Both are read-only
        and come from the mask cache when the same selection was asked for since the last change, so
        a repeated filtered search neither walks nor copies the mask again."""
        store = self.store
        filter_key = None if compiled is None else compiled.key
        cacheable = compiled is None or filter_key is not None

        def compute() -> tuple[np.ndarray, np.ndarray | None]:
            mask = self.mask(compiled)
            if vector_name is not None:
                present = store.vector_mask(vector_name)
                mask &= present if present is not None else False
            rows = np.flatnonzero(mask) if int(np.count_nonzero(mask)) <= max_rows else None
            mask.setflags(write=False)
            if rows is not None:
                rows.setflags(write=False)
            return mask, rows

        key = ("selection", filter_key, vector_name, max_rows) if cacheable else None
        return self.mask_cache.shared(self._mask_state(), key, compute)

    def _mask_state(self) -> Any:
        """The state a mask depends on: every change bumps the version; the vector stores matter to
        has_vector conditions (a vector name may be dropped and created again)."""
        store = self.store
        return (store.version, store.n_slots, tuple((name, id(v)) for name, v in store.vectors.items()))

    def filter_target(self) -> Any:
        """What filters run against: the store, seen through its payload indexes when it has any."""
        return IndexedTarget(self.store, self.payload_indexes) if self.payload_indexes else self.store

    def resolve(self, selector: Selector, *, require_existing: bool) -> list[PointId]:
        """Canonical ids a selector names; with ``require_existing`` a missing id is an error."""
        if selector.point_ids is not None:
            if require_existing:
                absent = np.flatnonzero(self.store.lookup(selector.point_ids) < 0)
                if len(absent):
                    # Deviation: local mode applies the other points first, then raises KeyError;
                    # the whole request is rejected here, before anything changes.
                    raise PointNotFound(selector.point_ids[int(absent[0])])
            return list(dict.fromkeys(selector.point_ids))
        return self.store.ids_of(np.flatnonzero(self.mask(selector.filter)))

    # -- prepare: validation into resolved operations --------------------------------------------

    def prepare_upsert(self, points: Any, update_filter: Any = None, update_mode: Any = None) -> ops.Upsert:
        compiled = compile_filter(update_filter)
        stores = self.store.vectors
        if _is_batch(points):
            raw_ids, raw_vectors, raw_payloads = read_batch(points)
            count = len(raw_ids)
            if raw_payloads is not None and len(raw_payloads) != count:
                raise InvalidInput(f"number of ids and payloads must be equal ({count} != {len(raw_payloads)})")
            payload_list = list(raw_payloads) if raw_payloads is not None else [None] * count
            columns = batch_columns(raw_vectors, count, stores)
        else:
            raw_ids, vector_structs, payload_list = read_points(points)
            columns = split_point_vectors(vector_structs, stores, self.config.unnamed)
        if len(raw_ids) == 0:
            raise InvalidInput("Empty update request")
        point_ids = normalize_ids(raw_ids)
        payloads, blobs = encode_payloads(payload_list)
        vectors = prepare_columns(columns, stores)
        found = self.store.lookup(point_ids)
        keep = self._upsert_keep_mask(point_ids, found, compiled, update_mode)
        if not keep.all():
            vectors = vectors.select(keep)
            point_ids = [p for p, k in zip(point_ids, keep) if k]
            payloads = [p for p, k in zip(payloads, keep) if k]
            blobs = None if blobs is None else [b for b, k in zip(blobs, keep) if k]
            found = found[keep]
        return ops.Upsert(point_ids, payloads, vectors, blobs, (id(self.store), self.store.version, found))

    def _upsert_keep_mask(
        self, point_ids: list[PointId], found: np.ndarray, compiled: CompiledFilter | None, update_mode: Any
    ) -> np.ndarray:
        """Which points of an upsert are written, after update_mode and update_filter (``found``:
        the points' slots, -1 for new ones)."""
        mode = update_mode or "upsert"  # our UpdateMode and qdrant_client's are str enums
        exists = found >= 0
        keep = np.ones(len(point_ids), dtype=bool)
        if mode == "insert_only":
            keep &= ~exists
        elif mode == "update_only":
            keep &= exists
        if compiled is not None and exists.any():
            matching = self.mask(compiled)
            checked = exists & keep
            keep[checked] = matching[found[checked]]
        # Within one request the last occurrence of an id wins, as sequential application would.
        if len(set(point_ids)) == len(point_ids):
            return keep
        seen: set[PointId] = set()
        for position in range(len(point_ids) - 1, -1, -1):
            if point_ids[position] in seen:
                keep[position] = False
            seen.add(point_ids[position])
        return keep

    def prepare_update_vectors(self, points: Any, update_filter: Any = None) -> ops.UpdateVectors:
        compiled = compile_filter(update_filter)
        points = list(points)
        if len(points) == 0:
            raise InvalidInput("must specify points to update")
        raw_ids, vector_structs, _ = read_points(points)
        point_ids = normalize_ids(raw_ids)
        columns = split_point_vectors(vector_structs, self.store.vectors, self.config.unnamed)
        vectors = prepare_columns(columns, self.store.vectors)
        found = self.store.lookup(point_ids)
        if (found < 0).any():
            raise PointNotFound(point_ids[int(np.argmax(found < 0))])  # Deviation: see resolve()
        keep = np.ones(len(point_ids), dtype=bool)
        if compiled is not None:
            keep &= self.mask(compiled)[found]
        if not keep.all():
            vectors = vectors.select(keep)
            point_ids = [p for p, k in zip(point_ids, keep) if k]
        return ops.UpdateVectors(point_ids, vectors)

    def prepare_delete(self, selector: Any) -> ops.Delete:
        return ops.Delete(self.resolve(parse_selector(selector), require_existing=False))

    def prepare_set_payload(self, payload: Any, selector: Any, key: str | None = None) -> ops.SetPayload:
        parsed = parse_selector(selector)
        if key is not None:
            validate_key(key)
        normalized = normalize_payload(payload)
        return ops.SetPayload(self.resolve(parsed, require_existing=True), normalized, key)

    def prepare_overwrite_payload(self, payload: Any, selector: Any) -> ops.OverwritePayload:
        parsed = parse_selector(selector)
        normalized = normalize_payload(payload)
        return ops.OverwritePayload(self.resolve(parsed, require_existing=True), normalized)

    def prepare_delete_payload(self, keys: Any, selector: Any) -> ops.DeletePayload:
        parsed = parse_selector(selector)
        keys = [str(k) for k in keys]
        for key in keys:
            validate_key(key)
        return ops.DeletePayload(self.resolve(parsed, require_existing=True), keys)

    def prepare_clear_payload(self, selector: Any) -> ops.ClearPayload:
        return ops.ClearPayload(self.resolve(parse_selector(selector), require_existing=True))

    def prepare_delete_vectors(self, vector_names: Any, selector: Any) -> ops.DeleteVectors:
        vector_names = list(vector_names)
        if len(vector_names) == 0:
            raise InvalidInput("must specify vector names to delete")
        parsed = parse_selector(selector)
        for vector_name in vector_names:
            if vector_name not in self.store.vectors:
                raise InvalidVector(f"Wrong input: Not existing vector name error: {vector_name}")
        return ops.DeleteVectors(self.resolve(parsed, require_existing=True), vector_names)

    # -- apply -----------------------------------------------------------------------------------

    def apply(self, op: ops.PointOperation) -> None:
        """Perform a prepared (or replayed) operation. Never fails on valid input."""
        if not self.payload_indexes:
            self._perform(op)
            self.store.touch()
            return
        # Payload indexes follow the write: the slots it touches (before and after, so deletes and
        # new points both count) become dirty instead of forcing a rebuild.
        store = self.store
        point_ids = [] if isinstance(op, (ops.Batch, ops.UpdateVectors, ops.DeleteVectors)) else op.point_ids
        touched = store.slots_for(point_ids)
        version_before = store.version
        self._perform(op)
        if isinstance(op, ops.Batch):
            version_before = store.version  # its inner operations reported themselves
        store.touch()
        if isinstance(op, ops.Delete):
            self.payload_indexes.note_write(store, version_before, [], removed=touched)
        else:
            self.payload_indexes.note_write(store, version_before, touched + store.slots_for(point_ids))

    def _perform(self, op: ops.PointOperation) -> None:
        match op:
            case ops.Upsert():
                self._apply_upsert(op)
            case ops.UpdateVectors():
                self._apply_update_vectors(op)
            case ops.Delete():
                self.store.remove(self.store.slots_for(op.point_ids))
            case ops.SetPayload():
                self._apply_set_payload(op)
            case ops.OverwritePayload():
                self._apply_overwrite_payload(op)
            case ops.DeletePayload():
                self._apply_delete_payload(op)
            case ops.ClearPayload():
                self._apply_clear_payload(op)
            case ops.DeleteVectors():
                self._apply_delete_vectors(op)
            case ops.Batch():
                for inner in op.operations:
                    self.apply(inner)
            case _:
                raise TypeError(f"not a point operation: {op!r}")

    def _apply_upsert(self, op: ops.Upsert) -> None:
        store = self.store
        known = op.known_slots
        # The slots validation looked up, unless something was written since (then look again).
        if known is not None and known[:2] == (id(store), store.version):
            slots = known[2].copy()
        else:
            slots = store.lookup(op.point_ids)
        replaced = slots[slots >= 0]
        new_positions = np.flatnonzero(slots < 0)
        if len(new_positions):
            point_ids = op.point_ids
            slots[new_positions] = store.allocate([point_ids[i] for i in new_positions.tolist()])
        if op.blobs is not None:
            store.payloads.set_encoded(slots.tolist(), op.payloads, op.blobs)
        else:
            store.payloads.set_many(slots.tolist(), op.payloads)
        # An upsert replaces the whole point: vectors it does not carry are removed.
        if len(replaced):
            for vectors in store.vectors.values():
                vectors.erase(replaced)
        self._write_vectors(slots, op.vectors)

    def _write_vectors(self, slots: np.ndarray, vectors: PreparedVectors) -> None:
        stores = self.store.vectors
        for vector_name, (positions, rows) in vectors.dense.items():
            stores[vector_name].write(slots[positions], rows)  # type: ignore[union-attr]
        for vector_name, matrices in vectors.multi.items():
            for position, matrix in matrices:
                stores[vector_name].write_one(int(slots[position]), matrix)  # type: ignore[union-attr,arg-type]
        for vector_name, sparse_vectors in vectors.sparse.items():
            for position, prepared in sparse_vectors:
                stores[vector_name].write_one(int(slots[position]), prepared)  # type: ignore[union-attr,arg-type]

    def _apply_update_vectors(self, op: ops.UpdateVectors) -> None:
        self._write_vectors(self.store.lookup(op.point_ids), op.vectors)

    def _apply_set_payload(self, op: ops.SetPayload) -> None:
        slots = self.store.slots_for(op.point_ids)
        payloads = self.store.payloads.payloads_of(slots)  # decoded: each point's own copy
        for payload in payloads:
            set_payload(payload, op.payload, op.key)  # copies the values in
        self.store.payloads.set_many(slots, payloads)

    def _apply_overwrite_payload(self, op: ops.OverwritePayload) -> None:
        slots = self.store.slots_for(op.point_ids)
        self.store.payloads.set_many(slots, [op.payload] * len(slots))  # stored encoded: nothing aliases

    def _apply_delete_payload(self, op: ops.DeletePayload) -> None:
        slots = self.store.slots_for(op.point_ids)
        payloads = self.store.payloads.payloads_of(slots)
        for payload in payloads:
            delete_payload(payload, op.keys)
        self.store.payloads.set_many(slots, payloads)

    def _apply_clear_payload(self, op: ops.ClearPayload) -> None:
        slots = self.store.slots_for(op.point_ids)
        self.store.payloads.set_many(slots, [{}] * len(slots))

    def _apply_delete_vectors(self, op: ops.DeleteVectors) -> None:
        slots = self.store.slots_for(op.point_ids)
        for vector_name in op.vector_names:
            self.store.vectors[vector_name].erase(slots)

    # -- reads -----------------------------------------------------------------------------------

    def record_page(
        self, slots: list[int], payload_selector: PayloadSelector, with_vectors: Any
    ) -> list[tuple[Any, Any]]:
        """(payload, vector) of each slot as Record / ScoredPoint carry them, as the caller's own copies;
        the payloads decoded with one call."""
        mode = payload_selector.mode
        if mode == "none":
            payloads: list[Any] = [None] * len(slots)
        elif mode == "all":
            payloads = [payload or {} for payload in self.store.payloads.payloads_of(slots)]
        else:
            payloads = [select_payload(payload, payload_selector) for payload in self.store.payloads.payloads_of(slots)]
        if with_vectors is False or with_vectors is None:
            return [(payload, None) for payload in payloads]
        return [(payload, self.read_vectors(slot, with_vectors)) for payload, slot in zip(payloads, slots)]

    @staticmethod
    def check_with_vectors(with_vectors: Any) -> None:
        if isinstance(with_vectors, str):
            raise InvalidInput(f"with_vectors must be a bool or a list of vector names, got a str: {with_vectors!r}")

    def read_vectors(self, slot: int, with_vectors: Any) -> Any:
        """The vectors of a slot as qdrant-client returns them (a bare list for a lone unnamed vector)."""
        if with_vectors is False or with_vectors is None:
            return None
        stores = self.store.vectors
        if with_vectors is True:
            # qdrant-client lists dense, then sparse, then multivectors.
            kinds = {"dense": 0, "sparse": 1, "multi": 2}
            names = sorted(stores, key=lambda name: kinds[stores[name].kind])
        else:
            names = [name for name in dict.fromkeys(with_vectors) if name in stores]
        result = {name: stores[name].read(slot) for name in names if stores[name].present[slot]}
        if len(result) == 1 and "" in result:
            return result[""]
        return result

    def retrieve(self, ids: Iterable[Any], with_payload: Any, with_vectors: Any) -> list[tuple[PointId, Any, Any]]:
        selector = compile_payload_selector(with_payload)
        self.check_with_vectors(with_vectors)
        # Deviation: local mode skips a malformed id (-1, "not-a-uuid") silently; the server rejects the
        # request, as has_id and scroll offsets here do.
        point_ids = normalize_ids(list(ids))
        found = [
            (point_id, slot) for point_id, slot in zip(point_ids, self.store.lookup(point_ids).tolist()) if slot >= 0
        ]
        parts = self.record_page([slot for _, slot in found], selector, with_vectors)
        return [(point_id, payload, vector) for (point_id, _), (payload, vector) in zip(found, parts)]

    def scroll_by_id(
        self, compiled: CompiledFilter | None, limit: int, offset: Any, with_payload: Any, with_vectors: Any
    ) -> tuple[list[tuple[PointId, Any, Any]], PointId | None]:
        selector = compile_payload_selector(with_payload)
        self.check_with_vectors(with_vectors)
        store = self.store
        order = store.ordered_slots()
        # Deviation: local mode compares a malformed offset as a raw string; the server rejects it.
        start = 0 if offset is None else store.order_position(normalize_id(offset))
        chosen: list[int] = []
        # The order may still list deleted slots, which neither mask lets through.
        mask = store.live if compiled is None else self.mask(compiled)
        position, chunk = start, max(2 * (limit + 1), 256)
        while position < len(order) and len(chosen) < limit + 1:
            window = order[position : position + chunk]
            chosen.extend(window[mask[window]].tolist())
            position += chunk
            chunk *= 2
        chosen = chosen[: limit + 1]
        chosen_ids = store.ids_of(chosen)
        next_offset = chosen_ids[limit] if len(chosen) > limit else None
        parts = self.record_page(chosen[:limit], selector, with_vectors)
        page = [(point_id, payload, vector) for point_id, (payload, vector) in zip(chosen_ids, parts)]
        return page, next_offset

    def scroll_by_value(
        self, compiled: CompiledFilter | None, limit: int, order_by: Any, with_payload: Any, with_vectors: Any
    ) -> list[tuple[PointId, Any, Any, float]]:
        selector = compile_payload_selector(with_payload)
        self.check_with_vectors(with_vectors)
        if isinstance(order_by, str):
            key, direction, start_from = order_by, "asc", None
        else:
            # our OrderBy (models.convert.to_order_by)
            key, direction, start_from = order_by.key, order_by.direction, order_by.start_from
        validate_key(key)
        start_value = _to_order_value(start_from)
        descending = direction == "desc"
        mask = self.mask(compiled)
        chosen = self._order_from_index(key, mask, limit, start_value, descending)
        if chosen is None:
            chosen = self._order_by_scan(key, np.flatnonzero(mask).tolist(), limit, start_value, descending)
        point_ids = self.store.ids_of([slot for slot, _ in chosen])
        parts = self.record_page([slot for slot, _ in chosen], selector, with_vectors)
        return [
            (point_id, payload, vector, value)
            for point_id, (payload, vector), (_, value) in zip(point_ids, parts, chosen)
        ]

    def _order_by_scan(
        self, key: str, slots: list[int], limit: int, start_value: Any, descending: bool
    ) -> list[tuple[int, Any]]:
        """The first ``limit`` (slot, order value) entries among ``slots`` (ascending), read from the
        payloads: a point is listed once per distinct order value."""
        path = parse_path(key)
        payloads = self.store.payloads
        values: list[Any] = []  # one entry per (point, distinct order value)
        entry_slots: list[int] = []
        # Slot order is insertion order, which is how qdrant-client breaks ties (a stable sort).
        extracted = extracted_values(payloads, path, True, make_extractor(path), slots)
        for slot, raw in zip(slots, extracted):
            if not raw:
                continue
            if len(raw) == 1 and type(raw[0]) in (int, float):  # the common case: one plain number
                point_values: Any = raw
            else:
                point_values = order_values(payloads[slot], path)  # distinct values, datetimes parsed
            for value in point_values:
                if start_value is not None and (value > start_value if descending else value < start_value):
                    continue
                values.append(value)
                entry_slots.append(slot)
        # nsmallest / nlargest are documented as equal to sorted(...)[:limit], so ties stay stable.
        pick = heapq.nlargest if descending else heapq.nsmallest
        return [(entry_slots[i], values[i]) for i in pick(limit, range(len(values)), key=values.__getitem__)]

    def _order_from_index(
        self, key: str, mask: np.ndarray, limit: int, start_value: Any, descending: bool
    ) -> list[tuple[int, Any]] | None:
        """What :meth:`_order_by_scan` returns, from the field's payload index when it has a usable
        order column (slots written since the index was built are read from their payloads); None
        to scan instead."""
        if not self.payload_indexes or (type(start_value) is int and abs(start_value) > 2**53):
            return None
        try:
            path = parse_path(key)
        except ValueError:
            return None
        index = self.payload_indexes.index_for(path, self.store)
        column = index.order_column() if index is not None else None
        if column is None:
            return None
        dirty = index.dirty_slots  # type: ignore[union-attr]
        dirty = dirty[dirty < len(mask)]
        rescan = dirty[mask[dirty]].tolist()
        allowed = mask
        allowed[dirty] = False
        chosen = column.top(allowed, limit, start_value, descending)
        if not rescan:
            return chosen
        merged = chosen + self._order_by_scan(key, rescan, limit, start_value, descending)
        if descending:
            merged.sort(key=lambda entry: entry[0])  # stable: slot ascending within equal values
            merged.sort(key=lambda entry: entry[1], reverse=True)
        else:
            merged.sort(key=lambda entry: (entry[1], entry[0]))
        return merged[:limit]

    def count(self, compiled: CompiledFilter | None) -> int:
        if compiled is None:
            return len(self.store)
        return int(np.count_nonzero(self.mask(compiled)))

    def facet(self, key: str, compiled: CompiledFilter | None, limit: int) -> list[tuple[Any, int]]:
        if limit is None or limit < 1:
            raise InvalidInput(f"limit value {limit} is invalid. Must be 1 or larger.")
        validate_key(key)
        counts: dict[tuple[int, Any], int] = {}
        path = parse_path(key)
        for payload in key_payloads(self.store.payloads, path, np.flatnonzero(self.mask(compiled)).tolist()):
            for value in facet_values(payload, path):
                tagged = (_TYPE_TAG[type(value)], value)
                counts[tagged] = counts.get(tagged, 0) + 1
        ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
        return [(value, hits) for (_, value), hits in ranked[:limit]]


_TYPE_TAG = {bool: 0, int: 1, str: 2}


def _is_batch(points: Any) -> bool:
    if isinstance(points, dict):
        return "ids" in points
    return not isinstance(points, (list, tuple)) and hasattr(points, "ids") and hasattr(points, "vectors")


def _to_order_value(value: Any) -> Any:
    """A ``start_from`` bound as an order value (numbers as they are, datetimes as microseconds)."""
    if value is None:
        return None
    converted = to_order_value(value)
    if converted is None:  # bools, unparseable strings and other types bound nothing: say so
        raise InvalidInput(f"start_from {value!r} is not a number or a datetime")
    return converted


def _spread(n: int, count: int) -> np.ndarray:
    """At most ``count`` positions spread evenly over ``range(n)``, first and last included."""
    return np.linspace(0, n - 1, num=min(count, n)).astype(np.int64)
