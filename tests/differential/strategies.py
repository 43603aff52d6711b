"""Hypothesis strategies for the differential tests: ids, vectors, payloads, filters, operations.

Everything is produced as :mod:`specs` trees, so one drawn request can be sent to the oracle as
qdrant_client models and to the subject in any input form.

Values come from small vocabularies on purpose: payloads and filters share keys, cities, words,
numbers and dates, so filters actually select something and ids collide (upsert over an existing
point, delete then re-add). Rare big values (ids near 2**63, i64 payload ints, arbitrary unicode)
are mixed in to hit the edges.

Inputs on which qdrant_local deliberately deviates from local mode are never generated here
(negative / >= 2**64 / bool / float ids, NaN or inf, writes naming a missing point, batches that fail
part-way); tests/api/test_bad_input_writes.py covers them.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from .specs import Call, Enum

# --------------------------------------------------------------------------------------------
# Collections
# --------------------------------------------------------------------------------------------

DISTANCES = ("COSINE", "DOT", "EUCLID", "MANHATTAN")


@dataclass(frozen=True)
class CollectionKind:
    """A collection layout: which vectors exist, their sizes and distances."""

    label: str
    # vector name -> (size, distance member); "" is the single unnamed vector
    dense: dict[str, tuple[int, str]] = field(default_factory=dict)
    sparse: tuple[str, ...] = ()
    multi: dict[str, tuple[int, str]] = field(default_factory=dict)
    # sparse vector names that use the IDF modifier
    idf: tuple[str, ...] = ()

    @property
    def unnamed(self) -> bool:
        """True when the collection has the single unnamed dense vector only."""
        return list(self.dense) == [""] and not self.sparse and not self.multi

    @property
    def vector_names(self) -> list[str]:
        """Every vector name of the collection ("" for the unnamed one)."""
        return [*self.dense, *self.sparse, *self.multi]

    def create_kwargs(self) -> dict[str, Any]:
        """create_collection keyword arguments (as specs)."""

        def params(size: int, distance: str, multi: bool) -> Call:
            return Call(
                "VectorParams",
                size=size,
                distance=Enum("Distance", distance),
                multivector_config=(
                    Call("MultiVectorConfig", comparator=Enum("MultiVectorComparator", "MAX_SIM")) if multi else None
                ),
            )

        kwargs: dict[str, Any] = {}
        if self.unnamed:
            size, distance = self.dense[""]
            kwargs["vectors_config"] = params(size, distance, False)
        else:
            vectors = {n: params(s, d, False) for n, (s, d) in self.dense.items()}
            vectors.update({n: params(s, d, True) for n, (s, d) in self.multi.items()})
            kwargs["vectors_config"] = vectors
        if self.sparse:
            kwargs["sparse_vectors_config"] = {
                name: Call(
                    "SparseVectorParams",
                    modifier=Enum("Modifier", "IDF") if name in self.idf else None,
                )
                for name in self.sparse
            }
        return kwargs


COLLECTION_KINDS: dict[str, CollectionKind] = {
    **{f"single_{d.lower()}": CollectionKind(f"single_{d.lower()}", dense={"": (4, d)}) for d in DISTANCES},
    "named": CollectionKind(
        "named",
        dense={"a": (3, "COSINE"), "b": (2, "EUCLID"), "c": (4, "DOT"), "d": (2, "MANHATTAN")},
    ),
    "sparse": CollectionKind("sparse", sparse=("s", "t"), idf=("t",)),
    "multi": CollectionKind("multi", dense={"d": (2, "DOT")}, multi={"m": (2, "COSINE"), "n": (3, "EUCLID")}),
}

collection_kinds = st.sampled_from(list(COLLECTION_KINDS.values()))

# --------------------------------------------------------------------------------------------
# Point ids
# --------------------------------------------------------------------------------------------

# A fixed pool, so that draws collide: the same point is upserted, updated and deleted again.
UUID_POOL = [uuid.UUID(int=(i * 0x9E3779B97F4A7C15_F39CC0605CEDC834) % 2**128) for i in range(1, 7)]


def uuid_spellings(value: uuid.UUID) -> st.SearchStrategy[Any]:
    """Every spelling of a UUID that local mode accepts and normalises to the same point."""
    return st.sampled_from(
        [
            str(value),
            str(value).upper(),
            value.hex,
            "{" + str(value) + "}",
            "urn:uuid:" + str(value),
            value,
        ]
    )


small_int_ids = st.integers(0, 40)
big_int_ids = st.sampled_from([2**63 - 1, 2**62, 2**32, 2**31 - 1, 10**15]) | st.integers(0, 2**63 - 1)
uuid_ids = st.sampled_from(UUID_POOL).flatmap(uuid_spellings)
point_ids = st.one_of(small_int_ids, small_int_ids, uuid_ids, big_int_ids)


def canonical_id(point_id: Any) -> int | str:
    """The id local mode stores for a spelling."""
    if isinstance(point_id, int):
        return point_id
    return str(uuid.UUID(str(point_id)))


# --------------------------------------------------------------------------------------------
# Vectors
# --------------------------------------------------------------------------------------------

# Mostly a coarse grid (exact in float32, easy to read in a failure), sometimes any float.
# Subnormals are left out: Cosine normalisation near float32 EPSILON is a tie-breaking
# question, not a behaviour worth comparing.
vector_floats = st.one_of(
    st.integers(-8, 8).map(lambda i: i / 2.0),
    st.floats(-10, 10, allow_nan=False, allow_subnormal=False, width=32).filter(lambda x: x == 0.0 or abs(x) > 1e-3),
)


def dense_vectors(size: int) -> st.SearchStrategy[list[float]]:
    """A dense vector of the given size."""
    return st.lists(vector_floats, min_size=size, max_size=size)


def multivectors(size: int) -> st.SearchStrategy[list[list[float]]]:
    """A multivector: 1..3 rows of the given size."""
    return st.lists(dense_vectors(size), min_size=1, max_size=3)


@st.composite
def sparse_vectors(draw: st.DrawFn) -> Call:
    """A sparse vector with unique indices in a small range (so dot products overlap)."""
    indices = draw(st.lists(st.integers(0, 12) | st.integers(0, 2**32 - 1), unique=True, max_size=5))
    values = draw(st.lists(vector_floats, min_size=len(indices), max_size=len(indices)))
    return Call("SparseVector", indices=indices, values=values)


def named_vector(kind: CollectionKind, name: str) -> st.SearchStrategy[Any]:
    """A vector for one name of the collection."""
    if name in kind.dense:
        return dense_vectors(kind.dense[name][0])
    if name in kind.multi:
        return multivectors(kind.multi[name][0])
    return sparse_vectors()


@st.composite
def vector_structs(draw: st.DrawFn, kind: CollectionKind, allow_empty: bool = True) -> Any:
    """A point's vector field: a bare list for the unnamed vector, else a dict of some names."""
    if kind.unnamed:
        if allow_empty and draw(st.integers(0, 9)) == 0:
            return {}
        return draw(named_vector(kind, ""))
    names = draw(st.lists(st.sampled_from(kind.vector_names), unique=True, min_size=0 if allow_empty else 1))
    return {name: draw(named_vector(kind, name)) for name in names}


