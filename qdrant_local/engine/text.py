"""Full-text predicates for fields without a text index: text, text_any, phrase, prefix, substring.

Local mode (and the server on an unindexed field) tokenizes both sides with the default word
tokenizer: runs of ``[^\\W_]+``, lowercased. ``text`` needs every query token as a whole document
token in any order, ``text_any`` one of them, ``phrase`` all of them consecutively; an empty query
never matches. ``prefix`` and ``substring`` are case-sensitive string tests. Non-strings never match.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Callable

__all__ = [
    "tokenize",
    "text_predicate",
    "text_any_predicate",
    "phrase_predicate",
    "prefix_predicate",
    "substring_predicate",
]

_WORD = re.compile(r"[^\W_]+")


@lru_cache(maxsize=16384)
def tokenize(text: str) -> tuple[str, ...]:
    """The default word tokenizer's tokens of ``text``, in order (cached: documents repeat)."""
    return tuple(token.lower() for token in _WORD.findall(text))


@lru_cache(maxsize=16384)
def _token_set(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


def _never(value: Any) -> bool:
    return False


def text_predicate(query: str) -> Callable[[Any], bool]:
    """Test one payload value: a string holding every query token."""
    wanted = frozenset(tokenize(query))
    if not wanted:
        return _never

    def has_all_tokens(value: Any) -> bool:
        return isinstance(value, str) and wanted <= _token_set(value)

    return has_all_tokens


def text_any_predicate(query: str) -> Callable[[Any], bool]:
    """Test one payload value: a string holding at least one query token."""
    wanted = frozenset(tokenize(query))
    if not wanted:
        return _never

    def has_any_token(value: Any) -> bool:
        return isinstance(value, str) and not wanted.isdisjoint(_token_set(value))

    return has_any_token


def phrase_predicate(phrase: str) -> Callable[[Any], bool]:
    """Test one payload value: a string whose tokens contain the phrase's tokens consecutively."""
    wanted = tokenize(phrase)
    if not wanted:
        return _never
    size = len(wanted)
    first = wanted[0]

    def has_phrase(value: Any) -> bool:
        if not isinstance(value, str):
            return False
        tokens = tokenize(value)
        for start in range(len(tokens) - size + 1):
            if tokens[start] == first and tokens[start : start + size] == wanted:
                return True
        return False

    return has_phrase


def prefix_predicate(prefix: str) -> Callable[[Any], bool]:
    """Test one payload value: a string starting with ``prefix`` (case-sensitive)."""

    def has_prefix(value: Any) -> bool:
        return isinstance(value, str) and value.startswith(prefix)

    return has_prefix


def substring_predicate(substring: str) -> Callable[[Any], bool]:
    """Test one payload value: a string containing ``substring`` (case-sensitive)."""

    def has_substring(value: Any) -> bool:
        return isinstance(value, str) and substring in value

    return has_substring
