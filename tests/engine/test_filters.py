"""Filters: differential against qdrant-client's ``check_filter``, plus validation and mask contracts.

Every generated filter is given to us in three forms (REST dict, qdrant_client model, our model)
and must give, for every point, the verdict of ``qdrant_client.local.payload_filters.check_filter``.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from qdrant_client.http import models as qm
from qdrant_client.local.geo import geo_distance as reference_geo_distance
from qdrant_client.local.payload_filters import check_filter, validate_filter
from qdrant_client.local.payload_value_extractor import value_by_key

from qdrant_local import models as our_models
from qdrant_local.engine.conditions import FieldNode, FilterNode, NestedNode, PlainTarget
from qdrant_local.engine.filters import CompiledFilter, filter_mask
from qdrant_local.engine.filters import compile_filter as compile_converted
from qdrant_local.engine.paths import extract_values
from qdrant_local.errors import InvalidInput, InvalidPath, InvalidPointId
from qdrant_local.models.convert import to_filter

from .strategies import DATETIMES, KEYS, WORDS, key_paths, render_path

VECTOR_NAMES = ["", "a"]
UUID_IDS = [str(uuid.UUID(int=n * 7919 + 13)) for n in range(6)]


def compile_filter(filter_obj: Any) -> CompiledFilter | None:
    """Convert (as the client facade does), then compile."""
    return compile_converted(to_filter(filter_obj))


# ------------------------------------------------------------------------------------------------
# A store the filters run against


class Target(PlainTarget):
    """The FilterTarget protocol over a list of points, with free slots in between."""

    def __init__(self, points: list[tuple[Any, dict[str, Any], set[str]]], free_every: int = 3) -> None:
        self.point_ids: list[Any] = []
        self.payloads: list[dict[str, Any] | None] = []
        vectors: dict[str, list[bool]] = {name: [] for name in VECTOR_NAMES}
        for position, (point_id, payload, names) in enumerate(points):
            if free_every and position % free_every == 1:
                self.point_ids.append(None)
                self.payloads.append(None)
                for name in VECTOR_NAMES:
                    vectors[name].append(False)
            self.point_ids.append(point_id)
            self.payloads.append(payload)
            for name in VECTOR_NAMES:
                vectors[name].append(name in names)
        self.n_slots = len(self.point_ids)
        self.slot_of = {pid: slot for slot, pid in enumerate(self.point_ids) if pid is not None}
        self.vectors = {name: np.array(flags, dtype=bool) for name, flags in vectors.items()}
        self.live = np.array([pid is not None for pid in self.point_ids], dtype=bool)

    def vector_mask(self, vector_name: str) -> np.ndarray | None:
        return self.vectors.get(vector_name)


def reference_mask(qm_filter: qm.Filter, target: Target) -> np.ndarray:
    validate_filter(qm_filter)
    mask = np.zeros(target.n_slots, dtype=bool)
    for slot, point_id in enumerate(target.point_ids):
        if point_id is None:
            continue
        has_vector = {name: True for name, present in target.vectors.items() if present[slot]}
        mask[slot] = check_filter(qm_filter, target.payloads[slot], point_id, has_vector)  # type: ignore[arg-type]
    return mask


def to_ours(value: Any) -> Any:
    """A qdrant_client model tree rebuilt from our model classes of the same names."""
    if isinstance(value, BaseModel):
        cls = getattr(our_models, type(value).__name__)
        return cls(**{name: to_ours(getattr(value, name)) for name in type(value).model_fields})
    if isinstance(value, list):
        return [to_ours(item) for item in value]
    return value


# ------------------------------------------------------------------------------------------------
# Strategies: points and REST-shaped filters

datetime_strings = st.builds(
    lambda moment, fmt: moment.strftime(fmt),
    st.datetimes(dt.datetime(2023, 12, 25), dt.datetime(2024, 1, 10)),
    st.sampled_from(["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%Y-%m-%dT%H:%M:%S.%f+02:00"]),
)
# Geo points and geo conditions share a region, so that conditions split the points.
near_lats = st.floats(45, 55, allow_nan=False)
near_lons = st.floats(5, 15, allow_nan=False)

# Point payloads come from a hypothesis-seeded random.Random: drawing hundreds of nested values
# through hypothesis costs most of the run, and a seed still replays exactly.
_DATETIME_FORMATS = [
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y-%m-%dT%H:%M:%S.%f+02:00",
    "%Y-%m-%dT%H:%M",
]
_OTHER_STRINGS = DATETIMES + ["12345678-1234-5678-1234-567812345678", "a_b", "-0"]


def _random_scalar(rng: random.Random) -> Any:
    pick = rng.randrange(8)
    if pick == 0:
        return None
    if pick == 1:
        return rng.random() < 0.5
    if pick == 2:
        return rng.randint(-3, 3)
    if pick == 3:
        return rng.choice([0.0, 1.0, 2.5, -1.5, rng.uniform(-5, 5)])
    if pick == 4:
        return rng.choice(WORDS)
    if pick == 5:
        return " ".join(rng.choice(WORDS[:6]) for _ in range(rng.randint(2, 4)))
    if pick == 6:
        return _random_datetime(rng)
    return rng.choice(_OTHER_STRINGS)


def _random_geo(rng: random.Random) -> dict[str, Any]:
    if rng.random() < 0.85:
        return {"lat": rng.uniform(45, 55), "lon": rng.uniform(5, 15)}
    return rng.choice(
        [
            {"lat": rng.uniform(-90, 90), "lon": rng.uniform(-180, 180)},
            {"lat": 50, "lon": 10},
            {"lat": "50", "lon": 10},
            {"lat": 50},
        ]
    )


def _random_object(rng: random.Random, depth: int) -> dict[str, Any]:
    keys = rng.sample(["a", "b", "n", "geo", "arr", "x.y"], rng.randint(0, 3))
    return {key: _random_value(rng, depth + 1) for key in keys}


def _random_value(rng: random.Random, depth: int = 0) -> Any:
    pick = rng.randrange(10 if depth < 2 else 5)
    if pick <= 2:
        return _random_scalar(rng)
    if pick == 3:
        return _random_geo(rng)
    if pick == 4:
        return [_random_scalar(rng) for _ in range(rng.randint(0, 3))]
    if pick == 5:
        return [_random_geo(rng) for _ in range(rng.randint(0, 2))]
    if pick in (6, 7):
        return [_random_object(rng, depth) for _ in range(rng.randint(0, 3))]
    if pick == 8:
        return _random_object(rng, depth)
    return [_random_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]


def _typed_value(key: str, rng: random.Random) -> Any:
    """Most keys hold the kind of value conditions on them expect, some of the time."""
    if rng.random() < 0.35:
        return _random_value(rng)
    if key == "geo":
        return _random_geo(rng) if rng.random() < 0.8 else [_random_geo(rng) for _ in range(rng.randint(0, 2))]
    if key == "dt":
        return _random_scalar(rng) if rng.random() < 0.2 else _random_datetime(rng)
    if key in ("n", "c"):
        return rng.choice(
            [rng.randint(-3, 3), rng.uniform(-5, 5), [rng.randint(-3, 3) for _ in range(rng.randint(0, 3))]]
        )
    if key in ("s", "b"):
        return rng.choice(
            [
                rng.choice(WORDS),
                " ".join(rng.choice(WORDS[:6]) for _ in range(rng.randint(1, 4))),
                [rng.choice(WORDS) for _ in range(2)],
            ]
        )
    if key == "arr":
        return [_random_object(rng, 1) for _ in range(rng.randint(0, 3))]
    return _random_value(rng)


def _random_datetime(rng: random.Random) -> str:
    moment = dt.datetime(2023, 12, 25) + dt.timedelta(
        seconds=rng.randrange(16 * 86400), microseconds=rng.randrange(10**6)
    )
    return moment.strftime(rng.choice(_DATETIME_FORMATS))


def random_payload(rng: random.Random) -> dict[str, Any]:
    return {key: _typed_value(key, rng) for key in KEYS if rng.random() < 0.7}


point_ids = st.one_of(st.integers(0, 40), st.sampled_from(UUID_IDS))


@st.composite
def point_sets(draw: st.DrawFn) -> list[tuple[Any, dict[str, Any], set[str]]]:
    ids = draw(st.lists(point_ids, min_size=8, max_size=25, unique=True))
    rng = random.Random(draw(st.integers(0, 2**32)))
    return [(point_id, random_payload(rng), set(rng.sample(VECTOR_NAMES, rng.randint(0, 2)))) for point_id in ids]


simple_keys = st.one_of(
    st.sampled_from(KEYS).map(lambda k: render_path([k])),
    st.sampled_from(KEYS).map(lambda k: render_path([k])),
    key_paths(max_depth=2),
)
match_scalars = st.one_of(st.booleans(), st.integers(-3, 3), st.sampled_from(WORDS))
number_bounds = st.one_of(st.none(), st.integers(-3, 3), st.floats(-5, 5, allow_nan=False))
datetime_bounds = st.one_of(
    st.none(),
    st.datetimes(dt.datetime(2023, 12, 20), dt.datetime(2024, 1, 15)),
    st.datetimes(
        dt.datetime(2023, 12, 20), dt.datetime(2024, 1, 15), timezones=st.just(dt.timezone(dt.timedelta(hours=-3)))
    ),
    st.dates(dt.date(2023, 12, 20), dt.date(2024, 1, 15)),
)
lats = st.one_of(near_lats, st.floats(-90, 90, allow_nan=False))
lons = st.one_of(near_lons, st.floats(-180, 180, allow_nan=False))
geo_points = st.builds(lambda lat, lon: {"lat": lat, "lon": lon}, lats, lons)


def _bounds(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={name: strategy for name in ("lt", "gt", "gte", "lte")}).map(
        lambda bounds: {k: v for k, v in bounds.items() if v is not None}
    )


match_objects = st.one_of(
    match_scalars.map(lambda v: {"value": v}),
    st.one_of(st.lists(st.integers(-3, 3), max_size=3), st.lists(st.sampled_from(WORDS), max_size=3)).map(
        lambda v: {"any": v}
    ),
    st.one_of(st.lists(st.integers(-3, 3), max_size=3), st.lists(st.sampled_from(WORDS), max_size=3)).map(
        lambda v: {"except": v}
    ),
    st.sampled_from(WORDS + ["hello world", "world hello", "foo bar"]).map(lambda v: {"text": v}),
    st.sampled_from(WORDS + ["hello world", "nothing here"]).map(lambda v: {"text_any": v}),
    st.sampled_from(WORDS + ["hello world", "world hello", "foo foo"]).map(lambda v: {"phrase": v}),
    st.sampled_from(["", "h", "He", "fo", "20"]).map(lambda v: {"prefix": v}),
    st.sampled_from(["", "o", "lo w", "_", "-0"]).map(lambda v: {"substring": v}),
)

ring = st.lists(st.tuples(near_lats, near_lons), min_size=3, max_size=5).map(
    lambda points: [{"lat": lat, "lon": lon} for lat, lon in points] + [{"lat": points[0][0], "lon": points[0][1]}]
)

field_conditions = st.one_of(
    st.builds(lambda key, match: {"key": key, "match": match}, simple_keys, match_objects),
    st.builds(lambda key, match: {"key": key, "match": match}, simple_keys, match_objects),
    st.builds(lambda key, match: {"key": key, "match": match}, simple_keys, match_objects),
    st.builds(lambda key, bounds: {"key": key, "range": bounds}, simple_keys, _bounds(number_bounds)),
    st.builds(
        lambda key, bounds: {"key": key, "range": bounds},
        st.sampled_from(["dt", "s", "a"]),
        _bounds(datetime_bounds).filter(bool),
    ),
    st.builds(
        lambda key, bounds: {"key": key, "values_count": bounds},
        simple_keys,
        _bounds(st.one_of(st.none(), st.integers(0, 3))),
    ),
    st.builds(lambda key, flag: {"key": key, "is_empty": flag}, simple_keys, st.booleans()),
    st.builds(lambda key, flag: {"key": key, "is_null": flag}, simple_keys, st.booleans()),
    st.builds(
        lambda key, center, radius: {"key": key, "geo_radius": {"center": center, "radius": radius}},
        st.sampled_from(["geo", "a", "arr[].geo", "c"]),
        geo_points,
        st.one_of(st.floats(1e4, 1e6), st.floats(1, 2e7)),
    ),
    st.builds(
        lambda key, a, b: {"key": key, "geo_bounding_box": {"top_left": a, "bottom_right": b}},
        st.sampled_from(["geo", "a", "arr[].geo"]),
        geo_points,
        geo_points,
    ),
    st.builds(
        lambda key, exterior, holes: {
            "key": key,
            "geo_polygon": {"exterior": {"points": exterior}, "interiors": [{"points": hole} for hole in holes]},
        },
        st.sampled_from(["geo", "b", "arr[].geo"]),
        ring,
        st.lists(ring, max_size=1),
    ),
)

leaf_conditions = st.one_of(
    field_conditions,
    field_conditions,
    simple_keys.map(lambda key: {"is_empty": {"key": key}}),
    simple_keys.map(lambda key: {"is_null": {"key": key}}),
    st.lists(point_ids, max_size=4).map(lambda ids: {"has_id": ids}),
    st.sampled_from(["", "a", "zz"]).map(lambda name: {"has_vector": name}),
    st.integers(1, 4).flatmap(
        lambda total: st.integers(0, total - 1).map(lambda index: {"slice": {"total": total, "index": index}})
    ),
)


def _clause(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    # Mostly absent: a filter with every clause full of random conditions matches all or nothing.
    return st.one_of(st.none(), st.none(), st.none(), st.lists(children, max_size=2), children)


def _filters(children: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.builds(
        lambda must, should, must_not, min_should: {
            k: v
            for k, v in {"must": must, "should": should, "must_not": must_not, "min_should": min_should}.items()
            if v is not None
        },
        _clause(children),
        _clause(children),
        _clause(children),
        st.one_of(
            st.none(),
            st.none(),
            st.builds(
                lambda conditions, count: {"conditions": conditions, "min_count": count},
                st.lists(children, max_size=3),
                st.integers(1, 3),
            ),
        ),
    )


conditions = st.one_of(
    leaf_conditions,
    leaf_conditions,
    st.recursive(
        leaf_conditions,
        lambda children: st.one_of(
            _filters(children),
            st.builds(
                lambda key, inner: {"nested": {"key": key, "filter": inner}},
                st.sampled_from(["arr", "arr[]", "a", "b.arr", "arr[].arr"]),
                _filters(children),
            ),
        ),
        max_leaves=5,
    ),
)
filters = _filters(conditions)


# ------------------------------------------------------------------------------------------------
# Differential tests


@settings(max_examples=300)
@given(point_sets(), filters)
def test_filter_mask_matches_check_filter(
    points: list[tuple[Any, dict[str, Any], set[str]]], rest_filter: dict[str, Any]
) -> None:
    target = Target(points)
    qm_filter = qm.Filter.model_validate(rest_filter)
    expected = reference_mask(qm_filter, target)
    for form in (rest_filter, qm_filter, to_ours(qm_filter)):
        mask = filter_mask(compile_filter(form), target, target.live)
        assert mask.dtype == bool and mask.shape == (target.n_slots,)
        assert (mask == expected).all(), (form, mask, expected)
    _check_index_seam(compile_filter(rest_filter), target)


def _field_nodes(node: Any) -> list[FieldNode]:
    if isinstance(node, FieldNode):
        return [node]
    children: list[Any] = []
    if isinstance(node, FilterNode):
        children = [*node.must, *node.must_not, *(node.should or ()), *(node.min_should[0] if node.min_should else ())]
    elif isinstance(node, NestedNode):
        children = [node.inner]
    return [field_node for child in children for field_node in _field_nodes(child)]


def _check_index_seam(compiled: Any, target: Target) -> None:
    """An index answering from value_test / matches must agree with evaluate()."""
    for node in _field_nodes(compiled.root):
        by_evaluate = node.evaluate(target, target.live)
        for slot in np.flatnonzero(target.live):
            values = extract_values(target.payloads[slot], node.path, node.flat)
            assert node.matches(values) == by_evaluate[slot]
            if node.value_test is not None:
                assert any(node.value_test(value) for value in values) == by_evaluate[slot]


@settings(max_examples=100)
@given(point_sets(), filters, st.data())
def test_filter_mask_respects_candidates(
    points: list[tuple[Any, dict[str, Any], set[str]]], rest_filter: dict[str, Any], data: st.DataObject
) -> None:
    target = Target(points)
    expected = reference_mask(qm.Filter.model_validate(rest_filter), target)
    candidates = target.live & np.array(
        data.draw(st.lists(st.booleans(), min_size=target.n_slots, max_size=target.n_slots)), dtype=bool
    )
    compiled = compile_filter(rest_filter)
    before = candidates.copy()
    mask = filter_mask(compiled, target, candidates)
    assert (candidates == before).all()  # not mutated
    assert (mask == (expected & candidates)).all()


@settings(max_examples=150)
@given(point_sets(), conditions)
def test_single_condition_instead_of_list(
    points: list[tuple[Any, dict[str, Any], set[str]]], condition: dict[str, Any]
) -> None:
    target = Target(points)
    for clause in ("must", "should", "must_not"):
        as_list = filter_mask(compile_filter({clause: [condition]}), target, target.live)
        single = filter_mask(compile_filter({clause: condition}), target, target.live)
        assert (as_list == single).all()
        expected = reference_mask(qm.Filter.model_validate({clause: condition}), target)
        assert (single == expected).all()


# Conditions derived from the data: pick a value a point holds and build a condition around it,
# so that most conditions split the points (random conditions mostly match all or nothing).


def _leaf_paths(payload: dict[str, Any]) -> list[str]:
    paths = []
    for key, value in payload.items():
        top = render_path([key])
        paths.append(top)
        if isinstance(value, dict):
            paths.extend(f"{top}.{render_path([sub])}" for sub in value)
        if isinstance(value, list):
            paths.append(f"{top}[]")
            for element in value:
                if isinstance(element, dict):
                    paths.extend(f"{top}[].{render_path([sub])}" for sub in element)
    return paths


def _around_number(rng: random.Random, value: float) -> dict[str, Any]:
    names = rng.sample(["lt", "gt", "gte", "lte"], rng.randint(1, 2))
    offsets = {"lt": 1, "lte": 0, "gt": -1, "gte": 0}
    return {
        name: rng.choice([value + offsets[name], value + offsets[name] * rng.random(), int(value)]) for name in names
    }


def _around_int(rng: random.Random, value: int) -> dict[str, int]:
    names = rng.sample(["lt", "gt", "gte", "lte"], rng.randint(1, 2))
    return {name: value + rng.choice([-1, 0, 0, 1]) for name in names}


def _around_geo(rng: random.Random, point: dict[str, float], kind: str) -> dict[str, Any]:
    lat, lon = point["lat"], point["lon"]
    if kind == "geo_radius":
        return {
            "center": {"lat": lat + rng.uniform(-1, 1), "lon": lon + rng.uniform(-1, 1)},
            "radius": rng.uniform(1e3, 3e5),
        }
    if kind == "geo_bounding_box":
        return {
            "top_left": {"lat": lat + rng.uniform(-0.5, 2), "lon": lon - rng.uniform(-0.5, 2)},
            "bottom_right": {"lat": lat - rng.uniform(-0.5, 2), "lon": lon + rng.uniform(-0.5, 2)},
        }
    size = rng.uniform(0.2, 3)
    exterior = [
        (lat - size, lon - size),
        (lat + size, lon - size / 2),
        (lat + size / 3, lon + size),
        (lat - size, lon - size),
    ]
    hole = [
        (lat - size / 4, lon - size / 4),
        (lat + size / 4, lon),
        (lat - size / 4, lon + size / 4),
        (lat - size / 4, lon - size / 4),
    ]
    rings = [{"points": [{"lat": a, "lon": b} for a, b in ring]} for ring in (exterior, hole)]
    return {"exterior": rings[0], "interiors": rings[1:] if rng.random() < 0.5 else []}


def _condition_for_value(rng: random.Random, key: str, value: Any, point_id: Any) -> dict[str, Any]:
    """A condition on ``key`` that the holder of ``value`` is likely (not certain) to satisfy."""
    kind = type(value)
    if rng.random() < 0.15:
        return rng.choice(
            [
                {"key": key, "values_count": _around_int(rng, rng.randint(0, 3))},
                {"key": key, "is_empty": rng.random() < 0.5},
                {"key": key, "is_null": rng.random() < 0.5},
                {"is_null": {"key": key}},
                {"has_id": [point_id, rng.randint(0, 40)]},
            ]
        )
    if kind in (bool, int, str) and rng.random() < 0.4:
        if kind is bool:
            return {"key": key, "match": {"value": value}}
        others = [rng.randint(-3, 3)] if kind is int else [rng.choice(WORDS)]
        return {
            "key": key,
            "match": rng.choice([{"value": value}, {"any": [value, *others]}, {"except": [value, *others]}]),
        }
    if kind is str:
        tokens = value.split()
        start = rng.randrange(max(1, len(value)))
        choices = [
            {"text": " ".join(rng.sample(tokens, min(len(tokens), 2))) if tokens else value},
            {"text_any": " ".join([*tokens[:1], rng.choice(WORDS)])},
            {"phrase": " ".join(tokens[start % max(1, len(tokens)) :][:2]) if tokens else value},
            {"phrase": " ".join(rng.sample(tokens, min(len(tokens), 2))) if tokens else value},
            {"prefix": value[: rng.randint(0, 4)]},
            {"substring": value[start : start + rng.randint(0, 3)]},
        ]
        micros = None
        if "20" in value:
            try:
                micros = dt.datetime.fromisoformat(value[:19].replace(" ", "T"))
            except ValueError:
                micros = None
        if micros is not None and rng.random() < 0.5:
            name = rng.choice(["lt", "gt", "gte", "lte"])
            shift = dt.timedelta(hours=rng.choice([-3, 0, 0, 3, 30]))
            return {
                "key": key,
                "range": {
                    name: rng.choice(
                        [micros + shift, (micros + shift).date(), (micros + shift).replace(tzinfo=dt.timezone.utc)]
                    )
                },
            }
        return {"key": key, "match": rng.choice(choices)}
    if kind in (int, float):
        return {"key": key, "range": _around_number(rng, value)}
    if kind is dict and "lat" in value:
        geo_kind = rng.choice(["geo_radius", "geo_bounding_box", "geo_polygon"])
        try:
            return {"key": key, geo_kind: _around_geo(rng, value, geo_kind)}
        except (TypeError, KeyError):  # a malformed geo point: any other condition will do
            pass
    return {"key": key, "values_count": _around_int(rng, len(value) if isinstance(value, list) else 1)}


def derived_condition(
    rng: random.Random, points: list[tuple[Any, dict[str, Any], set[str]]], depth: int = 0
) -> dict[str, Any]:
    point_id, payload, _ = points[0] if rng.random() < 0.6 else rng.choice(points)
    paths = _leaf_paths(payload)
    if not paths or rng.random() < 0.05:
        return rng.choice(
            [
                {"has_vector": rng.choice(["", "a", "zz"])},
                {"has_id": [point_id]},
                {"slice": {"total": 2, "index": rng.randint(0, 1)}},
            ]
        )
    key = rng.choice(paths)
    arrays = [p for p in paths if p.endswith("[]")]
    if arrays and depth < 2 and rng.random() < 0.2:
        # nested: a condition derived from one element of an array of objects
        array_key = rng.choice(arrays)
        elements = [e for e in value_by_key(payload, array_key[:-2]) or [] if isinstance(e, dict)]
        if elements:
            inner_points = [(point_id, element, set()) for element in elements]
            inner = derived_filter(rng, inner_points, depth + 1)
            return {"nested": {"key": rng.choice([array_key, array_key[:-2]]), "filter": inner}}
    values = value_by_key(payload, key) or [None]
    return _condition_for_value(rng, key, rng.choice(values), point_id)


def derived_filter(
    rng: random.Random, points: list[tuple[Any, dict[str, Any], set[str]]], depth: int = 0
) -> dict[str, Any]:
    """A filter whose conditions mostly come from one anchor point, so that it tends to match it."""
    anchor = rng.randrange(len(points))
    points = [points[anchor], *points[:anchor], *points[anchor + 1 :]]
    rest: dict[str, Any] = {}
    for clause in rng.sample(["must", "should", "must_not", "min_should"], rng.randint(1, 2)):
        conditions = [derived_condition(rng, points, depth) for _ in range(rng.randint(1, 3))]
        if clause == "min_should":
            rest[clause] = {"conditions": conditions, "min_count": rng.randint(1, len(conditions))}
        else:
            rest[clause] = conditions if len(conditions) > 1 or rng.random() < 0.5 else conditions[0]
    return rest


@settings(max_examples=400)
@given(point_sets(), st.integers(0, 2**32))
def test_derived_filters_match_check_filter(points: list[tuple[Any, dict[str, Any], set[str]]], seed: int) -> None:
    target = Target(points)
    rest_filter = derived_filter(random.Random(seed), points)
    qm_filter = qm.Filter.model_validate(rest_filter)
    expected = reference_mask(qm_filter, target)
    for form in (rest_filter, qm_filter, to_ours(qm_filter)):
        mask = filter_mask(compile_filter(form), target, target.live)
        assert (mask == expected).all(), (rest_filter, mask, expected)
    _check_index_seam(compile_filter(rest_filter), target)


# ------------------------------------------------------------------------------------------------
# Semantics spelled out (local mode's payload_filters.py; each also checked against check_filter)


def _verdicts(rest_filter: dict[str, Any], payloads: list[dict[str, Any]]) -> list[bool]:
    target = Target([(n, payload, set()) for n, payload in enumerate(payloads)], free_every=0)
    ours = filter_mask(compile_filter(rest_filter), target, target.live)
    reference = reference_mask(qm.Filter.model_validate(rest_filter), target)
    assert (ours == reference).all()
    return ours.tolist()


def test_strict_typing_of_match_value() -> None:
    payloads = [{"v": 1}, {"v": 1.0}, {"v": True}, {"v": "1"}, {"v": [0, 1]}]
    assert _verdicts({"must": [{"key": "v", "match": {"value": 1}}]}, payloads) == [True, False, False, False, True]
    assert _verdicts({"must": [{"key": "v", "match": {"value": True}}]}, payloads) == [False, False, True, False, False]


def test_missing_fields() -> None:
    payloads = [{}, {"v": None}, {"v": 2}]
    assert _verdicts({"must_not": [{"key": "v", "match": {"value": 1}}]}, payloads) == [True, True, True]
    assert _verdicts({"must": [{"key": "v", "match": {"except": [1]}}]}, payloads) == [False, False, True]
    assert _verdicts({"must": [{"is_empty": {"key": "v"}}]}, payloads) == [True, True, False]
    assert _verdicts({"must": [{"is_null": {"key": "v"}}]}, payloads) == [False, True, False]
    assert _verdicts({"must": [{"key": "v", "values_count": {"lt": 1}}]}, payloads) == [True, True, False]


def test_empty_should_matches_everything_and_empty_min_should_nothing() -> None:
    payloads = [{}, {"v": 1}]
    assert _verdicts({"should": []}, payloads) == [True, True]
    assert _verdicts({"min_should": {"conditions": [], "min_count": 1}}, payloads) == [False, False]


def test_nested_needs_one_element_to_match_everything() -> None:
    payloads = [{"arr": [{"x": 1, "y": 2}, {"x": 2, "y": 1}]}, {"arr": [{"x": 1, "y": 1}]}, {"arr": {"x": 1, "y": 1}}]
    both = [{"key": "x", "match": {"value": 1}}, {"key": "y", "match": {"value": 1}}]
    assert _verdicts({"must": [{"nested": {"key": "arr", "filter": {"must": both}}}]}, payloads) == [False, True, False]
    flat = [{"key": "arr[].x", "match": {"value": 1}}, {"key": "arr[].y", "match": {"value": 1}}]
    assert _verdicts({"must": flat}, payloads) == [True, True, False]


def test_text_conditions() -> None:
    payloads = [{"t": "Hello, World"}, {"t": "world hello"}, {"t": "worldly"}, {"t": 5}, {"t": "hello big world"}]
    assert _verdicts({"must": [{"key": "t", "match": {"text": "world hello"}}]}, payloads) == [
        True,
        True,
        False,
        False,
        True,
    ]
    assert _verdicts({"must": [{"key": "t", "match": {"phrase": "hello world"}}]}, payloads) == [
        True,
        False,
        False,
        False,
        False,
    ]
    assert _verdicts({"must": [{"key": "t", "match": {"text": "wor"}}]}, payloads) == [
        False,
        False,
        False,
        False,
        False,
    ]
    assert _verdicts({"must": [{"key": "t", "match": {"prefix": "wor"}}]}, payloads) == [
        False,
        True,
        True,
        False,
        False,
    ]
    assert _verdicts({"must": [{"key": "t", "match": {"text_any": "big nothing"}}]}, payloads) == [
        False,
        False,
        False,
        False,
        True,
    ]


# Geo edges: on an integer grid, points land exactly on box and polygon edges and vertices.
grid_points = st.builds(lambda lat, lon: {"lat": lat, "lon": lon}, st.integers(0, 4), st.integers(0, 4))
grid_rings = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 4)), min_size=3, max_size=5).map(
    lambda points: [{"lat": lat, "lon": lon} for lat, lon in points]
)
grid_conditions = st.one_of(
    st.builds(
        lambda a, b: {"key": "geo", "geo_bounding_box": {"top_left": a, "bottom_right": b}}, grid_points, grid_points
    ),
    st.builds(
        lambda exterior, holes: {
            "key": "geo",
            "geo_polygon": {"exterior": {"points": exterior}, "interiors": [{"points": h} for h in holes]},
        },
        grid_rings,
        st.lists(grid_rings, max_size=2),
    ),
)


@settings(max_examples=300)
@given(st.lists(grid_points, min_size=10, max_size=25), grid_conditions)
def test_geo_edges_match_local_mode(points: list[dict[str, int]], condition: dict[str, Any]) -> None:
    payloads = [{"geo": point} for point in points]
    _verdicts({"must": [condition]}, payloads)


def test_geo_radius_boundary_is_strict_and_uses_the_same_formula() -> None:
    center = {"lat": 52.52, "lon": 13.405}
    point = {"lat": 48.8566, "lon": 2.3522}
    distance = reference_geo_distance(point["lon"], point["lat"], center["lon"], center["lat"])
    for radius in (distance, np.nextafter(distance, np.inf), np.nextafter(distance, 0)):
        _verdicts(
            {"must": [{"key": "geo", "geo_radius": {"center": center, "radius": float(radius)}}]}, [{"geo": point}]
        )
    assert _verdicts(
        {"must": [{"key": "geo", "geo_radius": {"center": center, "radius": distance}}]}, [{"geo": point}]
    ) == [False]


# ------------------------------------------------------------------------------------------------
# Validation up front


def test_min_count_below_one_matches_local_message() -> None:
    bad = {"min_should": {"conditions": [{"has_id": [1]}], "min_count": 0}}
    with pytest.raises(ValueError) as reference:
        validate_filter(qm.Filter.model_validate(bad))
    with pytest.raises(InvalidInput) as ours:
        compile_filter(bad)
    assert str(ours.value) == str(reference.value) == "min_count value 0 is invalid. Must be 1 or larger."
    nested = {"must": [{"nested": {"key": "arr", "filter": bad}}]}
    with pytest.raises(InvalidInput, match="min_count value 0"):
        compile_filter(nested)


@pytest.mark.parametrize("total, index", [(0, 0), (-1, 0), (3, 3), (3, -1)])
def test_slice_bounds_match_local_messages(total: int, index: int) -> None:
    bad = {"must": [{"slice": {"total": total, "index": index}}]}
    with pytest.raises(ValueError) as reference:
        validate_filter(qm.Filter.model_validate(bad))
    with pytest.raises(InvalidInput) as ours:
        compile_filter(bad)
    assert str(ours.value) == str(reference.value)


@pytest.mark.parametrize(
    "bad",
    [
        {"must": [{"key": "a..b", "match": {"value": 1}}]},
        {"must": [{"is_empty": {"key": "a["}}]},
        {"should": [{"nested": {"key": "arr", "filter": {"must": [{"key": "[0]", "is_null": True}]}}}]},
        {"must": [{"nested": {"key": "a..b", "filter": {}}}]},
        {"min_should": {"conditions": [{"key": "x.", "range": {"gt": 1}}], "min_count": 1}},
    ],
)
def test_bad_paths_anywhere_in_the_tree(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidPath, match="^Invalid path$"):
        compile_filter(bad)


@pytest.mark.parametrize(
    "bad",
    [
        {"must": [{"unknown": 1}]},
        {"must": [{"key": "a", "match": {"value": 1}, "extra": 2}]},
        {"must": [{"key": "a", "match": {"value": 1.5}}]},
        {"must": [{"key": "a", "match": {"value": None, "any": None}}]},
        {"must": [{"key": "a", "match": {"value": 1, "any": [1]}}]},
        {"must": [{"key": "a", "match": {"any": [1, "x"]}}]},
        {"must": [{"key": "a", "match": {"any": [True]}}]},
        {"must": [{"key": "a", "match": {"except": "abc"}}]},
        {"must": [{"key": "a", "match": {"text": 5}}]},
        {"must": [{"key": "a", "range": {"gt": "not a date"}}]},
        {"must": [{"key": "a", "range": {"gt": True}}]},
        {"must": [{"key": "a", "values_count": {"gt": 1.5}}]},
        {"must": [{"key": "a", "geo_radius": {"center": {"lat": 1}, "radius": 5}}]},
        {"must": [{"key": "a", "geo_polygon": {"exterior": {"points": []}}}]},
        {"must": [{"has_vector": 5}]},
        {"must": [{"slice": {"total": 2.0, "index": 0}}]},
        {"must": ["text"]},
        {"must": [None]},
        {"must": 5},
        {"min_should": {"conditions": [], "min_count": "1"}},
        {"must": [{"key": 5, "match": {"value": 1}}]},
    ],
)
def test_invalid_shapes_are_rejected(bad: dict[str, Any]) -> None:
    with pytest.raises(InvalidInput):
        compile_filter(bad)


@pytest.mark.parametrize("bad_id", ["not-a-uuid", -1, 2**64, 1.5, True])
def test_bad_has_id_is_rejected(bad_id: Any) -> None:
    # Deviation: local mode lets an invalid id match nothing; the server rejects the request.
    with pytest.raises(InvalidPointId):
        compile_filter({"must": [{"has_id": [1, bad_id]}]})


def test_has_id_normalises_uuid_spellings() -> None:
    canonical = UUID_IDS[0]
    target = Target([(canonical, {}, set()), (5, {}, set())], free_every=0)
    for spelling in (canonical, canonical.replace("-", ""), canonical.upper(), uuid.UUID(canonical)):
        mask = filter_mask(compile_filter({"must": [{"has_id": [spelling]}]}), target, target.live)
        assert mask.tolist() == [True, False]


def test_none_filter_and_trivial_filters() -> None:
    target = Target([(1, {}, set()), (2, {"a": 1}, set())])
    assert compile_filter(None) is None
    assert filter_mask(None, target, target.live).tolist() == target.live.tolist()
    for trivial in ({}, {"must": []}, qm.Filter(), our_models.Filter()):
        compiled = compile_filter(trivial)
        assert compiled is not None and compiled.is_trivial
        assert filter_mask(compiled, target, target.live).tolist() == target.live.tolist()


def test_bare_condition_is_a_must_filter() -> None:
    target = Target([(1, {"a": 1}, set()), (2, {"a": 2}, set())], free_every=0)
    mask = filter_mask(compile_filter(qm.FieldCondition(key="a", match=qm.MatchValue(value=1))), target, target.live)
    assert mask.tolist() == [True, False]


@pytest.mark.parametrize("clause", ["must", "should", "must_not"])
def test_field_condition_without_condition_is_rejected(clause: str) -> None:
    # Deviation (issue 8 item 12): local mode lets it match nothing; the server rejects the request.
    with pytest.raises(InvalidInput, match="At least one field condition must be specified"):
        compile_filter({clause: [{"key": "a"}]})
    with pytest.raises(InvalidInput, match="At least one field condition must be specified"):
        compile_filter({"must": [{"nested": {"key": "n", "filter": {clause: [{"key": "a"}]}}}]})


# ------------------------------------------------------------------------------------------------
# Evaluation contracts: candidates only, short-circuiting, the index seam


class Forbidden(dict):  # type: ignore[type-arg]
    """A payload that fails the test if any condition reads it."""

    def get(self, *args: Any) -> Any:
        raise AssertionError("payload of a non-candidate slot was read")

    def __contains__(self, key: object) -> bool:
        raise AssertionError("payload of a non-candidate slot was read")

    def __getitem__(self, key: Any) -> Any:
        raise AssertionError("payload of a non-candidate slot was read")


def test_conditions_only_read_candidate_slots() -> None:
    target = Target(
        [(1, {"a": 1, "arr": [{"x": 1}]}, set()), (2, Forbidden(a=1), set()), (3, {"a": 2}, set())], free_every=0
    )
    candidates = np.array([True, False, True])
    rest = {
        "must": [
            {"key": "a", "range": {"gte": 1}},
            {"nested": {"key": "arr", "filter": {"must": {"key": "x", "match": {"value": 1}}}}},
        ],
        "should": [{"key": "a", "match": {"any": [1, 2]}}],
        "must_not": [{"is_empty": {"key": "a"}}],
        "min_should": {"conditions": [{"key": "a", "values_count": {"gte": 1}}], "min_count": 1},
    }
    assert filter_mask(compile_filter(rest), target, candidates).tolist() == [True, False, False]
    # Later must conditions only see slots that survived earlier ones (has_id runs first).
    narrowed = {"must": [{"key": "a", "match": {"value": 1}}, {"has_id": [1]}]}
    assert filter_mask(compile_filter(narrowed), target, target.live).tolist() == [True, False, False]


def test_field_nodes_expose_the_index_seam() -> None:
    compiled = compile_filter(
        {"must": [{"key": "city", "match": {"any": ["Oslo", "Bergen"]}}, {"key": "n", "values_count": {"gt": 1}}]}
    )
    assert compiled is not None
    root = compiled.root
    assert isinstance(root, FilterNode)
    by_kind = {node.kind: node for node in root.must if isinstance(node, FieldNode)}
    any_node, count_node = by_kind["match_any"], by_kind["values_count"]
    assert any_node.key == "city" and any_node.path == ("city",) and any_node.flat
    assert any_node.value_test is not None and any_node.value_test("Oslo") and not any_node.value_test("oslo")
    assert any_node.matches(["x", "Bergen"]) and not any_node.matches([])
    assert count_node.value_test is None and not count_node.flat
    assert count_node.matches([[1, 2]]) and not count_node.matches([5])


def test_a_large_target_gets_the_exact_mask() -> None:
    """20,000 points through the vectorised paths (speed is measured in benchmarks/, not here)."""
    n = 20_000
    points = [
        (i, {"n": i % 100, "city": ["Oslo", "Bergen", "Paris"][i % 3], "tags": ["a", "b"]}, {""}) for i in range(n)
    ]
    target = Target(points, free_every=0)
    compiled = compile_filter(
        {
            "must": [{"key": "n", "range": {"gte": 10, "lt": 50}}, {"key": "city", "match": {"value": "Oslo"}}],
            "must_not": [{"has_id": [30, 31]}],
        }
    )
    mask = filter_mask(compiled, target, target.live)
    expected = [(10 <= i % 100 < 50) and i % 3 == 0 and i not in (30, 31) for i in range(n)]
    assert mask.tolist() == expected