# --------------------------------------------------------------------------------------------
# Payloads
# --------------------------------------------------------------------------------------------

CITIES = ["Oslo", "Paris", "oslo", "Berlin", "", "São Paulo", "1"]
WORDS = ["hello", "world", "foo", "bar", "Hello", "qdrant", "baz", "ü", "b2b"]
SEPARATORS = [" ", ", ", "-", "_", "! ", "  "]

# Text that is not in any vocabulary: no surrogates (they are not valid UTF-8, and JSON
# payloads must be).
free_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)

small_ints = st.integers(-3, 3)
i64 = st.integers(-(2**63), 2**63 - 1)
payload_floats = st.one_of(
    st.sampled_from([0.5, -1.5, 2.0, 0.0, -0.0, 1e300, 3.0]),
    st.floats(allow_nan=False, allow_infinity=False),
)
cities = st.sampled_from(CITIES)
words = st.sampled_from(WORDS)


@st.composite
def sentences(draw: st.DrawFn, max_words: int = 5) -> str:
    """Words from the vocabulary joined by assorted separators (tokenizer food)."""
    parts = draw(st.lists(words, max_size=max_words))
    out = ""
    for i, part in enumerate(parts):
        out += (draw(st.sampled_from(SEPARATORS)) if i else "") + part
    return out


