"""The query side of qdrant_local: scoring, ranking and the query API.

``scoring`` (dense distances and top-k selection), ``sparse`` (inverted index, IDF), ``multi``
(MAX_SIM multivectors), ``recommend`` (recommend / discover / context / relevance feedback),
``fusion`` (RRF, DBSF), ``mmr`` and ``formula`` are pure numpy and know nothing about collections;
``api`` binds them to the engine and exposes qdrant_client's query methods.
"""

from __future__ import annotations
