"""The formula (score boosting) expression language, as qdrant-client's ``hybrid/formula.py`` runs it.

An expression is a number, a variable (``"$score"``, ``"$score[i]"`` or a payload key), a filter
condition (1.0 when it holds, else 0.0), or an operator object: sum, mult, max, min, neg, abs, div,
sqrt, pow, exp, log10, ln, acosh, geo_distance, datetime, datetime_key and the lin/exp/gauss
decays. Expressions arrive converted into our models (``models.convert_query.to_expression``, at the
facade); the kind is told by the class, and anything else is rejected with its type.

Evaluation is per point (formula queries rescore the few prefetched candidates), in Python floats,
with qdrant-client's short cuts (a zero factor ends a product, a zero numerator a division) and its
error messages. Conditions are answered by a callback, so the collection can evaluate each distinct
condition once as a vectorised mask.
"""

from __future__ import annotations

import math
from typing import Any, Callable, Sequence, TypeGuard

from ..engine.datetimes import parse_datetime
from ..engine.geo import geo_distance
from ..engine.paths import extract_values, parse_path
from ..errors import InvalidInput
from ..models import _generated as m
from ..models.convert_query import UnreadableCondition

__all__ = ["FormulaPoint", "validate_expression", "parse_defaults", "evaluate", "non_finite_error", "expression_kind"]

DEFAULT_SCORE = 0.0
DEFAULT_DECAY_TARGET = 0.0
DEFAULT_DECAY_MIDPOINT = 0.5
DEFAULT_DECAY_SCALE = 1.0

_KINDS: dict[type, str] = {
    m.MultExpression: "mult",
    m.SumExpression: "sum",
    m.MaxExpression: "max",
    m.MinExpression: "min",
    m.NegExpression: "neg",
    m.AbsExpression: "abs",
    m.DivExpression: "div",
    m.SqrtExpression: "sqrt",
    m.PowExpression: "pow",
    m.ExpExpression: "exp",
    m.Log10Expression: "log10",
    m.LnExpression: "ln",
    m.AcoshExpression: "acosh",
    m.GeoDistance: "geo_distance",
    m.DatetimeExpression: "datetime",
    m.DatetimeKeyExpression: "datetime_key",
    m.LinDecayExpression: "lin_decay",
    m.ExpDecayExpression: "exp_decay",
    m.GaussDecayExpression: "gauss_decay",
    m.Filter: "condition",
    UnreadableCondition: "condition",
}


def expression_kind(expression: Any) -> str:
    """ "const", "variable", "condition" or the operator name of a converted expression."""
    if isinstance(expression, (int, float)):
        return "const"
    if isinstance(expression, str):
        return "variable"
    kind = _KINDS.get(type(expression))
    if kind is None:
        raise InvalidInput(f"Unsupported expression type: {type(expression)}")
    return kind


def _or_default(value: Any, default: float) -> Any:
    return default if value is None else value


class FormulaPoint:
    """What an expression may read of one point: its id, payload, prefetch scores and conditions."""

    __slots__ = ("point_id", "payload", "scores", "condition")

    def __init__(
        self,
        point_id: Any,
        payload: dict[str, Any],
        scores: Sequence[dict[Any, float]],
        condition: Callable[[Any], bool],
    ) -> None:
        self.point_id = point_id
        self.payload = payload
        self.scores = scores
        self.condition = condition


# -- validation (before any point is scored) ------------------------------------------------------


def validate_expression(expression: Any, validate_condition: Callable[[Any], object]) -> None:
    """Reject what core refuses while parsing the formula; ``validate_condition`` checks a filter
    condition the way a filter is checked."""
    kind = expression_kind(expression)
    nested: list[Any]
    if kind == "const":
        nested = []
    elif kind == "variable":
        variable = parse_variable(expression)
        if isinstance(variable, str):
            parse_path(variable)
        nested = []
    elif kind == "condition":
        if type(expression) is UnreadableCondition:
            raise expression.error
        validate_condition(expression)
        nested = []
    elif kind == "datetime":
        parse_datetime_constant(expression.datetime)
        nested = []
    elif kind == "datetime_key":
        parse_path(expression.datetime_key)
        nested = []
    elif kind == "geo_distance":
        parse_path(expression.geo_distance.to)
        nested = []
    elif kind in ("max", "min"):
        operands = list(getattr(expression, kind))
        if len(operands) == 0:
            raise InvalidInput(f"`{kind}` needs at least one operand")
        nested = operands
    elif kind in ("mult", "sum"):
        nested = list(getattr(expression, kind))
    elif kind in ("neg", "abs", "sqrt", "exp", "log10", "ln", "acosh"):
        nested = [getattr(expression, kind)]
    elif kind == "div":
        nested = [expression.div.left, expression.div.right]
    elif kind == "pow":
        nested = [expression.pow.base, expression.pow.exponent]
    else:  # the decays
        params = getattr(expression, kind)
        _validate_decay(params, linear=kind == "lin_decay")
        nested = [params.x, params.target]
    for inner in nested:
        if inner is not None:  # a decay's target is optional
            validate_expression(inner, validate_condition)