short_sentences = sentences(max_words=2)


# Points near a few places (see PLACES below) so that geo filters hit some of them, plus the
# poles and the anti-meridian.
@st.composite
def geo_points(draw: st.DrawFn) -> dict[str, float]:
    """A payload geo point {lat, lon}."""
    if draw(st.integers(0, 5)) == 0:
        return {"lat": draw(st.sampled_from([-90.0, 90.0, 0.0])), "lon": draw(st.sampled_from([-180.0, 180.0, 0.0]))}
    lat, lon = draw(st.sampled_from(PLACES))
    jitter = draw(st.sampled_from([0.0, 0.005, 0.3, 1.5, 8.0]))
    lat = max(-90.0, min(90.0, lat + draw(st.floats(-jitter, jitter))))
    lon = (lon + draw(st.floats(-jitter, jitter)) + 180.0) % 360.0 - 180.0
    return {"lat": lat, "lon": lon}


# Places geo points and geo filters cluster around (lat, lon).
PLACES = [(59.91, 10.75), (48.85, 2.35), (52.52, 13.4), (0.0, 179.9), (55.0, 10.0)]

# Datetimes in the core formats, plus malformed ones that must simply never match.
_BASE = dt.datetime(2021, 6, 1, tzinfo=dt.timezone.utc)
datetimes = st.builds(lambda minutes: _BASE + dt.timedelta(minutes=minutes), st.integers(-2 * 10**6, 2 * 10**6))
DATETIME_FORMATS = [
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"),
    lambda d: d.strftime("%Y-%m-%d"),
    lambda d: d.strftime("%Y-%m-%d %H:%M:%S"),
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S.123456+01:00"),
    lambda d: d.strftime("%Y-%m-%dT%H:%M:%S"),
    lambda d: d.isoformat(),
]
valid_datetime_strings = st.builds(lambda d, f: f(d), datetimes, st.sampled_from(DATETIME_FORMATS))
datetime_strings = st.one_of(valid_datetime_strings, st.sampled_from(["not a date", "2021-13-01", ""]))

json_scalars = st.one_of(st.none(), st.booleans(), small_ints, i64, payload_floats, cities, words, free_text)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(free_text, inner, max_size=3),
    max_leaves=8,
)


def _either(*strategies: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(*strategies)


payloads = st.fixed_dictionaries(
    {},
    optional={
        "city": _either(cities, st.lists(cities, max_size=3), small_ints, st.none()),
        "n": _either(
            small_ints,
            payload_floats,
            st.booleans(),
            st.lists(small_ints, max_size=3),
            st.none(),
            st.just("1"),
        ),
        "f": payload_floats,
        "flag": _either(st.booleans(), st.none(), st.lists(st.booleans(), max_size=2)),
        "text": _either(sentences(), st.lists(sentences(), max_size=2), small_ints),
        "tags": st.lists(_either(cities, words, small_ints, st.none()), max_size=4),
        "geo": _either(geo_points(), st.lists(geo_points(), max_size=2), st.just({"lat": "x", "lon": 1})),
        "dt": _either(datetime_strings, st.lists(datetime_strings, max_size=2), small_ints),
        "obj": _either(
            st.fixed_dictionaries(
                {},
                optional={
                    "x": small_ints,
                    "y": cities,
                    "z": json_values,
                    "deep": st.fixed_dictionaries({}, optional={"k": small_ints}),
                },
            ),
            json_scalars,
        ),
        "arr": _either(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "x": small_ints,
                        "y": _either(small_ints, cities),
                        "sub": st.lists(st.fixed_dictionaries({"z": small_ints}), max_size=2),
                    },
                ),
                max_size=3,
            ),
            json_scalars,
        ),
        "misc": json_values,
        "u": st.sampled_from(UUID_POOL).map(str),
        "a.b": small_ints,  # a key with a dot: only reachable as '"a.b"'
    },
)

