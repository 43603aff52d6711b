"""The point part of the facade: writes (upsert, delete, payload and vector updates, batches,
uploads) and reads (retrieve, scroll, count, facet)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .. import models
from ..engine.filters import compile_filter
from ..errors import InvalidInput
from ..models.convert import to_filter, to_order_by, to_selector, to_with_payload
from .base import ClientBase, completed, records
from .operations_input import parse_update_operation


class PointsApi(ClientBase):
    """Point writes and reads."""

    def upsert(
        self,
        collection_name: str,
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Insert or replace points.

        Args:
            collection_name: Name of the collection.
            points: A list of PointStruct (or point dicts) or a Batch.
            wait: With persistence, True returns after the record is fsync'd; False after it is written.
            update_filter: Existing points are only replaced if they match this filter.
            update_mode: UPSERT (default), INSERT_ONLY or UPDATE_ONLY.

        Returns:
            UpdateResult with status COMPLETED.
        """
        return self._write(
            collection_name, lambda c: c.prepare_upsert(points, to_filter(update_filter), update_mode), wait
        )

    def delete(
        self,
        collection_name: str,
        points_selector: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Delete points by ids, PointIdsList, Filter or FilterSelector. Unknown ids are ignored."""
        return self._write(collection_name, lambda c: c.prepare_delete(to_selector(points_selector)), wait)

    def set_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: Any,
        key: str | None = None,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Merge ``payload`` into the selected points' payloads (at the json path ``key`` if given)."""
        return self._write(collection_name, lambda c: c.prepare_set_payload(payload, to_selector(points), key), wait)

    def overwrite_payload(
        self,
        collection_name: str,
        payload: dict[str, Any],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Replace the selected points' payloads with ``payload``."""
        return self._write(collection_name, lambda c: c.prepare_overwrite_payload(payload, to_selector(points)), wait)

    def delete_payload(
        self,
        collection_name: str,
        keys: Sequence[str],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Remove the given keys (json paths) from the selected points' payloads."""
        return self._write(collection_name, lambda c: c.prepare_delete_payload(keys, to_selector(points)), wait)

    def clear_payload(
        self,
        collection_name: str,
        points_selector: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Empty the selected points' payloads."""
        return self._write(collection_name, lambda c: c.prepare_clear_payload(to_selector(points_selector)), wait)

    def update_vectors(
        self,
        collection_name: str,
        points: Sequence[Any],
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Replace the given vectors of existing points (PointVectors); their other vectors stay."""
        return self._write(collection_name, lambda c: c.prepare_update_vectors(points, to_filter(update_filter)), wait)

    def delete_vectors(
        self,
        collection_name: str,
        vectors: Sequence[str],
        points: Any,
        wait: bool = True,
        ordering: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.UpdateResult:
        """Remove the named vectors from the selected points."""
        return self._write(collection_name, lambda c: c.prepare_delete_vectors(vectors, to_selector(points)), wait)

    def batch_update_points(
        self,
        collection_name: str,
        update_operations: Sequence[Any],
        wait: bool = True,
        ordering: Any = None,
        timeout: int | None = None,
    ) -> list[models.UpdateResult]:
        """Apply several operations in order, all or nothing.

        Deviation: local mode leaves the operations before a failing one applied; the whole batch
        is rejected here, as one request to the server is.
        """
        prepares = [parse_update_operation(op) for op in update_operations]
        self._database.write_batch(collection_name, prepares, wait)
        return [completed() for _ in prepares]

    def upload_points(
        self,
        collection_name: str,
        points: Iterable[Any],
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = False,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
    ) -> None:
        """Upsert any iterable of points as one request (an empty one is a no-op)."""
        points = list(points)
        if points:
            self._write(
                collection_name, lambda c: c.prepare_upsert(points, to_filter(update_filter), update_mode), True
            )

    def upload_collection(
        self,
        collection_name: str,
        vectors: Any,
        payload: Iterable[dict[Any, Any]] | None = None,
        ids: Iterable[Any] | None = None,
        batch_size: int = 64,
        parallel: int = 1,
        method: str | None = None,
        max_retries: int = 3,
        wait: bool = False,
        shard_key_selector: Any = None,
        update_filter: Any = None,
        update_mode: Any = None,
    ) -> None:
        """Upload vectors (a 2-D array, a list of vectors, or a dict of named 2-D arrays) with optional
        ids and payloads (any iterables, even endless ones). Without ids, points get uuid4 ids."""
        batch = _upload_batch(vectors, payload, ids)
        if batch is not None:
            self._write(collection_name, lambda c: c.prepare_upsert(batch, to_filter(update_filter), update_mode), True)

    # -- point reads -----------------------------------------------------------------------------

    def retrieve(
        self,
        collection_name: str,
        ids: Sequence[Any],
        with_payload: Any = True,
        with_vectors: Any = False,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> list[models.Record]:
        """Points by id, in request order; missing ids are skipped, duplicates repeated."""
        with_payload = to_with_payload(with_payload)
        found = self._read(collection_name, lambda c: c.retrieve(ids, with_payload, with_vectors))
        return records(found)

    def scroll(
        self,
        collection_name: str,
        scroll_filter: Any = None,
        limit: int = 10,
        order_by: Any = None,
        offset: Any = None,
        with_payload: Any = True,
        with_vectors: Any = False,
        consistency: Any = None,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> tuple[list[models.Record], Any]:
        """A page of points matching the filter, by id order (or by payload value with order_by).

        Returns:
            (records, next_page_offset): pass next_page_offset as ``offset`` for the next page;
            None when there are no more points (always None with order_by).
        """
        if limit is None or limit < 1:
            raise InvalidInput(f"limit value {limit} is invalid. Must be 1 or larger.")
        if order_by is not None and offset is not None:
            raise InvalidInput("Offset is not supported in conjunction with `order_by` scroll parameter")
        compiled = compile_filter(to_filter(scroll_filter))
        with_payload, order_by = to_with_payload(with_payload), to_order_by(order_by)
        if order_by is not None:
            found = self._read(
                collection_name, lambda c: c.scroll_by_value(compiled, limit, order_by, with_payload, with_vectors)
            )
            return records(found), None
        page, next_offset = self._read(
            collection_name, lambda c: c.scroll_by_id(compiled, limit, offset, with_payload, with_vectors)
        )
        return records(page), next_offset

    def count(
        self,
        collection_name: str,
        count_filter: Any = None,
        exact: bool = True,
        shard_key_selector: Any = None,
        timeout: int | None = None,
    ) -> models.CountResult:
        """Number of points matching the filter (always exact)."""
        compiled = compile_filter(to_filter(count_filter))
        return models.CountResult(count=self._read(collection_name, lambda c: c.count(compiled)))

    def facet(
        self,
        collection_name: str,
        key: str,
        facet_filter: Any = None,
        limit: int = 10,
        exact: bool = False,
        consistency: Any = None,
        timeout: int | None = None,
        shard_key_selector: Any = None,
    ) -> models.FacetResponse:
        """Counts of the distinct values of a payload key among matching points, most frequent first."""
        compiled = compile_filter(to_filter(facet_filter))
        hits = self._read(collection_name, lambda c: c.facet(key, compiled, limit))
        return models.FacetResponse(hits=[models.FacetValueHit(value=v, count=c) for v, c in hits])


def _upload_batch(vectors: Any, payload: Iterable[Any] | None, ids: Iterable[Any] | None) -> dict[str, Any] | None:
    """A Batch-shaped dict for upload_collection, or None when there is nothing to upload."""
    columns, count = _vector_columns(vectors)
    if count == 0:
        return None
    id_source = ids if ids is not None else (str(uuid.uuid4()) for _ in itertools.count())
    point_ids = list(itertools.islice(id_source, count))
    payloads = list(itertools.islice(payload, count)) if payload is not None else None
    if len(point_ids) < count:
        raise InvalidInput("ids iterable is shorter than vectors iterable")
    if payloads is not None and len(payloads) < count:
        raise InvalidInput("payload iterable is shorter than vectors iterable")
    point_ids = [str(p) if isinstance(p, uuid.UUID) else p for p in point_ids]
    return {"ids": point_ids, "vectors": columns, "payloads": payloads}


def _vector_columns(vectors: Any) -> tuple[Any, int]:
    """upload_collection's vectors as Batch columns, and how many points they hold.

    A 2-D array or a list of vectors is the unnamed column; a dict of named 2-D arrays is a column
    per name; a list of named-vector dicts becomes a column per name (None where a point lacks it).
    """
    if isinstance(vectors, np.ndarray):
        return vectors, len(vectors)
    if isinstance(vectors, dict):
        arrays = {name: values if isinstance(values, np.ndarray) else list(values) for name, values in vectors.items()}
        counts = {len(values) for values in arrays.values()}
        if len(counts) > 1:
            raise InvalidInput("Each named vector should have the same number of vectors")
        return arrays, counts.pop() if counts else 0
    listed = list(vectors)
    if listed and all(isinstance(vector, dict) for vector in listed):
        names = dict.fromkeys(name for vector in listed for name in vector)
        return {name: [vector.get(name) for vector in listed] for name in names}, len(listed)
    return listed, len(listed)
