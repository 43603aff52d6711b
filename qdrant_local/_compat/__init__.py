"""Bridges to qdrant-client itself: converting our results to its models, and its local mode's engine slot.

Everything here imports ``qdrant_client``; nothing in the rest of the package imports this subpackage at
module level, so ``import qdrant_local`` stays free of qdrant-client and pydantic.
"""