# --------------------------------------------------------------------------------------------
# Payload key paths
# --------------------------------------------------------------------------------------------

FILTER_KEYS = [
    "city",
    "n",
    "f",
    "flag",
    "text",
    "tags",
    "tags[]",
    "geo",
    "dt",
    "obj",
    "obj.x",
    "obj.y",
    "obj.deep.k",
    "obj.z",
    "arr",
    "arr[].x",
    "arr[].y",
    "arr[].sub[].z",
    "arr[0].x",
    "misc",
    "u",
    "missing",
    '"a.b"',
    "obj.deep",
]
filter_keys = st.sampled_from(FILTER_KEYS)

# Paths for set_payload(key=...) and delete_payload(keys=[...]).
WRITE_KEYS = [
    "obj",
    "obj.deep",
    "new",
    "new.deep",
    "arr[]",
    "arr[0]",
    "arr[1]",
    "city",
    "n",
    "obj.x",
    "tags[]",
    "tags[0]",
    "misc",
    '"a.b"',
    "arr[].sub",
]
write_keys = st.sampled_from(WRITE_KEYS)

# with_payload selectors (paths as in the include/exclude lists)
PAYLOAD_PATHS = ["city", "obj.x", "obj", "arr[].x", "arr[].y", '"a.b"', "missing", "tags", "n"]


# --------------------------------------------------------------------------------------------
# Filters
# --------------------------------------------------------------------------------------------

match_values = st.one_of(cities, small_ints, st.booleans(), words)
any_lists = st.one_of(st.lists(cities | words, max_size=3), st.lists(small_ints, max_size=3))
range_values = st.one_of(small_ints, small_ints, st.sampled_from([0.5, -0.5, 1.0, 2.5]), payload_floats)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """None two times out of three: conditions with fewer bounds select more points."""
    return st.one_of(st.none(), st.none(), strategy)


def _datetime_bounds() -> st.SearchStrategy[Any]:
    naive_or_aware = st.builds(lambda d, naive: d.replace(tzinfo=None) if naive else d, datetimes, st.booleans())
    return _optional(st.one_of(naive_or_aware, datetimes.map(lambda d: d.date())))


@st.composite
def matches(draw: st.DrawFn) -> Call:
    """One of the match kinds."""
    kind = draw(st.sampled_from(["value", "any", "except", "text", "text_any", "phrase", "prefix", "substring"]))
    if kind == "value":
        return Call("MatchValue", value=draw(match_values))
    if kind == "any":
        return Call("MatchAny", any=draw(any_lists))
    if kind == "except":
        return Call("MatchExcept", except_=draw(any_lists))
    if kind == "text":
        return Call("MatchText", text=draw(short_sentences))
    if kind == "text_any":
        return Call("MatchTextAny", text_any=draw(sentences()))
    if kind == "phrase":
        return Call("MatchPhrase", phrase=draw(short_sentences))
    if kind == "prefix":
        return Call("MatchPrefix", prefix=draw(st.sampled_from(["O", "Os", "", "P", "h", "S"])))
    return Call("MatchSubstring", substring=draw(st.sampled_from(["sl", "o", "", "ar", "ã"])))


def _geo_point(lat: float, lon: float) -> Call:
    return Call("GeoPoint", lat=lat, lon=lon)


places = st.sampled_from(PLACES)
offsets = st.sampled_from([0.01, 0.5, 2.0, 10.0, 30.0])


