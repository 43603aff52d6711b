"""Moving collections in and out of qdrant_local: the export format, copies between clients
(``migrate``, ``pull``, ``client.migrate``), collection archives (snapshots) and the import of a
folder written by qdrant-client's local mode.

Nothing here is imported by ``import qdrant_local``; qdrant-client and tqdm are imported only by the
functions that need them.
"""
