"""The query planner: runs one query request against one collection, the way local mode does.

The structure follows qdrant-client's ``QdrantLocal.query_points`` and ``LocalCollection``:

* **resolve** - point ids in the query become the stored vectors they name (from ``lookup_from``
  when given); the ids mentioned are excluded from the results when they come from the searched
  collection. Prefetches are resolved the same way, recursively.
* **prefetch** - each prefetch's filter is merged with the filters above it and propagated down to
  the leaves; leaves query the collection, inner levels merge their sources.
* **merge** - fusion (RRF, DBSF) and formula queries combine the prefetched candidates; any other
  query re-scores the union of the candidates within the collection.
* **query_collection** - the actual ranking: nearest (with optional MMR), recommend, discover,
  context, relevance feedback, order-by, random sample or a plain scroll.

Internally results are ``Hit`` tuples ``(slot, score, order_value)``; payloads and vectors are read
only for the points returned to the caller. The caller holds the database lock throughout.
"""

from __future__ import annotations

import dataclasses
import functools
import sys
import warnings
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any, Callable, Sequence

import numpy as np

from .. import models
from ..engine.collection import Collection
from ..engine.filters import compile_filter, filter_mask
from ..engine.paths import extract_values
from ..engine.projection import compile_payload_selector
from ..engine.vectors import DenseVectors, MultiVectors, SparseVectors
from ..errors import InvalidInput
from ..ids import normalize_id, try_normalize_id
from ..models.convert import to_filter
from . import approximate, formula, fusion, recommend, sparse
from .mmr import mmr_select
from .requests import (
    FilterSpec,
    ParsedQuery,
    as_list,
    idf_corpus_of,
    parse_query,
    vector_kind,
)
from .scoring import GATHER_FRACTION, RankedSlots, threshold_cut
from .spaces import DenseSpace, MultiSpace, Space, SparseSpace
from .text import bm25_scores, document_tokens, text_query_params

__all__ = ["Planner", "PrefetchPlan", "Hit", "warn_ignored_search_params"]

Hit = tuple[int, float, Any]  # (slot, score, order_value)

_KIND_LABEL = {"dense": "Dense vector", "sparse": "Sparse vector", "multi": "Multivector"}

_warned: set[str] = set()


def warn_ignored_search_params(search_params: Any) -> None:
    """qdrant-client warns once that index parameters have no effect on an exact search."""
    if search_params is None or "search_params" in _warned:
        return
    if any(getattr(search_params, name) for name in ("hnsw_ef", "quantization", "acorn", "exact", "indexed_only")):
        _warned.add("search_params")
        warnings.warn(
            "Local mode performs exact (brute-force) search, so `search_params` has no effect, "
            "with the exception of `idf`.",
            UserWarning,
            stacklevel=_caller_stacklevel(),
        )


def _compile_condition(condition: models.Filter) -> Any:
    """A formula's condition expression (converted by ``models.convert_query``), compiled as a filter."""
    return compile_filter(condition)


def _check_at(condition: Callable[[Any, int], bool], slot: int, cond: Any) -> bool:
    """``condition(cond, slot)`` with the slot bound first (a formula point's condition test)."""
    return condition(cond, slot)


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside qdrant_local, seen from the function calling
    this one: a warning then points at the user's line, however deep inside the package it began."""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_globals.get("__name__", "").startswith("qdrant_local."):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


@dataclass
class Resolved:
    """A vector input after id resolution: its kind and its value.

    ``parsed`` values were read from storage (float64 arrays, or sparse (indices, values)) and need
    no validation; the others are user input, validated when the space that searches them is known.
    """

    kind: str  # "dense", "multi" or "sparse"
    value: Any
    parsed: bool = False


@dataclass
class PrefetchPlan:
    """A prefetch with its query resolved and the ids it mentions."""

    query: ParsedQuery | None
    using: str | None
    filter: Any
    exclude: frozenset
    params: Any
    score_threshold: float | None
    limit: int | None
    prefetch: list[PrefetchPlan] = dc_field(default_factory=list)


@dataclass
class Level:
    """One level of a request as the planner ranks it: the query, the vector (or text field) it
    uses, the filter propagated to it, the page, the score cut, the IDF corpus, the search params and,
    when merging prefetches, the candidate ids it re-scores (``include``)."""

    query: ParsedQuery | None
    using: str | None
    spec: FilterSpec
    limit: int | None
    offset: int | None
    score_threshold: float | None
    corpus: Any
    params: Any = None
    include: list[Any] | None = None