@st.composite
def geo_conditions(draw: st.DrawFn, key: str) -> Call:
    """geo_bounding_box / geo_radius / geo_polygon on a key, around one of the PLACES."""
    kind = draw(st.sampled_from(["bbox", "radius", "polygon"]))
    lat, lon = draw(places)
    if kind == "bbox":
        top, bottom = min(lat + draw(offsets), 90.0), max(lat - draw(offsets), -90.0)
        left, right = lon - draw(offsets), lon + draw(offsets)
        # wrap into [-180, 180]: a box around 179.9 then has left > right (crosses the
        # anti-meridian)
        left, right = ((x + 180.0) % 360.0 - 180.0 for x in (left, right))
        return Call(
            "FieldCondition",
            key=key,
            geo_bounding_box=Call(
                "GeoBoundingBox", top_left=_geo_point(top, left), bottom_right=_geo_point(bottom, right)
            ),
        )
    if kind == "radius":
        return Call(
            "FieldCondition",
            key=key,
            geo_radius=Call(
                "GeoRadius",
                center=_geo_point(lat + draw(st.floats(-1, 1)), lon),
                radius=draw(st.sampled_from([1.0, 1000.0, 5e4, 5e5, 2e6, 3e7])),
            ),
        )
    h, w = draw(offsets), draw(offsets)
    lat0, lon0 = max(lat - h, -89.0), max(lon - w, -179.0)
    lat1, lon1 = min(lat + h, 89.0), min(lon + w, 179.0)
    ring = [(lat0, lon0), (lat1, lon0), (lat1, lon1), (lat0, lon1), (lat0, lon0)]
    exterior = Call("GeoLineString", points=[_geo_point(a, b) for a, b in ring])
    interiors = None
    if draw(st.booleans()):
        # a hole around the place itself, so the place falls out of the polygon
        e = draw(st.sampled_from([0.001, 0.1]))
        hole = [(lat - e, lon - e), (lat + e, lon - e), (lat + e, lon + e), (lat - e, lon - e)]
        interiors = [Call("GeoLineString", points=[_geo_point(a, b) for a, b in hole])]
    return Call(
        "FieldCondition",
        key=key,
        geo_polygon=Call("GeoPolygon", exterior=exterior, interiors=interiors),
    )


# The keys each condition kind is most often aimed at; one time in five any key is used.
KEYS_BY_KIND = {
    "match": ["city", "n", "tags", "flag", "obj.y", "arr[].y", "text", "tags[]", "u", "obj.x"],
    "text": ["text", "city", "tags", "misc"],
    "range": ["n", "f", "obj.x", "arr[].x", "arr[].sub[].z", "tags", "obj.deep.k"],
    "datetime": ["dt"],
    "geo": ["geo"],
    "values_count": ["city", "n", "tags", "arr", "obj", "arr[].x", "flag"],
    "is_empty": ["city", "n", "tags", "arr", "obj", "flag", "missing", "arr[].x", "obj.deep.k"],
}


@st.composite
def field_conditions(draw: st.DrawFn, keys: st.SearchStrategy[str] | None = None) -> Call:
    """A FieldCondition (or is_empty / is_null condition) of any kind."""
    kind = draw(
        st.sampled_from(
            [
                "match",
                "match",
                "range",
                "datetime",
                "geo",
                "values_count",
                "is_empty",
                "is_null",
                "is_empty_flag",
                "is_null_flag",
            ]
        )
    )
    if keys is not None:
        key = draw(keys)
    else:
        family = {"is_null": "is_empty", "is_empty_flag": "is_empty", "is_null_flag": "is_empty"}
        preferred = KEYS_BY_KIND[family.get(kind, kind)]
        key = draw(st.sampled_from(preferred) if draw(st.integers(0, 4)) else filter_keys)
    if kind == "match":
        match = draw(matches())
        if keys is None and match.name in ("MatchText", "MatchTextAny", "MatchPhrase"):
            key = draw(st.sampled_from(KEYS_BY_KIND["text"]))
        return Call("FieldCondition", key=key, match=match)
    if kind == "range":
        bounds = {b: draw(_optional(range_values)) for b in ("lt", "gt", "lte", "gte")}
        return Call("FieldCondition", key=key, range=Call("Range", **bounds))
    if kind == "datetime":
        bounds = {b: draw(_datetime_bounds()) for b in ("lt", "gt", "lte", "gte")}
        return Call("FieldCondition", key=key, range=Call("DatetimeRange", **bounds))
    if kind == "geo":
        return draw(geo_conditions(key))
    if kind == "values_count":
        bounds = {b: draw(_optional(st.integers(0, 3))) for b in ("lt", "gt", "lte", "gte")}
        return Call("FieldCondition", key=key, values_count=Call("ValuesCount", **bounds))
    if kind == "is_empty":
        return Call("IsEmptyCondition", is_empty=Call("PayloadField", key=key))
    if kind == "is_null":
        return Call("IsNullCondition", is_null=Call("PayloadField", key=key))
    if kind == "is_empty_flag":
        return Call("FieldCondition", key=key, is_empty=draw(st.booleans()))
    return Call("FieldCondition", key=key, is_null=draw(st.booleans()))


