"""``qdrant-local demo``: a short tour that shows what the library does."""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time

import numpy as np

from .. import QdrantClient, models

CITIES = ["Oslo", "Rome", "Lima", "Kyiv", "Pune"]


def demo(points: int = 5000, dim: int = 64) -> None:
    folder = tempfile.mkdtemp(prefix="qdrant_local_demo_")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(points, dim)).astype(np.float32)
    payloads = [
        {"city": CITIES[i % len(CITIES)], "price": int(i % 100), "tags": ["even" if i % 2 == 0 else "odd"]}
        for i in range(points)
    ]
    try:
        print(f"Storing into {folder}")
        with QdrantClient(path=folder) as client:
            client.create_collection(
                "shops", vectors_config=models.VectorParams(size=dim, distance=models.Distance.COSINE)
            )
            started = time.perf_counter()
            for start in range(0, points, 1000):
                client.upsert(
                    "shops",
                    models.Batch(
                        ids=list(range(start, min(start + 1000, points))),
                        vectors=vectors[start : start + 1000],
                        payloads=payloads[start : start + 1000],
                    ),
                )
            print(f"Upserted {points} points of dim {dim} with payloads in {time.perf_counter() - started:.3f} s")
            oslo_cheap = models.Filter(
                must=[
                    models.FieldCondition(key="city", match=models.MatchValue(value="Oslo")),
                    models.FieldCondition(key="price", range=models.Range(lt=10)),
                ]
            )
            count = client.count("shops", count_filter=oslo_cheap).count
            print(f"count(city == Oslo and price < 10) = {count}")
            page, next_offset = client.scroll("shops", scroll_filter=oslo_cheap, limit=3)
            print(f"scroll page: ids {[r.id for r in page]}, next_page_offset {next_offset}")
            client.set_payload("shops", {"sale": True}, points=oslo_cheap)
            facets = client.facet("shops", "city", limit=3)
            print("facet(city):", ", ".join(f"{hit.value}={hit.count}" for hit in facets.hits))
            if hasattr(client, "query_points"):
                hits = client.query_points("shops", query=vectors[42], limit=3).points
                print("nearest to point 42:", [(hit.id, round(hit.score, 4)) for hit in hits])
        print("Closed. Reopening the folder...")
        with QdrantClient(path=folder) as client:
            reopened = client.count("shops").count
            on_sale = client.count("shops", count_filter={"must": [{"key": "sale", "match": {"value": True}}]}).count
            print(f"After reopening: {reopened} points, {on_sale} on sale (the set_payload survived)")
            if reopened != points or on_sale != count:
                raise SystemExit("demo failed: the data did not survive reopening")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print("Demo finished.")


HELP = "store, query and reopen a small collection"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--points", type=int, default=5000, help="how many points to store")


def run(args: argparse.Namespace) -> int:
    demo(points=args.points)
    return 0
