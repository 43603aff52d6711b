"""The index file: a derived copy of one vector name's merged segment, kept in the storage folder.

Layout: ``MAGIC``, a little-endian u32 header length, the msgpack header, the faiss bytes of each
graph one after the other, and a u32 CRC32 of everything before it. The header names the collection
and vector, the graph settings, the codes the graphs keep the rows in, the byte size of each graph
(a merge builds one graph per indexing thread), the point id of every fresh label of every graph in
turn (None for stale ones) and the *state tag*: the storage generation and log size the index was
current for (informative). A file is used when its checksum, names, settings and codes match the
folder just opened, even if writes followed it: the loader compares each label's codes with those of
its point's row today and treats the points deleted or changed since as stale (service.py). A damaged
or foreign file is ignored with a warning (and rebuilt); other settings or codes, or a file of an
earlier format (``OLD_MAGICS``: float32 graphs), are rebuilt quietly.
The file is written to ``<name>.tmp``, fsync'd and renamed, so a crash leaves the old file or none.
"""

from __future__ import annotations

import hashlib
import os
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import msgpack

MAGIC = b"QLHNSW02"  # 02: graphs over scalar-quantizer codes (IndexHNSWSQ)
OLD_MAGICS = (b"QLHNSW01",)  # 01: float32 graphs (IndexHNSWFlat)
SUFFIX = ".hnsw"


class OldFormat(ValueError):
    """A file of an earlier format: rebuilt without a warning."""


def index_file_name(collection: str, vector_name: str) -> str:
    """``ann-<16 hex>.hnsw``: a hash, as collection and vector names may hold any character."""
    digest = hashlib.sha1(f"{collection}\0{vector_name}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"ann-{digest}{SUFFIX}"


@dataclass
class IndexFile:
    """What an index file holds."""

    collection: str
    vector_name: str
    dim: int
    distance: str
    graph_key: tuple[int, int]
    codes: str  # the faiss ScalarQuantizer type of the graphs' rows (graph.CODES)
    tag: tuple[int, int]
    label_ids: list[Any]  # point id per label, graph after graph; None for a stale label
    graphs: list[bytes | memoryview]


def write_index_file(path: str, content: IndexFile, cancelled: Any = lambda: False) -> bool:
    """Write atomically; False (and no file) when ``cancelled()`` turned true meanwhile."""
    header = msgpack.packb(
        {
            "collection": content.collection,
            "vector": content.vector_name,
            "dim": content.dim,
            "distance": content.distance,
            "graph_key": list(content.graph_key),
            "codes": content.codes,
            "tag": list(content.tag),
            "ids": content.label_ids,
            "sizes": [len(memoryview(graph)) for graph in content.graphs],
        },
        use_bin_type=True,
    )
    tmp = path + ".tmp"
    crc = 0
    try:
        with open(tmp, "wb") as f:
            for part in (MAGIC, struct.pack("<I", len(header)), header):
                f.write(part)
                crc = zlib.crc32(part, crc)
            step = 64 << 20
            for graph in content.graphs:
                view = memoryview(graph)
                for start in range(0, len(view), step):
                    if cancelled():
                        raise InterruptedError
                    chunk = view[start : start + step]
                    f.write(chunk)
                    crc = zlib.crc32(chunk, crc)
            f.write(struct.pack("<I", crc))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        return True
    except InterruptedError:
        os.remove(tmp)
        return False


def read_index_file(path: str) -> IndexFile:
    """Read and verify a file; ValueError (with the reason) when it is damaged or not ours."""
    with open(path, "rb") as f:
        data = f.read()
    if data.startswith(OLD_MAGICS):
        raise OldFormat("an index file of an earlier format")
    if len(data) < len(MAGIC) + 8 or not data.startswith(MAGIC):
        raise ValueError("not an index file")
    (stored_crc,) = struct.unpack("<I", data[-4:])
    if zlib.crc32(memoryview(data)[:-4]) != stored_crc:
        raise ValueError("checksum mismatch")
    (header_len,) = struct.unpack("<I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    try:
        header = msgpack.unpackb(data[start : start + header_len], raw=False)
    except (msgpack.UnpackException, ValueError) as exc:
        raise ValueError(f"unreadable header ({exc})") from None
    if not isinstance(header, dict):
        raise ValueError("unreadable header")  # noqa: TRY004 - a damaged file, not a caller error
    body = memoryview(data)[start + header_len : -4]
    sizes = header["sizes"]
    if sum(sizes) != len(body) or any(size <= 0 for size in sizes):
        raise ValueError("its graph sizes disagree with its length")
    bounds = [sum(sizes[:i]) for i in range(len(sizes) + 1)]
    return IndexFile(
        collection=header["collection"],
        vector_name=header["vector"],
        dim=int(header["dim"]),
        distance=header["distance"],
        graph_key=tuple(header["graph_key"]),
        codes=header["codes"],
        tag=tuple(header["tag"]),
        label_ids=header["ids"],
        graphs=[body[lo:hi] for lo, hi in zip(bounds, bounds[1:])],
    )