def has_id_conditions() -> st.SearchStrategy[Call]:
    """HasIdCondition over ids in any spelling."""
    return st.builds(lambda ids: Call("HasIdCondition", has_id=ids), st.lists(point_ids, min_size=1, max_size=4))


def has_vector_conditions(vector_names: list[str]) -> st.SearchStrategy[Call]:
    """HasVectorCondition over the collection's vector names."""
    return st.builds(
        lambda name: Call("HasVectorCondition", has_vector=name),
        st.sampled_from(vector_names or [""]),
    )


NESTED_KEYS = ["x", "y", "sub[].z", "sub", "missing"]


@st.composite
def nested_conditions(draw: st.DrawFn) -> Call:
    """NestedCondition over the array of objects ``arr`` (or a key that is not one).

    The inner filter holds field conditions on element keys only: has_id never matches inside
    a nested filter, so it would only make the condition trivially false.
    """
    inner_keys = st.sampled_from(NESTED_KEYS)
    inner = draw(filters(depth=0, keys=inner_keys, vector_names=[], max_conditions=2, with_ids=False))
    key = draw(st.sampled_from(["arr", "arr[]", "arr", "obj", "tags", "arr[].sub"]))
    return Call("NestedCondition", nested=Call("Nested", key=key, filter=inner))


@st.composite
def conditions(
    draw: st.DrawFn,
    depth: int,
    keys: st.SearchStrategy[str] | None,
    vector_names: list[str],
    with_ids: bool = True,
) -> Call:
    """Any condition; at depth > 0 also nested conditions and nested filters.

    The kind is drawn explicitly with weights: left to ``st.one_of``, hypothesis favours the
    recursive branches and most filters end up selecting nothing.
    """
    kinds = ["field"] * 6
    if with_ids:
        kinds.append("has_id")
    if vector_names:
        kinds.append("has_vector")
    if depth > 0:
        kinds += ["nested", "filter"]
    kind = kinds[draw(st.integers(0, len(kinds) - 1))]
    if kind == "field":
        return draw(field_conditions(keys))
    if kind == "has_id":
        return draw(has_id_conditions())
    if kind == "has_vector":
        return draw(has_vector_conditions(vector_names))
    if kind == "nested":
        return draw(nested_conditions())
    return draw(filters(depth=depth - 1, keys=keys, vector_names=vector_names))


def _clause(
    depth: int,
    keys: st.SearchStrategy[str] | None,
    vector_names: list[str],
    max_conditions: int,
    with_ids: bool,
) -> st.SearchStrategy[Any]:
    """A must/should/must_not value: None, a list (possibly empty) or one bare condition."""
    cond = conditions(depth, keys, vector_names, with_ids)
    return st.one_of(st.none(), st.none(), st.none(), st.lists(cond, max_size=max_conditions), cond)


@st.composite
def filters(
    draw: st.DrawFn,
    depth: int = 2,
    keys: st.SearchStrategy[str] | None = None,
    vector_names: list[str] | None = None,
    max_conditions: int = 3,
    with_ids: bool = True,
) -> Call:
    """A Filter tree: must/should/must_not/min_should over every condition kind."""
    names = vector_names if vector_names is not None else []
    min_should = None
    if draw(st.integers(0, 4)) == 0:
        conds = draw(st.lists(conditions(depth, keys, names, with_ids), min_size=1, max_size=3))
        min_should = Call("MinShould", conditions=conds, min_count=draw(st.integers(1, len(conds) + 1)))
    return Call(
        "Filter",
        must=draw(_clause(depth, keys, names, max_conditions, with_ids)),
        should=draw(_clause(depth, keys, names, max_conditions, with_ids)),
        must_not=draw(_clause(depth, keys, names, max_conditions, with_ids)),
        min_should=min_should,
    )


