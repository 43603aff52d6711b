"""Differential tests: qdrant_local against qdrant_client's local mode (the oracle)."""
