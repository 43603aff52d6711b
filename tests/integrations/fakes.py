"""Deterministic fake embeddings for the framework tests: no model, no download, stable across runs.

A text's dense embedding is the normalised sum of one fixed pseudo-random vector per word, so texts that
share words are near each other and rankings are meaningful; its sparse embedding sums a fixed weight per hashed word.
"""

from __future__ import annotations

import hashlib
import math
import random
import re

DIM = 32
SPARSE_BUCKETS = 1000

TEXTS = [
    "the quick brown fox jumps over the lazy dog",
    "a lazy cat sleeps in the warm sun",
    "qdrant stores vectors and payloads for search",
    "python lists and dicts are the basic containers",
    "the brown bear eats fish from the cold river",
    "vector search finds the nearest neighbours of a query",
    "an old fox and a young dog play in the garden",
    "payload filters narrow a search to matching points",
    "the sun rises over the cold mountain river",
    "dense and sparse vectors combine in hybrid search",
    "a cat and a dog share the garden in the sun",
    "containers of python objects live in memory",
]
QUERIES = ["lazy dog in the sun", "hybrid vector search", "cold river fish"]


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]+", text.lower())


def _seed(word: str) -> int:
    return int.from_bytes(hashlib.sha256(word.encode()).digest()[:8], "little")


def dense(text: str) -> list[float]:
    total = [0.0] * DIM
    for word in _words(text) or ["<empty>"]:
        rng = random.Random(_seed(word))
        for i in range(DIM):
            total[i] += rng.gauss(0.0, 1.0)
    norm = math.sqrt(sum(x * x for x in total)) or 1.0
    return [x / norm for x in total]


def sparse(text: str) -> tuple[list[int], list[float]]:
    counts: dict[int, float] = {}
    # A factor per text keeps two texts that share only one word from tying (tie order is unspecified).
    scale = 1.0 + _seed(text) % 1000 / 1e4
    for word in _words(text):
        seed = _seed(word)
        index = seed % SPARSE_BUCKETS
        weight = 0.5 + (seed >> 20) % 997 / 997  # a weight per word, so scores rarely tie
        counts[index] = counts.get(index, 0.0) + weight * scale
    indices = sorted(counts)
    return indices, [counts[i] for i in indices]