class Planner:
    """Runs query requests against one collection of a database (the caller holds its lock)."""

    def __init__(self, database: Any, collection_name: str) -> None:
        self.database = database
        self.collection_name = collection_name
        self.collection: Collection = database.collection(collection_name)
        self.store = self.collection.store

    # -- resolution ------------------------------------------------------------------------------

    def resolve(
        self, query: ParsedQuery | None, using: str | None, lookup_from: models.LookupLocation | None
    ) -> tuple[ParsedQuery | None, frozenset]:
        """Turn the point ids of a query into vectors; return it with the ids to exclude."""
        if query is None or query.kind == "feedback":
            # Relevance feedback resolves its ids when it runs (see _feedback), as local mode does.
            return query, frozenset()
        lookup_name = lookup_from.collection if lookup_from is not None else self.collection_name
        lookup = self.database.collection(lookup_name)
        vector_name = lookup_from.vector if lookup_from is not None else None
        if vector_name is None:
            vector_name = using if using is not None else ""
        mentioned: set[Any] = set()
        # Ids of another collection are not excluded: they name points of that one.
        exclude_mentioned = lookup_name == self.collection_name

        def resolve_input(value: Any) -> Resolved:
            kind = vector_kind(value)
            if kind != "id":
                return Resolved(kind, value)
            resolved = _stored_vector(lookup, vector_name, value)
            if exclude_mentioned:
                mentioned.add(normalize_id(value))
            return resolved

        if query.kind == "nearest":
            query.nearest = resolve_input(query.nearest)
        elif query.kind == "recommend":
            query.negative = [resolve_input(v) for v in query.negative]
            query.positive = [resolve_input(v) for v in query.positive]
        elif query.kind == "discover":
            query.target = resolve_input(query.target) if query.target is not None else None
            query.pairs = [(resolve_input(p), resolve_input(n)) for p, n in query.pairs]
        elif query.kind == "context":
            query.pairs = [(resolve_input(p), resolve_input(n)) for p, n in query.pairs]
        return query, frozenset(mentioned)

    def plan_prefetches(self, prefetch: Any) -> list[PrefetchPlan]:
        """Plans for a converted prefetch tree (``models.convert_query.to_prefetch``)."""
        plans = []
        for item in as_list(prefetch):
            if item is None:
                continue
            query = parse_query(item.query)
            using = item.using
            exclude: frozenset = frozenset()
            nested: list[PrefetchPlan] = []
            if query is not None:
                query, exclude = self.resolve(query, using, item.lookup_from)
                nested = self.plan_prefetches(item.prefetch)
            plans.append(
                PrefetchPlan(
                    query=query,
                    using=using,
                    filter=to_filter(item.filter),
                    exclude=exclude,
                    params=item.params,
                    score_threshold=item.score_threshold,
                    limit=item.limit,
                    prefetch=nested,
                )
            )
        return plans

    # -- the request tree ------------------------------------------------------------------------

    def run(
        self,
        query: ParsedQuery | None,
        using: str | None,
        prefetches: list[PrefetchPlan],
        spec: FilterSpec,
        limit: int,
        offset: int,
        score_threshold: float | None,
        search_params: Any,
    ) -> list[Hit]:
        corpus = idf_corpus_of(search_params)
        self._validate_text_queries(query, using, prefetches, corpus)
        level = Level(query, using, spec, limit, offset, score_threshold, corpus, search_params)
        if prefetches:
            return self.merge([self.prefetch(plan, spec) for plan in prefetches], level)
        return self.query_collection(level)

    def _validate_text_queries(
        self, query: ParsedQuery | None, using: str | None, prefetches: list[PrefetchPlan], corpus: Any
    ) -> None:
        """Reject an invalid text query anywhere in the request before running any of it."""
        if query is not None and query.kind == "text":
            text_query_params(query.model, using, self.collection.payload_schema, corpus)
        for plan in prefetches:
            self._validate_text_queries(plan.query, plan.using, plan.prefetch, idf_corpus_of(plan.params))

    def prefetch(self, plan: PrefetchPlan, propagated: FilterSpec) -> list[Hit]:
        spec = propagated.merged(plan.filter, plan.exclude)
        corpus = idf_corpus_of(plan.params)
        if plan.prefetch:
            limit = plan.limit if plan.limit is not None else 10
            level = Level(plan.query, plan.using, spec, limit, 0, plan.score_threshold, corpus, plan.params)
            return self.merge([self.prefetch(inner, spec) for inner in plan.prefetch], level)
        return self.query_collection(
            Level(plan.query, plan.using, spec, plan.limit, 0, plan.score_threshold, corpus, plan.params)
        )

    def merge(self, sources: list[list[Hit]], level: Level) -> list[Hit]:
        """Combine the prefetched candidates: fusion and formulas here, any other query re-scores them."""
        query, score_threshold = level.query, level.score_threshold
        limit, offset = level.limit or 0, level.offset or 0
        kind = query.kind if query is not None else None
        if kind in ("fusion", "rrf"):
            fused = self._fuse(sources, query, limit + offset)  # type: ignore[arg-type]
            if score_threshold is not None:  # after fusion, inclusive, as the server
                fused = [hit for hit in fused if hit[1] >= score_threshold]
            return fused[offset:]
        if kind == "formula":
            rescored = self._rescore_with_formula(sources, query, limit + offset)  # type: ignore[arg-type]
            if score_threshold is not None:
                rescored = [hit for hit in rescored if hit[1] >= score_threshold]
            return rescored[offset:]
        candidates = list(dict.fromkeys(hit[0] for source in sources for hit in source))
        if not candidates:
            return []
        ids = [self.store.point_ids[slot] for slot in candidates]
        return self.query_collection(dataclasses.replace(level, include=ids))

    def _fuse(self, sources: list[list[Hit]], query: ParsedQuery, limit: int) -> list[Hit]:
        ranked = [[(hit[0], hit[1]) for hit in source] for source in sources]
        if query.kind == "rrf":
            params = query.model.rrf
            fused = fusion.reciprocal_rank_fusion(ranked, limit, params.k, params.weights)
        else:
            method = query.model.fusion
            if method == "rrf":
                fused = fusion.reciprocal_rank_fusion(ranked, limit)
            elif method == "dbsf":
                fused = fusion.distribution_based_score_fusion(ranked, limit)
            else:
                raise InvalidInput(f"Fusion method {method} does not exist")
        return [(slot, score, None) for slot, score in fused]

    def _rescore_with_formula(self, sources: list[list[Hit]], query: ParsedQuery, limit: int) -> list[Hit]:
        expression = query.model.formula
        formula.validate_expression(expression, _compile_condition)
        defaults = formula.parse_defaults(query.model.defaults)
        scores = [{hit[0]: hit[1] for hit in source} for source in sources]
        slots = list(dict.fromkeys(hit[0] for source in sources for hit in source))
        condition = self._condition_checker(slots)
        rescored: list[Hit] = []
        for slot in slots:
            payload = self.store.payloads[slot] or {}
            point = formula.FormulaPoint(slot, payload, scores, functools.partial(_check_at, condition, slot))
            value = formula.evaluate(expression, point, defaults)
            with np.errstate(over="ignore", invalid="ignore"):
                value32 = np.float32(value)  # core scores in f32
            if not np.isfinite(value32):
                raise formula.non_finite_error(f"{value} as f32 = {value32}")
            rescored.append((slot, float(value32), None))
        rescored.sort(key=lambda hit: hit[1], reverse=True)  # stable: ties keep prefetch order
        return rescored[:limit]

    def _condition_checker(self, slots: list[int]) -> Callable[[Any, int], bool]:
        """Answer filter conditions of a formula: each distinct condition is evaluated once, as a
        mask over the points being rescored."""
        candidates = np.zeros(self.store.n_slots, dtype=bool)
        candidates[slots] = True
        masks: dict[int, tuple[Any, np.ndarray]] = {}

        def check(condition: Any, slot: int) -> bool:
            cached = masks.get(id(condition))
            if cached is None:
                target = self.collection.filter_target()  # payload indexes answer what they cover
                cached = (condition, filter_mask(_compile_condition(condition), target, candidates))
                masks[id(condition)] = cached
            return bool(cached[1][slot])

        return check

    # -- one level: query the collection ---------------------------------------------------------

    def eligible(
        self, spec: FilterSpec, include: list[Any] | None = None, vector_name: str | None = None
    ) -> np.ndarray:
        """Live slots matching the filter (and holding ``vector_name`` when given)."""
        mask = self.collection.mask(compile_filter(spec.as_filter(include)))
        if vector_name is not None:
            present = self.store.vector_mask(vector_name)
            mask &= present if present is not None else False
        return mask

    def selection(
        self, spec: FilterSpec, include: list[Any] | None, vector_name: str
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`eligible` for a dense search, with the slots of a selective mask (else None), both
        cached by the collection for a repeated filter."""
        max_rows = int(GATHER_FRACTION * self.store.n_slots)
        return self.collection.selection(compile_filter(spec.as_filter(include)), vector_name, max_rows)

    def query_collection(self, level: Level) -> list[Hit]:
        """Rank one level against the collection (no prefetches)."""
        query = level.query
        using = level.using
        if query is None or query.kind != "text":  # a text query's `using` names a payload field
            using = using or ""
        if not (level.limit and level.offset is not None and using is level.using):
            level = Level(
                query, using, level.spec, level.limit or 10, level.offset or 0,
                level.score_threshold, level.corpus, level.params, level.include,
            )  # fmt: skip
        limit, offset, spec, include = level.limit, level.offset, level.spec, level.include
        assert limit is not None and offset is not None
        if query is not None and query.kind == "text":
            return self._query_text(level)
        using = level.using
        assert using is not None
        if query is None:
            return self._scroll(spec, include, limit + offset)[offset:]
        kind = query.kind
        if kind == "nearest":
            if query.mmr is not None:
                return self._nearest_mmr(level)
            space, vector = self._space_for(query.nearest, using, level.corpus)
            ranked = self._nearest(space, vector, spec, include, limit + offset, level.params)
            return self._cut(ranked, space, level.score_threshold)[offset:]
        if kind == "recommend":
            return self._recommend(level)
        if kind in ("discover", "context"):
            return self._discover(level)
        if kind == "feedback":
            return self._feedback(level)
        if kind == "order_by":
            return self._order_by(query, spec, include, limit + offset)[offset:]
        if kind == "sample":
            sample = query.model.sample
            if sample != "random":
                raise InvalidInput(f"Unknown Sample variant: {sample}")
            # Like local mode, a random sample ignores the offset.
            return self._sample(spec, include, limit)
        if kind == "fusion":
            raise InvalidInput("Cannot perform fusion without prefetches")
        if kind == "formula":
            raise InvalidInput("Cannot perform formula without prefetches")
        if kind == "rrf":
            raise InvalidInput("Cannot perform RRF query without prefetches")
        raise InvalidInput(f"Unsupported query type {type(query.model)}")

    def _nearest(
        self, space: Space, vector: Any, spec: FilterSpec, include: list[Any] | None, k: int, params: Any
    ) -> RankedSlots:
        """Nearest ranking: through the vector's HNSW index when the planner picks it, else exact."""
        if space.kind != "dense":
            return space.nearest(vector, self.eligible(spec, include, space.vector_name), k)
        eligible, rows = self.selection(spec, include, space.vector_name)
        filtered = spec.as_filter(include) is not None
        count = len(rows) if rows is not None else None
        ranked = approximate.nearest(self.collection, space.vector_name, vector, eligible, filtered, k, params, count)
        if ranked is not None:
            return ranked
        return space.nearest(vector, eligible, k, rows)  # type: ignore[call-arg]

    def _cut(self, ranked: RankedSlots, space: Space, score_threshold: float | None) -> list[Hit]:
        # The threshold direction comes from the distance, whatever the query kind (see threshold_cut).
        pairs = ranked.pairs()
        if score_threshold is not None:
            pairs = pairs[: threshold_cut(ranked.scores, score_threshold, space.bigger_is_better)]
        return [(slot, score, None) for slot, score in pairs]

    def _space(self, kind: str, using: str, corpus: Any = None) -> Space:
        store = self.store.vectors.get(using)
        n_slots = self.store.n_slots
        if kind == "dense" and isinstance(store, DenseVectors):
            return DenseSpace(store, n_slots, using, version=self.store.version)
        if kind == "multi" and isinstance(store, MultiVectors):
            return MultiSpace(store, n_slots, using)
        if kind == "sparse" and isinstance(store, SparseVectors):
            return SparseSpace(store, n_slots, using, corpus=lambda: self._idf_corpus(using, corpus))
        raise InvalidInput(f"{_KIND_LABEL[kind]} {using} is not found in the collection")

    def _idf_corpus(self, vector_name: str, corpus: Any) -> np.ndarray:
        return self.eligible(FilterSpec(corpus), vector_name=vector_name)

    def _space_for(self, resolved: Resolved, using: str, corpus: Any) -> tuple[Space, Any]:
        space = self._space(resolved.kind, using, corpus)
        return space, _parse_value(space, resolved, _nan_subject(space.kind, "query"))

    # -- nearest with MMR ------------------------------------------------------------------------

    def _nearest_mmr(self, level: Level) -> list[Hit]:
        query, using, spec, include, limit, offset, score_threshold, corpus, params = _unpack(level)
        candidates_limit = query.mmr.candidates_limit
        search_limit = candidates_limit if candidates_limit is not None else limit
        space, vector = self._space_for(query.nearest, using, corpus)
        ranked = self._nearest(space, vector, spec, include, search_limit, params)
        hits = self._cut(ranked, space, score_threshold)
        diversity = query.mmr.diversity if query.mmr.diversity is not None else 0.5
        lambda_ = 1.0 - diversity
        if lambda_ < 0.0 or lambda_ > 1.0:
            raise InvalidInput("MMR lambda must be between 0.0 and 1.0")
        if not hits:
            return []
        slots = np.array([hit[0] for hit in hits], dtype=np.int64)
        relevance, similarity = space.mmr_matrices(vector, slots)
        selected = mmr_select(relevance, similarity, lambda_, limit + offset)
        return [hits[position] for position in selected][offset:]

    # -- example-based queries -------------------------------------------------------------------

    def _examples_space(self, examples: Sequence[Resolved], using: str, corpus: Any) -> tuple[str, Space | None]:
        """The kind the examples are of (qdrant-client goes by the searched vector name)."""
        store = self.store.vectors.get(using)
        if isinstance(store, SparseVectors):
            return "sparse", self._space("sparse", using, corpus)
        if isinstance(store, MultiVectors):
            return "multi", self._space("multi", using, corpus)
        return "dense", (self._space("dense", using) if isinstance(store, DenseVectors) else None)

    def _recommend(self, level: Level) -> list[Hit]:
        query, using, spec, include, limit, offset, score_threshold, corpus, params = _unpack(level)
        strategy = query.strategy or "average_vector"
        positive, negative = query.positive, query.negative
        if strategy == "average_vector":
            if not positive:
                raise InvalidInput("Positive list is empty")
        elif strategy in ("best_score", "sum_scores"):
            if not positive and not negative:
                raise InvalidInput("No positive or negative examples given")
        else:
            raise InvalidInput(f"strategy `{strategy}` is not a valid strategy")
        kind, space = self._examples_space([*positive, *negative], using, corpus)
        if space is None:
            raise InvalidInput(f"Dense vector {using} is not found in the collection")
        average = strategy == "average_vector"
        pos = [_parse_value(space, v, _nan_subject(kind, "query") if average else "Positive vectors") for v in positive]
        neg = [_parse_value(space, v, _nan_subject(kind, "query") if average else "Negative vectors") for v in negative]
        if average:
            if kind == "dense":
                vector: Any = space.parse(recommend.average_dense(pos, neg))
                ranked = self._nearest(space, vector, spec, include, limit + offset, params)
                return self._cut(ranked, space, score_threshold)[offset:]
            elif kind == "sparse":
                vector = sparse.sparse_average(pos)
                if neg:
                    vector = sparse.merge_positive_and_negative(vector, sparse.sparse_average(neg))
            else:
                vector = space.parse(recommend.average_multi(pos, neg), "Query matrix")
            ranked = space.nearest(vector, self.eligible(spec, include, using), limit + offset)
            return self._cut(ranked, space, score_threshold)[offset:]
        n_pos = len(pos)
        combine_fn = recommend.best_score if strategy == "best_score" else recommend.sum_scores

        def combine(similarities: list[np.ndarray], count: int) -> np.ndarray:
            return combine_fn(similarities[:n_pos], similarities[n_pos:], count)

        ranked = space.rank_examples([*pos, *neg], combine, self.eligible(spec, include, using), limit + offset)
        return self._cut(ranked, space, score_threshold)[offset:]

    def _discover(self, level: Level) -> list[Hit]:
        query, using, spec, include, limit, offset, score_threshold, corpus, _ = _unpack(level)
        target = query.target if query.kind == "discover" else None
        pairs = query.pairs
        if target is None and not pairs:
            raise InvalidInput("No target or context given")
        for positive, negative in pairs:
            if positive.kind != negative.kind:
                raise InvalidInput("Context example pair must be of the same type: dense, sparse or multi vectors")
        kinds = {positive.kind for positive, _ in pairs}
        if len(kinds) > 1:
            raise InvalidInput("All context example pairs must be either dense or sparse or multi vectors")
        kind = target.kind if target is not None else next(iter(kinds))
        if kinds and kinds != {kind}:
            # Deviation: local mode silently drops context pairs of another kind than the target.
            raise InvalidInput("All context example pairs must be either dense or sparse or multi vectors")
        space = self._space(kind, using, corpus)
        examples = [
            _parse_value(space, v, "Positive vector" if i % 2 == 0 else "Negative vector")
            for pair in pairs
            for i, v in enumerate(pair)
        ]
        if target is not None:
            examples.append(_parse_value(space, target, "Target vector"))

            def combine(similarities: list[np.ndarray], count: int) -> np.ndarray:
                pair_sims = [(similarities[i], similarities[i + 1]) for i in range(0, len(similarities) - 1, 2)]
                return recommend.discovery_scores(similarities[-1], pair_sims)

        else:

            def combine(similarities: list[np.ndarray], count: int) -> np.ndarray:
                pair_sims = [(similarities[i], similarities[i + 1]) for i in range(0, len(similarities), 2)]
                return recommend.context_scores(pair_sims, count)

        ranked = space.rank_examples(examples, combine, self.eligible(spec, include, using), limit + offset)
        return self._cut(ranked, space, score_threshold)[offset:]

    def _feedback(self, level: Level) -> list[Hit]:
        query, using, spec, include, limit, offset, score_threshold, corpus, _ = _unpack(level)
        a, b, c = query.naive
        # Ids are read from the searched collection and vector (never lookup_from), now that the
        # prefetches below ran, and excluded here only, not from those prefetches.
        mentioned: set[Any] = set()

        def resolve_input(value: Any) -> Resolved:
            if isinstance(value, Resolved):
                return value
            if vector_kind(value) != "id":
                return Resolved(vector_kind(value), value)
            mentioned.add(normalize_id(value))
            return _stored_vector(self.collection, using, value)

        resolved_target = resolve_input(query.target)
        resolved_items = [resolve_input(example) for example, _ in query.feedback]
        spec = FilterSpec(spec.raw, spec.exclude | frozenset(mentioned))
        space = self._space(resolved_target.kind, using, corpus)
        target = _parse_value(space, resolved_target, "Target vector")
        items = [_parse_value(space, example, "Feedback vector") for example in resolved_items]
        pairs = recommend.feedback_pairs([score for _, score in query.feedback], b, c)
        examples = [target, *items]

        def combine(similarities: list[np.ndarray], count: int) -> np.ndarray:
            weighted = [(similarities[1 + i], similarities[1 + j], weight) for i, j, weight in pairs]
            return recommend.naive_feedback_scores(similarities[0], a, weighted)

        ranked = space.rank_examples(examples, combine, self.eligible(spec, include, using), limit + offset)
        return self._cut(ranked, space, score_threshold)[offset:]

    # -- text (BM25) ------------------------------------------------------------------------------

    def _query_text(self, level: Level) -> list[Hit]:
        query, field_name, spec, include, limit, offset, score_threshold, corpus, _ = _unpack(level)
        text, k1, b = text_query_params(query.model, field_name, self.collection.payload_schema, corpus)
        store = self.store
        # The corpus: live points holding at least one token in the field, whatever the filter is.
        documents = {}
        for slot in np.flatnonzero(store.live_mask).tolist():
            tokens = document_tokens(extract_values(store.payloads[slot] or {}, field_name))
            if tokens:
                documents[slot] = tokens
        scores = bm25_scores(documents, text, k1, b)
        eligible = self.eligible(spec, include)
        hits: list[Hit] = []
        for slot in sorted(scores, key=lambda slot: (-scores[slot], slot)):
            if len(hits) >= limit + offset:
                break
            if not eligible[slot]:
                continue
            score = float(np.float32(scores[slot]))  # core scores in f32
            if score_threshold is not None and score <= score_threshold:
                break
            hits.append((slot, score, None))
        return hits[offset:]

    # -- scroll-like queries ---------------------------------------------------------------------

    def _scroll(self, spec: FilterSpec, include: list[Any] | None, count: int) -> list[Hit]:
        compiled = compile_filter(spec.as_filter(include))
        page, _ = self.collection.scroll_by_id(compiled, count, None, False, False)
        slot_of = self.store.slot_of
        return [(slot_of[entry[0]], 1.0, None) for entry in page]

    def _order_by(self, query: ParsedQuery, spec: FilterSpec, include: list[Any] | None, count: int) -> list[Hit]:
        compiled = compile_filter(spec.as_filter(include))
        entries = self.collection.scroll_by_value(compiled, count, query.model.order_by, False, False)
        slot_of = self.store.slot_of
        return [(slot_of[entry[0]], 1.0, entry[-1]) for entry in entries]

    def _sample(self, spec: FilterSpec, include: list[Any] | None, count: int) -> list[Hit]:
        slots = np.flatnonzero(self.eligible(spec, include))
        # The global numpy generator, like local mode, so np.random.seed() makes it repeatable.
        chosen = slots[np.random.permutation(len(slots))[:count]]
        return [(int(slot), 1.0, None) for slot in chosen.tolist()]

    # -- results ---------------------------------------------------------------------------------

    def points(self, hits: list[Hit], with_payload: Any, with_vectors: Any) -> list[models.ScoredPoint]:
        """ScoredPoints for the hits (live slots), with the requested payload and vectors."""
        selector = compile_payload_selector(with_payload)
        slots = [hit[0] for hit in hits]
        point_ids = self.store.ids_of(slots) if hits else []
        parts = self.collection.record_page(slots, selector, with_vectors)
        result = []
        new = object.__new__
        cls = models.ScoredPoint
        for (_, score, order_value), point_id, (payload, vector) in zip(hits, point_ids, parts):
            point = new(cls)  # every field given: built like model_construct, without a call per hit
            point.__dict__ = {
                "id": point_id,
                "version": 0,
                "score": score,
                "payload": payload,
                "vector": vector,
                "shard_key": None,
                "order_value": order_value,
            }
            result.append(point)
        return result


def _stored_vector(lookup: Collection, vector_name: str, point_id: Any) -> Resolved:
    """The stored vector a point id names (qdrant-client's ``_vector_by_point_id``)."""
    canonical = try_normalize_id(point_id)
    slot = lookup.store.slot_of.get(canonical) if canonical is not None else None
    if slot is None:
        raise InvalidInput(f"Point {point_id} is not found in the collection")
    store = lookup.store.vectors.get(vector_name)
    if store is None:
        raise InvalidInput(f"Vector {vector_name} not found")
    if not store.present[slot]:
        raise InvalidInput(f"Vector with name {vector_name} for point {point_id} not found")
    if isinstance(store, DenseVectors):
        return Resolved("dense", store.matrix[slot].astype(np.float64), parsed=True)
    if isinstance(store, MultiVectors):
        return Resolved("multi", store.index.matrix(slot).astype(np.float64), parsed=True)
    indices, values = store.raw(slot)  # type: ignore[misc]  # present, so not None
    return Resolved("sparse", (indices.astype(np.int64), values.astype(np.float64)), parsed=True)


def _parse_value(space: Space, resolved: Resolved, what: str = "Query vector") -> Any:
    """Validate a resolved vector for ``space``; a kind mismatch names the kind qdrant-client would."""
    if resolved.kind != space.kind:
        raise InvalidInput(f"{_KIND_LABEL[resolved.kind]} {space.vector_name} is not found in the collection")
    if resolved.parsed:
        return resolved.value
    return space.parse(resolved.value, what)


def _nan_subject(kind: str, role: str) -> str:
    """How qdrant-client names a vector in its NaN error, by vector kind and role in the query."""
    if role == "query":
        return "Query matrix" if kind == "multi" else "Query vector"
    return role


def _unpack(level: Level) -> tuple[Any, ...]:
    """A level's fields as the ranking methods read them (query, using, spec, include, limit, offset,
    score_threshold, corpus, params), with the defaults :meth:`Planner.query_collection` applied."""
    return (
        level.query,
        level.using,
        level.spec,
        level.include,
        level.limit,
        level.offset,
        level.score_threshold,
        level.corpus,
        level.params,
    )
