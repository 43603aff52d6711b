"""Fusion of prefetch results: Reciprocal Rank Fusion and Distribution-Based Score Fusion.

Both work on ranked lists of ``(point_id, score)`` and return the fused list best first. Arithmetic
and tie order are qdrant-client's (``hybrid/fusion.py``): Python floats, a stable sort, so equal
fused scores keep the order in which their points were first seen across the sources.
"""

from __future__ import annotations

from typing import Any, Sequence

from ..errors import InvalidInput

__all__ = ["DEFAULT_RRF_K", "reciprocal_rank_fusion", "distribution_based_score_fusion"]

# qdrant-client's default ranking constant for RRF.
DEFAULT_RRF_K = 2

Ranked = Sequence[tuple[Any, float]]


def reciprocal_rank_fusion(
    responses: Sequence[Ranked],
    limit: int,
    k: int | None = None,
    weights: Sequence[float] | None = None,
) -> list[tuple[Any, float]]:
    """RRF: each point scores ``sum over sources of 1 / ((rank + 1) / weight + k - 1)``.

    A weight at or below zero contributes 0. ``weights`` must have one entry per source.
    """
    if weights is not None and len(weights) != len(responses):
        raise InvalidInput("Length of weights must match the number of responses in RRF")
    constant = k if k is not None else DEFAULT_RRF_K

    scores: dict[Any, float] = {}
    for source, response in enumerate(responses):
        weight = weights[source] if weights is not None else 1.0
        for rank, (point_id, _) in enumerate(response):
            contribution = 0.0 if weight <= 0 else 1 / ((rank + 1.0) / weight + constant - 1.0)
            scores[point_id] = scores[point_id] + contribution if point_id in scores else contribution
    ranked = sorted(scores.items(), key=lambda item: item[1], reverse=True)
    return ranked[:limit]


def _normalize(response: Ranked) -> list[tuple[Any, float]]:
    """Scale a source's scores by mean +- 3 standard deviations (sample variance) to about [0, 1]."""
    if len(response) == 1:
        return [(response[0][0], 0.5)]
    scores = [score for _, score in response]
    mean = sum(scores) / len(scores)
    variance = sum([(score - mean) ** 2 for score in scores]) / (len(scores) - 1)
    if variance == 0:
        return [(point_id, 0.5) for point_id, _ in response]
    std_dev = variance**0.5
    low = mean - 3 * std_dev
    high = mean + 3 * std_dev
    return [(point_id, (score - low) / (high - low)) for point_id, score in response]


def distribution_based_score_fusion(responses: Sequence[Ranked], limit: int) -> list[tuple[Any, float]]:
    """DBSF: normalise each non-empty source, then sum a point's normalised scores."""
    fused: dict[Any, float] = {}
    for response in responses:
        if not response:
            continue
        for point_id, score in _normalize(response):
            fused[point_id] = fused[point_id] + score if point_id in fused else score
    ranked = sorted(fused.items(), key=lambda item: item[1], reverse=True)
    return ranked[:limit]
