"""Hypothesis strategies shared by the engine tests: JSON payloads and key paths.

Payloads draw keys from a small alphabet so that generated paths and filters actually hit them,
and values from the shapes filters care about: ints that equal floats and bools (1, 1.0, True),
strings that are words, datetimes or UUIDs, geo points, nested objects and arrays of objects.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

KEYS = ["a", "b", "c", "n", "s", "arr", "geo", "dt", "x.y"]
WORDS = ["hello", "world", "Hello", "foo", "bar", "foo_bar", "wor", "a", "", "Oslo", "1"]
DATETIMES = [
    "2024-01-02T03:04:05Z",
    "2024-01-02 03:04:05",
    "2024-01-02",
    "2024-01-02T03:04:05.123456789+01:00",
    "2024-01-02T03:04",
    "2023-12-31T23:59:59z",
    "2024-01-02 03:04:05 UTC",
    "2024-01-02T03:04:05+01",
    "not a date",
    "2024-13-02",
]
UUIDS = [
    "12345678-1234-5678-1234-567812345678",
    "12345678123456781234567812345678",
    "{12345678-1234-5678-1234-567812345678}",
]

ints = st.one_of(st.integers(-3, 3), st.sampled_from([10, 100, 2**53 + 1, -(2**63)]))
floats = st.one_of(
    st.sampled_from([0.0, -0.0, 1.0, 2.0, 0.5, -1.5, 1e300]),
    st.floats(-200, 200, allow_nan=False, allow_infinity=False),
)
strings = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(DATETIMES),
    st.sampled_from(UUIDS),
    st.lists(st.sampled_from(WORDS[:6]), max_size=4).map(" ".join),
    st.text(alphabet="ab _-.", max_size=4),
)
geo_points = st.builds(
    lambda lat, lon: {"lat": lat, "lon": lon},
    st.floats(-90, 90, allow_nan=False),
    st.floats(-180, 180, allow_nan=False),
)
scalars = st.one_of(st.none(), st.booleans(), ints, floats, strings)

json_values = st.recursive(
    st.one_of(scalars, geo_points),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.sampled_from(KEYS), children, max_size=4),
    ),
    max_leaves=12,
)

payloads = st.dictionaries(st.sampled_from(KEYS), json_values, max_size=6)


def render_path(items: list[Any]) -> str:
    """Path items (str key, int index, None for ``[]``) as a key string; keys with dots are quoted."""
    text = ""
    for item in items:
        if isinstance(item, str):
            part = f'"{item}"' if "." in item else item
            text += part if not text else "." + part
        elif item is None:
            text += "[]"
        else:
            text += f"[{item}]"
    return text


@st.composite
def key_paths(draw: st.DrawFn, max_depth: int = 3) -> str:
    """A valid key path over KEYS: keys, each optionally followed by ``[]`` / ``[N]`` items."""
    items: list[Any] = []
    for _ in range(draw(st.integers(1, max_depth))):
        items.append(draw(st.sampled_from(KEYS)))
        for _ in range(draw(st.integers(0, 2))):
            items.append(draw(st.sampled_from([None, 0, 1, 2])))
    return render_path(items)
