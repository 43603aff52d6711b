"""The formula language against qdrant-client's ``hybrid/formula.py``: random expression trees over
random payloads must give the same value or the same error message."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from qdrant_client.http import models as qm
from qdrant_client.hybrid import formula as qf
from qdrant_client.local.payload_filters import check_condition

from qdrant_local.errors import InvalidInput
from qdrant_local.models import Filter
from qdrant_local.models.convert_query import to_expression
from qdrant_local.query import formula

KEYS = ["a", "b", "nested.c", "lst", "geo", "when", "missing"]

payload_st = st.fixed_dictionaries(
    {},
    optional={
        "a": st.integers(-5, 5) | st.floats(-3, 3) | st.booleans() | st.text(max_size=2),
        "b": st.floats(-100, 100),
        "nested": st.fixed_dictionaries({"c": st.integers(-3, 3)}),
        "lst": st.lists(st.integers(-2, 2), max_size=2),
        "geo": st.fixed_dictionaries({"lat": st.floats(-80, 80), "lon": st.floats(-170, 170)}),
        "when": st.sampled_from(["2024-01-02T03:04:05Z", "2023-05-06", "not a date"]),
    },
)


def _field_condition(kv: tuple) -> qm.FieldCondition:
    return qm.FieldCondition(key=kv[0], match=qm.MatchValue(value=kv[1]))


def _decay_params(t: tuple) -> qm.DecayParamsExpression:
    return qm.DecayParamsExpression(x=t[0], target=t[1], midpoint=t[2], scale=t[3])


def _div(t: tuple) -> qm.DivExpression:
    return qm.DivExpression(div=qm.DivParams(left=t[0], right=t[1], by_zero_default=t[2]))


def _pow(t: tuple) -> qm.PowExpression:
    return qm.PowExpression(pow=qm.PowParams(base=t[0], exponent=t[1]))


def _wrap(cls: type, name: str):
    def build(value):
        return cls(**{name: value})

    build.__name__ = f"{cls.__name__}({name}=...)"
    return build


leaf_st = st.one_of(
    st.integers(-3, 3),
    st.floats(-4, 4, allow_nan=False),
    st.sampled_from(["$score", "$score[0]", "$score[1]", "$score[2]"] + KEYS),
    st.tuples(st.sampled_from(["a", "nested.c"]), st.integers(-2, 2)).map(_field_condition),
    st.just(qm.DatetimeExpression(datetime="2024-01-01T00:00:00Z")),
    st.just(qm.DatetimeKeyExpression(datetime_key="when")),
    st.just(qm.GeoDistance(geo_distance=qm.GeoDistanceParams(origin=qm.GeoPoint(lat=10.0, lon=20.0), to="geo"))),
)


def extend(children: st.SearchStrategy) -> st.SearchStrategy:
    many = st.lists(children, min_size=1, max_size=3)
    decay = st.tuples(
        children, st.none() | children, st.none() | st.floats(0.05, 0.95), st.none() | st.floats(0.1, 5)
    ).map(_decay_params)
    return st.one_of(
        many.map(_wrap(qm.SumExpression, "sum")),
        many.map(_wrap(qm.MultExpression, "mult")),
        many.map(_wrap(qm.MaxExpression, "max")),
        many.map(_wrap(qm.MinExpression, "min")),
        children.map(_wrap(qm.NegExpression, "neg")),
        children.map(_wrap(qm.AbsExpression, "abs")),
        children.map(_wrap(qm.SqrtExpression, "sqrt")),
        children.map(_wrap(qm.ExpExpression, "exp")),
        children.map(_wrap(qm.LnExpression, "ln")),
        children.map(_wrap(qm.Log10Expression, "log10")),
        st.tuples(children, children, st.none() | st.floats(-1, 1)).map(_div),
        st.tuples(children, children).map(_pow),
        decay.map(_wrap(qm.LinDecayExpression, "lin_decay")),
        decay.map(_wrap(qm.ExpDecayExpression, "exp_decay")),
        decay.map(_wrap(qm.GaussDecayExpression, "gauss_decay")),
    )


expression_st = st.recursive(leaf_st, extend, max_leaves=8)


def _oracle_filter(condition: Filter) -> qm.Filter:
    """A converted condition (our Filter) as qdrant-client's model, for its ``check_condition``."""
    return qm.Filter.model_validate(condition.model_dump(by_alias=True, exclude_none=True))


def outcome(call):
    try:
        value = call()
    except ValueError as error:
        return ("error", str(error))
    return ("value", value)


@settings(max_examples=200, derandomize=True)
@given(
    expression=expression_st,
    payload=payload_st,
    scores=st.lists(st.dictionaries(st.integers(1, 2), st.floats(-2, 2), max_size=2), max_size=2),
    defaults=st.dictionaries(
        st.sampled_from(["$score", "$score[1]", "missing", "geo", "b"]),
        st.integers(-1, 1) | st.floats(-1, 1),
        max_size=2,
    ),
)
def test_evaluate_matches_oracle(expression, payload, scores, defaults) -> None:
    point_id = 1
    expected = outcome(
        lambda: qf.evaluate_expression(expression, point_id, scores, payload, {}, qf.parse_defaults(defaults))
    )
    point = formula.FormulaPoint(
        point_id, payload, scores, lambda condition: check_condition(_oracle_filter(condition), payload, point_id, {})
    )
    converted = to_expression(expression)
    got = outcome(lambda: formula.evaluate(converted, point, formula.parse_defaults(defaults)))
    if expected[0] == "value" and got[0] == "value" and isinstance(expected[1], float) and math.isnan(expected[1]):
        assert math.isnan(got[1])
        return
    if expected[0] == "error" and "validation error" in expected[1]:
        # qdrant-client fails in pydantic on a bad geo point; we raise our own ValueError.
        assert got[0] == "error"
        return
    assert got == expected


@pytest.mark.parametrize(
    "expression, message",
    [
        (qm.MaxExpression(max=[]), "`max` needs at least one operand"),
        ("$score[x]", "Invalid score pattern: $score[x]"),
        ("$score[1", "Invalid score pattern: $score[1"),
        (qm.DatetimeExpression(datetime="yesterday"), "Expected datetime in supported format for yesterday"),
        (qm.LinDecayExpression(lin_decay=qm.DecayParamsExpression(x=1.0, midpoint=1.5)), "Linear decay midpoint"),
        (
            qm.ExpDecayExpression(exp_decay=qm.DecayParamsExpression(x=1.0, scale=0.0)),
            "Scale must be non-zero positive",
        ),
        ("a..b", "Invalid path"),
    ],
)
def test_validation_matches_oracle(expression, message: str) -> None:
    with pytest.raises(
        ValueError, match=message.replace("[", r"\[").replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")
    ):
        qf.validate_expression(expression)
    with pytest.raises(
        InvalidInput, match=message.replace("[", r"\[").replace("$", r"\$").replace("(", r"\(").replace(")", r"\)")
    ):
        formula.validate_expression(to_expression(expression), lambda condition: None)


def test_dict_expressions() -> None:
    point = formula.FormulaPoint(7, {"x": 2}, [{7: 0.5}], lambda condition: True)
    expression = {"sum": ["$score", {"mult": [{"key": "x", "match": {"value": 2}}, "x"]}, {"neg": 1}]}
    assert formula.evaluate(to_expression(expression), point, {}) == 0.5 + 1.0 * 2 - 1