# --------------------------------------------------------------------------------------------
# Read options
# --------------------------------------------------------------------------------------------

with_payloads = st.one_of(
    st.booleans(),
    st.lists(st.sampled_from(PAYLOAD_PATHS), max_size=3),
    st.lists(st.sampled_from(PAYLOAD_PATHS), max_size=3).map(lambda keys: Call("PayloadSelectorInclude", include=keys)),
    st.lists(st.sampled_from(PAYLOAD_PATHS), max_size=3).map(lambda keys: Call("PayloadSelectorExclude", exclude=keys)),
)


# Inputs that hit a qdrant_local bug already pinned by a test in test_regressions.py; the
# generators step around them so that hypothesis keeps looking for new ones. Remove an entry
# once the bug is fixed.
AVOID: set[str] = set()


def with_vectors_options(kind: CollectionKind) -> st.SearchStrategy[Any]:
    """with_vectors: a bool or a list of names (unknown names included)."""
    names = [*kind.vector_names, "zz"]
    if "with_vectors_unnamed_list" in AVOID and kind.unnamed:
        names.remove("")
    return st.one_of(st.booleans(), st.lists(st.sampled_from(names), max_size=3))


ORDER_KEYS = ["n", "f", "dt", "obj.x", "arr[].x", "tags", "city", "missing"]


@st.composite
def order_bys(draw: st.DrawFn) -> Any:
    """order_by as a bare key or an OrderBy with direction and start_from."""
    key = draw(st.sampled_from(ORDER_KEYS))
    if draw(st.booleans()):
        return key
    start_from = draw(
        st.one_of(
            st.none(), small_ints, payload_floats.filter(lambda x: abs(x) < 10), valid_datetime_strings, datetimes
        )
    )
    return Call(
        "OrderBy",
        key=key,
        direction=draw(st.none() | st.sampled_from([Enum("Direction", "ASC"), Enum("Direction", "DESC")])),
        start_from=start_from,
    )


# --------------------------------------------------------------------------------------------
# Points and write operations
# --------------------------------------------------------------------------------------------


@st.composite
def point_structs(draw: st.DrawFn, kind: CollectionKind, ids: st.SearchStrategy[Any] = point_ids) -> Call:
    """A PointStruct for the collection kind (payload sometimes absent)."""
    return Call(
        "PointStruct",
        id=draw(ids),
        vector=draw(vector_structs(kind)),
        payload=draw(st.none() | payloads),
    )


def _dedupe_ids(points: list[Call]) -> list[Call]:
    # Two spellings of one id in a single upsert: local mode keeps the last one, a batch
    # model would too; keeping only distinct canonical ids keeps the test about one thing.
    seen: set[Any] = set()
    out = []
    for p in points:
        cid = canonical_id(p.kwargs["id"])
        if cid not in seen:
            seen.add(cid)
            out.append(p)
    return out


@st.composite
def point_lists(draw: st.DrawFn, kind: CollectionKind, min_size: int = 1, max_size: int = 6) -> list[Call]:
    """A list of points with distinct ids."""
    pts = draw(st.lists(point_structs(kind), min_size=min_size, max_size=max_size))
    pts = _dedupe_ids(pts)
    return pts


@st.composite
def batches(draw: st.DrawFn, kind: CollectionKind) -> Call:
    """The column-wise Batch form of an upsert (every point gets every drawn vector name)."""
    pts = draw(point_lists(kind))
    ids = [p.kwargs["id"] for p in pts]
    n = len(ids)
    if kind.unnamed:
        vectors: Any = [draw(named_vector(kind, "")) for _ in range(n)]
    else:
        names = draw(st.lists(st.sampled_from(kind.vector_names), unique=True, min_size=1))
        vectors = {name: [draw(named_vector(kind, name)) for _ in range(n)] for name in names}
    payload_list = draw(st.none() | st.lists(payloads, min_size=n, max_size=n))
    return Call("Batch", ids=ids, vectors=vectors, payloads=payload_list)


