"""with_payload selectors: which part of a payload a read returns, always as the caller's own copy.

Semantics follow qdrant-client 1.20.0 local mode (``LocalCollection._process_payload``): a list of
paths or ``PayloadSelectorInclude`` keeps those paths, ``PayloadSelectorExclude`` drops them, ``True``
returns everything, ``False`` nothing (None) and ``[]`` an empty dict.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ..errors import InvalidInput
from ..models import _generated as m
from .paths import WILDCARD, parse_path
from .payload import copy_payload

__all__ = ["PayloadSelector", "compile_payload_selector", "select_payload"]

# A selector tree maps an object key (str) or an array index (int, which selects nothing, as in core)
# or None (``[]``, every element) to a subtree, or to True for "everything below".
_Tree = dict[Any, Any]


@dataclasses.dataclass(frozen=True)
class PayloadSelector:
    """A compiled ``with_payload``: ``mode`` is "none", "all", "include" or "exclude"."""

    mode: str
    tree: _Tree = dataclasses.field(default_factory=dict, compare=False)
    keys: tuple[str, ...] = ()


_NONE = PayloadSelector("none")
_ALL = PayloadSelector("all")


def compile_payload_selector(with_payload: Any) -> PayloadSelector:
    """Validate and compile a ``with_payload`` argument converted by ``models.convert.to_with_payload``.

    Accepts ``True``/``False``/``None``, a list (or tuple) of key paths and our
    ``PayloadSelectorInclude`` / ``PayloadSelectorExclude``; anything else (a bare str too) raises
    InvalidInput with qdrant-client's message, a bad path ``InvalidPath``.
    """
    if with_payload is None or with_payload is False:
        return _NONE
    if with_payload is True:
        return _ALL
    if isinstance(with_payload, str):
        raise InvalidInput(
            f"with_payload must be a bool, a list of payload keys or a PayloadSelector, got a str: {with_payload!r}"
        )
    if isinstance(with_payload, m.PayloadSelectorExclude):
        keys = _selector_keys(with_payload.exclude)
        return PayloadSelector("exclude", _selector_tree(keys), keys)
    if isinstance(with_payload, m.PayloadSelectorInclude):
        keys = _selector_keys(with_payload.include)
        return PayloadSelector("include", _selector_tree(keys), keys)
    if isinstance(with_payload, (list, tuple)):
        keys = _selector_keys(list(with_payload))
        return PayloadSelector("include", _selector_tree(keys), keys)
    raise InvalidInput(
        "with_payload must be a bool, a list of payload keys or a PayloadSelector, "
        f"got a {type(with_payload).__name__}: {with_payload!r}"
    )


def _selector_keys(keys: Any) -> tuple[str, ...]:
    if isinstance(keys, str) or not isinstance(keys, (list, tuple)):
        raise InvalidInput(f"Payload selector keys must be a list of strings, got {keys!r}")
    for key in keys:
        parse_path(key)  # raises InvalidPath / InvalidInput
    return tuple(keys)


def _selector_tree(keys: tuple[str, ...]) -> _Tree:
    """Merge selector paths into a prefix tree (payload_value_extractor._selector_tree)."""
    tree: _Tree = {}
    for key in keys:
        parts = [None if item is WILDCARD else item for item in parse_path(key)]
        *parents, last = parts
        node: Any = tree
        for part in parents:
            node = node.setdefault(part, {})
            if node is True:  # a shorter path already selects everything below
                break
        else:
            node[last] = True
    return tree


def select_payload(payload: dict[str, Any] | None, selector: PayloadSelector) -> dict[str, Any] | None:
    """The part of ``payload`` a selector returns, as the caller's own copy (None for "none")."""
    mode = selector.mode
    if mode == "none":
        return None
    if payload is None:
        payload = {}
    if mode == "all":
        return copy_payload(payload)
    if mode == "include":
        return _include(payload, selector.tree)
    return _exclude(payload, selector.tree)


def _include(value: Any, tree: _Tree) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key not in tree:
                continue
            subtree = tree[key]
            result[key] = copy_payload(item) if subtree is True else _include(item, subtree)
        return result
    if isinstance(value, list):
        # only `[]` applies to array elements; `a[0]` selects nothing, as in core
        if None not in tree:
            return []
        subtree = tree[None]
        if subtree is True:
            return copy_payload(value)
        return [_include(item, subtree) for item in value]
    return value


def _exclude(value: Any, tree: _Tree) -> Any:
    if isinstance(value, dict):
        result = {}
        for key, item in value.items():
            if key not in tree:
                result[key] = copy_payload(item)
            elif tree[key] is not True:
                result[key] = _exclude(item, tree[key])
        return result
    if isinstance(value, list):
        if None not in tree:
            return copy_payload(value)
        subtree = tree[None]
        if subtree is True:
            return []
        return [_exclude(item, subtree) for item in value]
    return value
