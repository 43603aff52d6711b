"""Text queries: BM25 over the tokens of a payload field with a scoring text index.

As in qdrant-client's local mode (``local/bm25.py``): the field must carry a text index created with
``scoring`` and the default word tokenization; the corpus is every live point holding at least one
token in the field, whatever the filter; a query term counts once; document lengths keep their 13
leading bits, like the server's; scores are reported in float32.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from .. import models
from ..engine.text import tokenize
from ..errors import InvalidInput, NotSupported

__all__ = ["DEFAULT_K1", "DEFAULT_B", "text_query_params", "document_tokens", "bm25_scores"]

DEFAULT_K1 = 1.2
DEFAULT_B = 0.75
DOC_LEN_BITS = 13


def _has_default_tokenization(params: dict[str, Any]) -> bool:
    """Index params are plain JSON (converted when the index was created)."""
    stemmer = params.get("stemmer")
    return (
        _or_default(params.get("tokenizer"), "word") == "word"
        and _or_default(params.get("lowercase"), True) is True
        and not params.get("ascii_folding")
        and params.get("stopwords") is None
        and (stemmer is None or (isinstance(stemmer, dict) and stemmer.get("type")) == "none")
        and params.get("min_token_len") is None
        and params.get("max_token_len") is None
        and params.get("nested") is None
    )


def _or_default(value: Any, default: Any) -> Any:
    return default if value is None else value


def scoring_index(payload_schema: dict[str, Any], field_name: str) -> dict[str, Any] | None:
    """The text index params (plain JSON) of ``field_name`` if it is a text index with ``scoring``, else None."""
    schema = payload_schema.get(field_name)
    if not isinstance(schema, dict) or schema.get("type") != "text" or not schema.get("scoring"):
        return None
    return schema


def text_query_params(
    query: models.TextQuery, field_name: str | None, payload_schema: dict[str, Any], idf_corpus: Any
) -> tuple[str, float, float]:
    """(text, k1, b) of a valid text query (qdrant-client's ``_text_query_params``)."""
    if field_name is None:
        raise InvalidInput("A text query needs `using` to name the payload field to search")
    params = scoring_index(payload_schema, field_name)
    if params is None:
        raise InvalidInput(f"A text query needs a text index with `scoring` on `{field_name}`")
    if not _has_default_tokenization(params):
        raise NotSupported(
            "Text queries in the local Qdrant only support text indexes with the default"
            " tokenization. Please use server Qdrant if you need other text index params."
        )
    if idf_corpus is not None:
        raise NotSupported(
            "IDF corpus is not supported for text queries in the local Qdrant. Please use server Qdrant if you need it."
        )
    text = query.text  # converted by models.convert.to_text_query
    if isinstance(text, str):
        return text, DEFAULT_K1, DEFAULT_B
    bm25 = text.scoring.bm25 if text.scoring is not None else None
    k1 = _or_default(bm25.k, DEFAULT_K1) if bm25 is not None else DEFAULT_K1
    b = _or_default(bm25.b, DEFAULT_B) if bm25 is not None else DEFAULT_B
    if k1 < 0:
        raise InvalidInput(f"BM25 k value {k1} is invalid. Must be 0.0 or larger.")
    if not 0 <= b <= 1:
        raise InvalidInput(f"BM25 b value {b} is invalid. Must be from 0.0 to 1.0.")
    return text.query, k1, b


def document_tokens(values: list[Any]) -> list[str]:
    """Tokens of every string value (other values hold none)."""
    return [token for value in values if isinstance(value, str) for token in tokenize(value)]


def _round_doc_len(length: int) -> int:
    lost_bits = max(length.bit_length() - DOC_LEN_BITS, 0)
    step = 2**lost_bits
    return length // step * step


def bm25_scores(documents: dict[int, list[str]], query: str, k1: float, b: float) -> dict[int, float]:
    """BM25 score of every document (slot -> tokens) holding at least one query term."""
    terms = set(tokenize(query))
    if not terms or not documents:
        return {}
    frequencies = {slot: Counter(tokens) for slot, tokens in documents.items()}
    lengths = {slot: _round_doc_len(len(tokens)) for slot, tokens in documents.items()}
    num_docs = len(documents)
    avg_doc_len = sum(lengths.values()) / num_docs
    idf = {}
    for term in terms:
        df = sum(1 for frequency in frequencies.values() if term in frequency)
        idf[term] = math.log((num_docs - df + 0.5) / (df + 0.5) + 1)
    scores = {}
    for slot, frequency in frequencies.items():
        norm = k1 * (1 - b + b * lengths[slot] / avg_doc_len)
        score = 0.0
        for term in terms:  # the set's order, as qdrant-client sums it
            tf = frequency[term]
            if tf > 0:
                score += idf[term] * tf * (k1 + 1) / (tf + norm)
        if score > 0:
            scores[slot] = score
    return scores