def upsert_points(kind: CollectionKind) -> st.SearchStrategy[Any]:
    """The ``points`` argument of upsert: a list of PointStruct or a Batch."""
    return st.one_of(point_lists(kind), point_lists(kind), batches(kind))


def selectors(
    existing: list[Any], allow_filter: bool = True, vector_names: list[str] | None = None
) -> st.SearchStrategy[Any]:
    """A points selector naming only ``existing`` ids (in any spelling), or a filter.

    Ids come from ``existing`` because a write that names a missing point is a deliberate
    deviation (qdrant_local fails before changing anything, local mode after).
    """
    options: list[st.SearchStrategy[Any]] = []
    if existing:
        ids = st.lists(st.sampled_from(existing).flatmap(_respell), min_size=1, max_size=4)
        options.append(ids)
        options.append(ids.map(lambda p: Call("PointIdsList", points=p)))
    if allow_filter or not options:
        flt = filters(depth=1, vector_names=vector_names or [])
        options.append(flt)
        options.append(flt.map(lambda f: Call("FilterSelector", filter=f)))
    return st.one_of(*options)


def _respell(point_id: Any) -> st.SearchStrategy[Any]:
    if isinstance(point_id, str):
        return uuid_spellings(uuid.UUID(point_id))
    return st.just(point_id)


def respelled(point_id: Any) -> st.SearchStrategy[Any]:
    """Any accepted spelling of a canonical id."""
    return _respell(point_id)


set_payload_values = st.dictionaries(
    st.sampled_from(["city", "n", "obj", "x", "new", "tags", "arr", "k"]),
    json_values | cities | small_ints,
    max_size=3,
)


# --------------------------------------------------------------------------------------------
# Payload indexes (no-ops in local mode: an index must never change a filter's result)
# --------------------------------------------------------------------------------------------

INDEX_KEYS = [
    "city",
    "n",
    "f",
    "flag",
    "text",
    "tags",
    "geo",
    "dt",
    "obj.x",
    "obj.y",
    "arr[].x",
    "arr[].y",
    "u",
    "misc",
    "obj",
    "arr[].sub[].z",
    "tags[]",
]


def _schema(name: str) -> Enum:
    return Enum("PayloadSchemaType", name)


payload_schemas = st.one_of(
    st.sampled_from([_schema(n) for n in ("KEYWORD", "INTEGER", "FLOAT", "GEO", "TEXT", "BOOL", "DATETIME", "UUID")]),
    st.sampled_from(
        [
            Call("KeywordIndexParams", type=Enum("KeywordIndexType", "KEYWORD"), is_tenant=True),
            Call("IntegerIndexParams", type=Enum("IntegerIndexType", "INTEGER"), lookup=True, range=False),
            Call("IntegerIndexParams", type=Enum("IntegerIndexType", "INTEGER"), lookup=False, range=True),
            Call("FloatIndexParams", type=Enum("FloatIndexType", "FLOAT")),
            Call("TextIndexParams", type=Enum("TextIndexType", "TEXT"), tokenizer=Enum("TokenizerType", "WORD")),
            Call("DatetimeIndexParams", type=Enum("DatetimeIndexType", "DATETIME")),
            Call("GeoIndexParams", type=Enum("GeoIndexType", "GEO")),
            Call("BoolIndexParams", type=Enum("BoolIndexType", "BOOL")),
            Call("UuidIndexParams", type=Enum("UuidIndexType", "UUID")),
        ]
    ),
)

# The natural schema of each key, for datasets indexed field by field.
NATURAL_SCHEMAS = {
    "city": "KEYWORD",
    "n": "INTEGER",
    "f": "FLOAT",
    "flag": "BOOL",
    "text": "TEXT",
    "tags": "KEYWORD",
    "geo": "GEO",
    "dt": "DATETIME",
    "obj.x": "INTEGER",
    "obj.y": "KEYWORD",
    "arr[].x": "INTEGER",
    "arr[].y": "KEYWORD",
    "u": "UUID",
    "obj.deep.k": "INTEGER",
}