def _validate_decay(params: Any, linear: bool) -> None:
    midpoint = _or_default(params.midpoint, DEFAULT_DECAY_MIDPOINT)
    if linear:
        if not 0.0 <= midpoint <= 1.0:
            raise InvalidInput(f"Linear decay midpoint should be in the range [0.0, 1.0], got {midpoint}")
    elif midpoint <= 0.0 or midpoint >= 1.0:
        raise InvalidInput(f"Decay midpoint should be in the range (0.0, 1.0), got {midpoint}")
    scale = _or_default(params.scale, DEFAULT_DECAY_SCALE)
    if scale <= 0.0:
        raise InvalidInput(f"Scale must be non-zero positive, got {scale}")


def parse_defaults(defaults: dict[str, Any] | None) -> dict[str, Any]:
    """Core parses default keys like variables, so ``$score`` and ``$score[0]`` share a default."""
    parsed: dict[str, Any] = {}
    for key, value in (defaults or {}).items():
        variable = parse_variable(key)
        parsed[_score_default_key(variable) if isinstance(variable, int) else key] = value
    return parsed


def _score_default_key(index: int) -> str:
    return f"$score[{index}]"


def parse_variable(variable: str) -> str | int:
    """A score index for ``$score`` / ``$score[i]``, else the payload key itself."""
    if not variable.startswith("$score"):
        return variable
    remaining = variable.replace("$score", "", 1)
    if remaining == "":
        return 0
    if not remaining.startswith("["):
        raise InvalidInput(f"Invalid score pattern: {variable}")
    remaining = remaining.replace("[", "", 1)
    bracket_end = remaining.find("]")
    if bracket_end == -1:
        raise InvalidInput(f"Invalid score pattern: {variable}")
    raw_index = remaining[:bracket_end]
    # core reads the index as a usize; int() would also take signs, underscores and spaces
    if not (raw_index.isascii() and raw_index.isdigit()):
        raise InvalidInput(f"Invalid score pattern: {variable}")
    if len(remaining) > bracket_end + 1:
        raise InvalidInput(f"Invalid score pattern: {variable}")
    return int(raw_index)


def parse_datetime_constant(value: Any) -> Any:
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(f"Expected datetime in supported format for {value}")
    return parsed


def non_finite_error(expression: str) -> InvalidInput:
    return InvalidInput(f"The expression {expression} produced a non-finite number")


# -- evaluation -----------------------------------------------------------------------------------


