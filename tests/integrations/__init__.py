"""Integration tests: qdrant-client's installed mode, the pytest plugin and the frameworks built on qdrant-client."""