def evaluate(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    """The value of ``expression`` for one point (qdrant-client's ``evaluate_expression``)."""
    kind = expression_kind(expression)
    evaluator = _EVALUATORS.get(kind)
    if evaluator is None:  # the decay functions
        return _evaluate_decay(kind, getattr(expression, kind), point, defaults)
    return evaluator(expression, point, defaults)


Evaluator = Callable[[Any, FormulaPoint, dict[str, Any]], float]


def _operand(kind: str, expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    """The value of the single operand of a unary operator."""
    return evaluate(getattr(expression, kind), point, defaults)


def _mult(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    factors: list[float] = []
    for inner in expression.mult:
        factor = evaluate(inner, point, defaults)
        if factor == 0.0:  # a zero factor ends the product, skipping what follows
            return factor
        factors.append(factor)
    return math.prod(factors)


def _max(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    maximum = -math.inf
    for inner in expression.max:  # core folds: NaN operands are skipped
        maximum = max(maximum, evaluate(inner, point, defaults))
    return maximum


def _min(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    minimum = math.inf
    for inner in expression.min:
        minimum = min(minimum, evaluate(inner, point, defaults))
    return minimum


def _sqrt(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    value = _operand("sqrt", expression, point, defaults)
    if value >= 0:
        return math.sqrt(value)
    raise non_finite_error(f"√{value}")


def _exp(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    value = _operand("exp", expression, point, defaults)
    try:
        return math.exp(value)
    except OverflowError:
        raise non_finite_error(f"exp({value})") from None


def _logarithm(kind: str) -> Evaluator:
    def logarithm(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
        value = _operand(kind, expression, point, defaults)
        if value > 0:
            try:
                return math.log10(value) if kind == "log10" else math.log(value)
            except OverflowError:
                pass
        raise non_finite_error(f"{kind}({value})")

    return logarithm


def _acosh(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    value = _operand("acosh", expression, point, defaults)
    if value >= 1:
        try:
            result = math.acosh(value)
        except OverflowError:
            pass
        else:
            if math.isfinite(result):
                return result
    raise non_finite_error(f"acosh({value})")


def _datetime_key(expression: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    key = expression.datetime_key
    value = _payload_value(key, point.payload, defaults)
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise InvalidInput(f"Expected datetime for {key} in the payload and/or in the formula defaults.")
    return float(parsed.timestamp())


# Every expression kind but the decay functions (which share _evaluate_decay).
_EVALUATORS: dict[str, Evaluator] = {
    "const": lambda expression, point, defaults: float(expression),
    "variable": lambda expression, point, defaults: _evaluate_variable(expression, point, defaults),
    "condition": lambda expression, point, defaults: 1.0 if point.condition(expression) else 0.0,
    "mult": _mult,
    "sum": lambda expression, point, defaults: sum(evaluate(inner, point, defaults) for inner in expression.sum),
    "max": _max,
    "min": _min,
    "neg": lambda expression, point, defaults: -_operand("neg", expression, point, defaults),
    "abs": lambda expression, point, defaults: abs(_operand("abs", expression, point, defaults)),
    "div": lambda expression, point, defaults: _evaluate_div(expression.div, point, defaults),
    "sqrt": _sqrt,
    "pow": lambda expression, point, defaults: _evaluate_pow(expression.pow, point, defaults),
    "exp": _exp,
    "log10": _logarithm("log10"),
    "ln": _logarithm("ln"),
    "acosh": _acosh,
    "geo_distance": lambda expression, point, defaults: _evaluate_geo_distance(
        expression.geo_distance, point, defaults
    ),
    "datetime": lambda expression, point, defaults: float(parse_datetime_constant(expression.datetime).timestamp()),
    "datetime_key": _datetime_key,
}


def _evaluate_variable(variable: str, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    parsed = parse_variable(variable)
    if isinstance(parsed, str):
        value = _payload_value(parsed, point.payload, defaults)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return value
        raise InvalidInput(
            f"Expected number value for {parsed} in the payload and/or in the formula defaults. "
            "Error: Value is not a number"
        )
    if parsed < len(point.scores):
        score = point.scores[parsed].get(point.point_id)
        if score is not None:
            return score
    default = defaults.get(_score_default_key(parsed))
    if default is not None:
        return default
    return DEFAULT_SCORE


def _payload_value(key: str, payload: dict[str, Any], defaults: dict[str, Any]) -> Any:
    """One value of ``key`` from the payload, else from the defaults (qdrant-client's
    ``try_extract_payload_value``): a one-element list becomes its element."""
    value: Any = extract_values(payload, key)
    if len(value) == 0:
        value = defaults.get(key)
        if isinstance(value, list) and len(value) == 0:
            value = None
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    if value is None:
        raise InvalidInput(f"No value found for {key} in the payload nor the formula defaults")
    return value


def _evaluate_div(params: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    left = evaluate(params.left, point, defaults)
    if left == 0.0:
        return left
    right = evaluate(params.right, point, defaults)
    if right == 0.0:
        by_zero_default = params.by_zero_default
        if by_zero_default is not None:
            return by_zero_default
        raise non_finite_error(f"{left}/{right}")
    result = left / right
    if math.isfinite(result):
        return result
    raise non_finite_error(f"{left}/{right}")


def _evaluate_pow(params: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    base = evaluate(params.base, point, defaults)
    exponent = evaluate(params.exponent, point, defaults)
    try:
        # OverflowError: too large for a float. ValueError: undefined (negative base, fractional exponent).
        result = math.pow(base, exponent)
    except (OverflowError, ValueError):
        pass
    else:
        if math.isfinite(result):
            return result
    raise non_finite_error(f"{base}^{exponent}")


def _evaluate_geo_distance(params: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    origin = params.origin
    to = params.to
    value = _payload_value(to, point.payload, defaults)
    if isinstance(value, dict):
        lon, lat = value.get("lon"), value.get("lat")
        if _is_coordinate(lon) and _is_coordinate(lat) and -90 <= lat <= 90 and -180 <= lon <= 180:
            return geo_distance(origin.lon, origin.lat, lon, lat)
        # qdrant-client builds a GeoPoint here, and pydantic rejects the value
        raise InvalidInput(f"Invalid geo point for {to}: {value!r}")
    raise InvalidInput(f"Expected geo point for {to} in the payload and/or in the formula defaults.")


def _is_coordinate(value: Any) -> TypeGuard[float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _evaluate_decay(kind: str, params: Any, point: FormulaPoint, defaults: dict[str, Any]) -> float:
    x = evaluate(params.x, point, defaults)
    target_expression = params.target
    target = DEFAULT_DECAY_TARGET if target_expression is None else evaluate(target_expression, point, defaults)
    midpoint = _or_default(params.midpoint, DEFAULT_DECAY_MIDPOINT)
    scale = _or_default(params.scale, DEFAULT_DECAY_SCALE)
    if kind == "lin_decay":
        lambda_factor = (1.0 - midpoint) / scale
        return max(0.0, -lambda_factor * abs(x - target) + 1.0)
    if kind == "exp_decay":
        lambda_factor = math.log(midpoint) / scale
        return math.exp(lambda_factor * abs(x - target))
    if kind == "gauss_decay":
        lambda_factor = math.log(midpoint) / (scale * scale)
        diff = x - target
        return math.exp(lambda_factor * diff * diff)
    raise InvalidInput(f"Unsupported expression type: {kind}")
