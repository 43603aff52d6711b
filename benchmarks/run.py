"""The one benchmark command: every workload on every installed engine, one table of medians.

    python benchmarks/run.py [--quick] [--n N] [--dim D] [--markdown] [--engines E ...]
    python benchmarks/run.py --scaling [--sizes 10000 100000 1000000] [--engines E ...]

Engines (each in its own fresh subprocess, so import time and peak RSS are per engine):
qdrant_local (memory and path), qdrant-client local mode (memory and path) and qdrant-edge-py when
installed, and a numpy floor for search (``argpartition`` of ``matrix @ query``). Writes
``benchmarks/results/latest.json``; ``--markdown`` also prints the table as Markdown for the README.

Default: 100,000 points of dim 384 (qdrant_local only, plus the floor, above 200,000 points).
``--quick``: 5,000 points and short time budgets (about two minutes in all).
qdrant-client with path= commits one sqlite transaction per point, so its write and persistence
workloads run on ``--path-cap`` points (2,000; 250 with --quick) and are extrapolated linearly
(marked * in the table). Machines are shared and noisy: every number is a median of several runs
within a time budget, and none of this belongs in tests.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, ROOT)

ALL_ENGINES = [
    "qdrant_local:memory",
    "qdrant_local:path",
    "qdrant-client:memory",
    "qdrant-client:path",
    "qdrant-edge-py",
    "faiss",
    "numpy-floor",
]
ENGINE_MODULES = {
    "qdrant_local:memory": "qdrant_local",
    "qdrant_local:path": "qdrant_local",
    "qdrant-client:memory": "qdrant_client",
    "qdrant-client:path": "qdrant_client",
    "qdrant-edge-py": "qdrant_edge",
    "faiss": "faiss",
    "numpy-floor": "numpy",
}
SHORT = {
    "qdrant_local:memory": "qdrant_local mem",
    "qdrant_local:path": "qdrant_local path",
    "qdrant-client:memory": "qdrant-client mem",
    "qdrant-client:path": "qdrant-client path",
    "qdrant-edge-py": "qdrant-edge-py",
    "faiss": "faiss FlatIP",
    "numpy-floor": "numpy floor",
}
METRIC = "seconds"  # or "cpu_seconds" with --cpu (import rows and sizes have no CPU figure)
LARGE_N = 200_000  # above this, qdrant-client and qdrant-edge-py are left out unless asked for


def rows_for(n: int) -> list[tuple[str, str, str]]:
    """(workload key, label, unit) in table order; unit is "ms" or "MiB"."""
    from workloads_data import BATCH_BLOCKS, BLOCK, SEARCH_BATCH

    return [
        ("import", "import (module)", "ms"),
        ("import_client", "from X import QdrantClient", "ms"),
        ("upsert_points", f"upsert {n:,}, PointStruct batches of {BLOCK}", "ms"),
        ("upsert_batch", f"upsert {n:,}, Batch of {BLOCK * BATCH_BLOCKS:,} (numpy)", "ms"),
        ("upsert_batch_lists", f"upsert {n:,}, Batch of {BLOCK * BATCH_BLOCKS:,} (Python lists)", "ms"),
        ("create_index", "create 3 payload indexes", "ms"),
        ("retrieve", "retrieve 1000 ids", "ms"),
        ("search", "search top-10, no filter", "ms"),
        ("search_2", "search top-10, filter 2%", "ms"),
        ("search_50", "search top-10, filter 50%", "ms"),
        ("search_batch", f"batch of {SEARCH_BATCH} searches, no filter", "ms"),
        ("search_batch_2", f"batch of {SEARCH_BATCH} searches, filter 2%", "ms"),
        ("search_batch_50", f"batch of {SEARCH_BATCH} searches, filter 50%", "ms"),
        ("count_2", "count, filter 2% (indexed)", "ms"),
        ("count_50", "count, filter 50% (indexed)", "ms"),
        ("scroll_full", "full scroll, pages of 1000", "ms"),
        ("scroll_order", "scroll order_by price, limit 100", "ms"),
        ("set_payload_2", "set_payload by filter (2%)", "ms"),
        ("delete_2", "delete by filter (2%)", "ms"),
        ("delete_ids", "delete 1,000 ids" if n >= 50_000 else f"delete {n // 50:,} ids", "ms"),
        ("reopen", "reopen (open + count)", "ms"),
        ("folder", "folder size on disk", "MiB"),
        ("peak_rss", "peak RSS", "MiB"),
    ]


# -- measuring -----------------------------------------------------------------------------------


def import_seconds(statement: str, repeat: int) -> float:
    """Median seconds of ``statement`` in a fresh interpreter (interpreter start-up excluded)."""
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    timings = []
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-W", "ignore", "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
        )
        timings.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(timings)


def run_child(engine: str, args: argparse.Namespace, out_path: str) -> dict[str, Any]:
    """Run one engine's workloads in a fresh subprocess of this script; its JSON result."""
    command = [
        sys.executable,
        os.path.abspath(__file__),
        "--engine",
        engine,
        "--n",
        str(args.n),
        "--dim",
        str(args.dim),
        "--json-out",
        out_path,
        "--path-cap",
        str(args.path_cap),
        "--threads",
        str(args.threads),
    ]
    if args.quick:
        command.append("--quick")
    if args.dir:
        command += ["--dir", args.dir]
    started = time.perf_counter()
    env = dict(os.environ)
    if args.threads > 0:
        # Multithreaded BLAS spin-waits badly on a loaded 2-core machine (a batch of 8 searches took
        # 28 ms instead of 0.3 ms here), so every engine gets the same fixed thread count.
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[name] = str(args.threads)
    done = subprocess.run(command, cwd=ROOT, env=env)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        print(f"  {engine}: FAILED (exit {done.returncode}) after {elapsed:.0f} s", file=sys.stderr)
        return {"results": {}, "answers": {}, "notes": [f"failed with exit code {done.returncode}"]}
    with open(out_path) as handle:
        outcome = json.load(handle)
    os.unlink(out_path)
    print(f"  {engine}: done in {elapsed:.0f} s", file=sys.stderr)
    return outcome


# -- reporting -----------------------------------------------------------------------------------


def value(engines: dict[str, Any], engine: str, key: str) -> float | None:
    """A workload's median in seconds (or size in bytes), or None when not measured."""
    entry = engines.get(engine, {}).get("results", {}).get(key)
    if entry is None:
        return None
    if METRIC in entry:
        return entry[METRIC]
    return entry.get("seconds", entry.get("bytes"))


def extrapolated(engines: dict[str, Any], engine: str, key: str) -> bool:
    """True when the entry was measured on a subset and scaled up."""
    return bool(engines.get(engine, {}).get("results", {}).get(key, {}).get("extrapolated"))


def floor_ratio(engines: dict[str, Any], engine: str, key: str) -> float | None:
    """Engine ÷ numpy floor: the paired in-process ratio when measured, else across subprocesses."""
    paired = engines.get(engine, {}).get("results", {}).get("paired_floor", {}).get(key)
    if paired is not None:
        return paired["ratio"]
    mine, floor = value(engines, engine, key), value(engines, "numpy-floor", key)
    return mine / floor if mine and floor else None


def faiss_ratio(engines: dict[str, Any], engine: str, key: str) -> float | None:
    """Engine ÷ faiss IndexFlatIP (unfiltered search rows): paired in-process ratio when measured."""
    paired = engines.get(engine, {}).get("results", {}).get("paired_floor", {}).get("faiss", {}).get(key)
    if paired is not None:
        return paired["ratio"]
    mine, theirs = value(engines, engine, key), value(engines, "faiss", key)
    return mine / theirs if mine and theirs else None


def client_value(engines: dict[str, Any], ours: str, key: str) -> float | None:
    """qdrant-client's number to compare ``ours`` with: same storage mode; reads fall back to memory mode.

    qdrant-client with path= serves every read from the same in-memory arrays as ``:memory:`` (sqlite is
    only a mirror), so its reads are not measured again.
    """
    mode = ours.split(":")[1]
    theirs = value(engines, f"qdrant-client:{mode}", key)
    if theirs is None and mode == "path" and key not in ("folder", "reopen"):
        theirs = value(engines, "qdrant-client:memory", key)
    return theirs


def format_value(seconds_or_bytes: float | None, unit: str, star: bool) -> str:
    """Milliseconds or MiB with sensible precision; '*' marks an extrapolated value."""
    if seconds_or_bytes is None:
        return "n/a"
    v = seconds_or_bytes * 1000 if unit == "ms" else seconds_or_bytes / 2**20
    text = f"{v:.3f}" if v < 1 else f"{v:.2f}" if v < 10 else f"{v:.1f}" if v < 1000 else f"{v:,.0f}"
    return text + ("*" if star else "")


def format_ratio(a: float | None, b: float | None) -> str:
    """a / b as '12.3x' (or n/a)."""
    if not a or not b:
        return "n/a"
    r = a / b
    return f"{r:.2f}x" if r < 10 else f"{r:.1f}x" if r < 100 else f"{r:,.0f}x"


def build_table(engines: dict[str, Any], n: int) -> tuple[list[str], list[list[str]]]:
    """Header and rows: medians per engine, then ratio columns for each qdrant_local mode."""
    present = [e for e in ALL_ENGINES if e in engines]
    ours = [e for e in ("qdrant_local:memory", "qdrant_local:path") if e in engines]
    header = ["workload"] + [SHORT[e] for e in present]
    for e in ours:
        mode = e.split(":")[1]
        header += [f"qdrant-client ÷ ours ({mode})", f"ours ÷ floor ({mode})", f"ours ÷ faiss ({mode})"]
        if "qdrant-edge-py" in engines:
            header.append(f"edge ÷ ours ({mode})")
    rows = []
    for key, label, unit in rows_for(n):
        row = [label + (" (MiB)" if unit == "MiB" else "")]
        row += [
            "error"
            if "error" in engines[e].get("results", {}).get(key, {})
            else format_value(value(engines, e, key), unit, extrapolated(engines, e, key))
            for e in present
        ]
        for e in ours:
            mine = value(engines, e, key)
            row.append(format_ratio(client_value(engines, e, key), mine))
            row.append(format_ratio(floor_ratio(engines, e, key), 1.0))
            row.append(format_ratio(faiss_ratio(engines, e, key), 1.0))
            if "qdrant-edge-py" in engines:
                row.append(format_ratio(value(engines, "qdrant-edge-py", key), mine))
        rows.append(row)
    return header, rows


def text_table(header: list[str], rows: list[list[str]]) -> str:
    """Fixed-width table for the terminal."""
    widths = [max(len(r[i]) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths)))]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))))
    return "\n".join(lines)


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def check_targets(engines: dict[str, Any], n: int, dim: int, raw: tuple[int, int]) -> list[dict[str, Any]]:
    """The issue's targets, judged on every qdrant_local mode that ran (they are defined at 100k / 1M)."""
    checks: list[dict[str, Any]] = []

    def add(target: str, engine: str, ok: bool | None, detail: str) -> None:
        checks.append({"target": target, "engine": engine, "met": ok, "detail": detail})

    def ratio(a: float | None, b: float | None) -> float | None:
        return a / b if a and b else None

    for e in ("qdrant_local:memory", "qdrant_local:path"):
        if e not in engines:
            continue
        v = lambda key: value(engines, e, key)  # noqa: E731
        qc = lambda key: client_value(engines, e, key)  # noqa: E731
        edge = lambda key: value(engines, "qdrant-edge-py", key)  # noqa: E731

        def at_least(target: str, key: str, factor: float) -> None:
            r = ratio(qc(key), v(key))
            add(target, e, None if r is None else r >= factor, "n/a" if r is None else f"{r:,.1f}x")

        if v("count_2") is not None:
            add("count 2% filter < 1 ms", e, v("count_2") < 1e-3, f"{v('count_2') * 1e3:.3f} ms")
        at_least("count 2% filter >= 300x qdrant-client", "count_2", 300)
        at_least("search 2% filter >= 100x qdrant-client", "search_2", 100)
        r = floor_ratio(engines, e, "search")
        add(
            "unfiltered search <= 1.5x numpy floor",
            e,
            None if r is None else r <= 1.5,
            "n/a" if r is None else f"{r:.2f}x",
        )
        at_least("full scroll >= 30x qdrant-client", "scroll_full", 30)
        r = ratio(edge("scroll_full"), v("scroll_full"))
        add(
            "full scroll faster than qdrant-edge-py",
            e,
            None if r is None else r > 1,
            "n/a" if r is None else f"{r:.2f}x",
        )
        at_least("upsert PointStruct >= 10x qdrant-client", "upsert_points", 10)
        r = ratio(edge("upsert_points"), v("upsert_points"))
        add(
            "upsert PointStruct faster than qdrant-edge-py",
            e,
            None if r is None else r > 1,
            "n/a" if r is None else f"{r:.2f}x",
        )
        at_least("upsert Batch >= 50x qdrant-client", "upsert_batch", 50)
        if n >= 1_000_000:
            up, rss = v("upsert_batch"), v("peak_rss")
            add(
                "1M: upsert by Batch < 60 s", e, None if up is None else up < 60, "n/a" if up is None else f"{up:.1f} s"
            )
            budget = sum(raw)
            add(
                "1M: peak RSS <= 1.3x raw vectors + payloads",
                e,
                None if rss is None else rss <= 1.3 * budget,
                "n/a" if rss is None else f"{rss / budget:.2f}x of {budget / 2**20:,.0f} MiB",
            )
            r = floor_ratio(engines, e, "search")
            add(
                "1M: search <= 1.5x numpy floor",
                e,
                None if r is None else r <= 1.5,
                "n/a" if r is None else f"{r:.2f}x",
            )
        # Issue 11: at least as fast as qdrant-edge-py on every row, at the physical limit where there is one.
        slower = [
            label
            for key, label, unit in rows_for(n)
            if unit == "ms" and key not in ("import", "import_client") and (ratio(edge(key), v(key)) or 2) < 1
        ]
        if engines.get("qdrant-edge-py", {}).get("results"):
            add(
                "every row at least as fast as qdrant-edge-py",
                e,
                not slower,
                "slower: " + "; ".join(slower) if slower else "all rows",
            )
        for key in ("scroll_order", "delete_2", "delete_ids", "reopen"):
            r = ratio(edge(key), v(key))
            add(
                f"{key} at most qdrant-edge-py's time",
                e,
                None if r is None else r >= 1,
                "n/a" if r is None else f"{r:.2f}x",
            )
        for key in ("delete_2", "delete_ids"):
            r = ratio(qc(key), v(key))
            add(
                f"{key} at most qdrant-client's time",
                e,
                None if r is None else r >= 1,
                "n/a" if r is None else f"{r:.2f}x",
            )
        for key in ("search_2", "search_50", "search_batch_2", "search_batch_50"):
            r = floor_ratio(engines, e, key)
            add(
                f"{key} <= 1.2x numpy floor on the subset",
                e,
                None if r is None else r <= 1.2,
                "n/a" if r is None else f"{r:.2f}x",
            )
        for key in ("search", "search_batch"):
            r = faiss_ratio(engines, e, key)
            add(
                f"{key} (no filter) <= 1.2x faiss IndexFlatIP",
                e,
                None if r is None else r <= 1.2,
                "n/a" if r is None else f"{r:.2f}x",
            )
        r = ratio(edge("upsert_points"), v("upsert_points"))
        add(
            "upsert PointStruct >= 2x qdrant-edge-py",
            e,
            None if r is None else r >= 2,
            "n/a" if r is None else f"{r:.2f}x",
        )
        r = ratio(v("upsert_points"), v("upsert_batch_lists"))
        add(
            "upsert Batch of lists at least as fast as PointStruct lists",
            e,
            None if r is None else r >= 1,
            "n/a" if r is None else f"{r:.2f}x",
        )
        if n >= 1_000_000 and e.endswith(":path"):
            ro = v("reopen")
            add("1M: reopen < 3 s", e, None if ro is None else ro < 3, "n/a" if ro is None else f"{ro:.2f} s")
    for key, what in (("import", "import qdrant_local"), ("import_client", "from qdrant_local import QdrantClient")):
        # Import times are per module, so any mode's entry will do.
        ours = value(engines, "qdrant_local:memory", key) or value(engines, "qdrant_local:path", key)
        theirs = value(engines, "qdrant-client:memory", key) or value(engines, "qdrant-client:path", key)
        r = ratio(ours, theirs)
        add(
            f"{what} <= 1/3 of qdrant_client's",
            "qdrant_local",
            None if r is None else r <= 1 / 3,
            "n/a" if r is None else f"{ours * 1e3:.0f} ms vs {theirs * 1e3:.0f} ms ({r:.2f})",
        )
    return checks


def machine() -> dict[str, Any]:
    """What this ran on."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as handle:
            names = [line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    memory = None
    try:
        with open("/proc/meminfo") as handle:
            memory = int(handle.readline().split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_bytes": memory,
        "system": platform.platform(),
        "python": platform.python_version(),
    }


def versions() -> dict[str, str | None]:
    """Installed versions of the engines and numpy."""
    out: dict[str, str | None] = {}
    for dist in ("qdrant-client", "qdrant-edge-py", "numpy"):
        try:
            out[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            out[dist] = None
    return out


def notes_for(engines: dict[str, Any], meta: dict[str, Any]) -> list[str]:
    """Footnotes printed under the table."""
    notes = [
        "Medians of repeated runs within a time budget (upserts: one run, only the upsert calls timed; inputs "
        "are built beforehand: PointStructs with list vectors, Batch from the float32 matrix, which "
        "qdrant-client's pydantic turns into lists at construction). Cosine distance, payload "
        "{city, group = i % 50, half = i % 2, price}; 2% filter: group == 7, 50% filter: half == 1.",
        "Payload indexes (integer on group and half, float on price) are created after loading in every "
        "engine; they are real in qdrant_local and qdrant-edge-py and a no-op in qdrant-client's local mode.",
        "Import rows: median of fresh interpreters timing only the import statement.",
        "qdrant_local and qdrant-client collections are created with indexing_threshold=0: every row is "
        "exact search, with or without the ann extra (its HNSW is compared by run.py --ann).",
        "numpy floor: exact top-10 by argpartition of matrix @ query on the normalised matrix; filtered "
        "rows search only the matching rows, gathered beforehand. The floor column is its own subprocess; "
        "the 'ours ÷ floor' ratios are measured inside each qdrant_local process, alternating engine and "
        "floor query by query on the same points, so that load drift on a shared machine cancels out.",
        (
            f"Every engine runs with {meta['threads']} BLAS thread(s) (OPENBLAS/OMP/MKL_NUM_THREADS) and qdrant-edge-py "
            f"with max_search_threads={meta['threads']}."
            if meta["threads"]
            else "Thread counts: library defaults."
        ),
        "path engines upsert with wait=True (qdrant_local fsyncs each call). Reopen = construct a client on "
        "the folder + count(). Folder size: blocks allocated on disk, after set_payload, before the deletes.",
    ]
    if "qdrant-client:path" in engines:
        notes.append(
            f"* qdrant-client path=: writes, reopen and folder measured on {min(meta['path_cap'], meta['n']):,} points "
            "and extrapolated linearly; its reads are the in-memory code of :memory:, so the path ratios "
            "of read rows use qdrant-client mem."
        )
    if "faiss" in engines or any("faiss" in o.get("results", {}).get("paired_floor", {}) for o in engines.values()):
        notes.append(
            "faiss: IndexFlatIP (exact inner product) over the same normalised matrix, unfiltered rows only, "
            "with as many OpenMP threads as BLAS threads; 'ours ÷ faiss' is measured inside each qdrant_local "
            "process, alternating engine and faiss query by query."
        )
    if "qdrant-edge-py" in engines:
        notes.append(
            "qdrant-edge-py: an EdgeShard at a path, default config, exact search (optimize()/HNSW not "
            "run); it has no Batch upsert, so it is loaded with Point batches of 256."
        )
    for e, outcome in engines.items():
        for note in outcome.get("notes", []):
            notes.append(f"{e}: {note}")
    return notes


def sanity(engines: dict[str, Any]) -> list[str]:
    """Compare each engine's answers with the floor's and with qdrant_local's: warnings, if any."""
    warnings = []
    floor = engines.get("numpy-floor", {}).get("answers", {})
    reference = engines.get("qdrant_local:memory", {}).get("answers", {})
    for e, outcome in engines.items():
        answers = outcome.get("answers", {})
        for key, expected in floor.items():
            got = answers.get(key)
            if got is not None and len(set(got) & set(expected)) < 9:
                warnings.append(f"{e}: {key} top-10 shares only {len(set(got) & set(expected))}/10 ids with the floor")
        for key in ("count_2", "count_50", "scroll_full"):
            if key in answers and key in reference and answers[key] != reference[key]:
                warnings.append(f"{e}: {key} = {answers[key]}, qdrant_local:memory has {reference[key]}")
    return warnings


def main() -> None:
    """Parent: run every engine in a subprocess, print and save the table. Child (--engine): one engine."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 points and short budgets (~2 minutes)")
    parser.add_argument("--n", type=int, default=None, help="points (default 100,000; 5,000 with --quick)")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument(
        "--engines",
        nargs="+",
        choices=ALL_ENGINES,
        default=None,
        help=f"engines to run (default: all installed; above {LARGE_N:,} points qdrant_local and the floor)",
    )
    parser.add_argument(
        "--path-cap",
        type=int,
        default=None,
        help="points qdrant-client path= writes are measured on (default 2,000; 250 with --quick)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="tabulate CPU time of the engine process instead of wall time (steadier on a loaded machine)",
    )
    parser.add_argument("--markdown", action="store_true", help="also print the table as Markdown for the README")
    parser.add_argument(
        "--json-out", default=None, help="where to write the JSON (default benchmarks/results/latest.json)"
    )
    parser.add_argument("--dir", default=None, help="parent folder for storage folders (default: the temp dir)")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS threads (and qdrant-edge-py search threads) per engine; 0 = library defaults",
    )
    parser.add_argument(
        "--render",
        default=None,
        metavar="JSON",
        help="print the table of an earlier run's JSON (with --markdown / --cpu) without running anything",
    )
    parser.add_argument(
        "--scaling",
        action="store_true",
        help="every workload at each of --sizes, with the fitted growth exponent per row",
    )
    parser.add_argument(
        "--sizes",
        type=int,
        nargs="+",
        default=[10_000, 100_000, 1_000_000],
        help="collection sizes for --scaling (default 10,000 100,000 1,000,000)",
    )
    parser.add_argument(
        "--ann",
        action="store_true",
        help="approximate search (the ann extra) beside qdrant-edge-py's HNSW: runs bench_ann.py",
    )
    parser.add_argument("--engine", default=None, help=argparse.SUPPRESS)  # child mode
    args = parser.parse_args()
    if args.ann:
        import bench_ann

        sys.exit(bench_ann.main(["--n", str(args.n or 100_000)]))
    if args.n is None:
        args.n = 5_000 if args.quick else 100_000
    if args.path_cap is None:
        args.path_cap = 250 if args.quick else 2_000

    global METRIC
    if args.cpu:
        METRIC = "cpu_seconds"
    if args.render:
        with open(args.render) as handle:
            saved = json.load(handle)
        report(saved["meta"], saved["engines"], args, None)
        return
    if args.engine:  # child: one engine, results to --json-out
        from workloads_engines import child_main

        cap = args.path_cap if args.engine == "qdrant-client:path" else None
        outcome = child_main(args.engine, args.n, args.dim, args.quick, cap, args.dir, args.threads or None)
        with open(args.json_out, "w") as handle:
            json.dump(outcome, handle)
        return

    if args.scaling:
        scaling(args)
        return

    engines_wanted = args.engines or [
        e for e in ALL_ENGINES if args.n <= LARGE_N or e.startswith("qdrant_local") or e in ("numpy-floor", "faiss")
    ]
    available = [e for e in engines_wanted if importlib.util.find_spec(ENGINE_MODULES[e]) is not None]
    skipped = [e for e in engines_wanted if e not in available]
    results_dir = os.path.join(HERE, "results")
    os.makedirs(results_dir, exist_ok=True)
    json_out = args.json_out or os.path.join(results_dir, "latest.json")
    began = time.perf_counter()
    print(
        f"benchmark: {args.n:,} points x dim {args.dim}{' (quick)' if args.quick else ''}; engines: {', '.join(available)}"
        + (f"; not installed: {', '.join(skipped)}" if skipped else ""),
        file=sys.stderr,
    )

    engines: dict[str, Any] = {}
    for e in available:
        print(f"  {e}: running ...", file=sys.stderr)
        engines[e] = run_child(e, args, os.path.join(results_dir, f".child-{os.getpid()}-{e.replace(':', '-')}.json"))

    import_repeat = 3 if args.quick else 7
    statements = {
        "qdrant_local": ("import qdrant_local", "from qdrant_local import QdrantClient"),
        "qdrant_client": ("import qdrant_client", "from qdrant_client import QdrantClient"),
        "qdrant_edge": ("import qdrant_edge", "from qdrant_edge import EdgeShard"),
    }
    for module, (plain, client) in statements.items():
        targets = [e for e in available if ENGINE_MODULES[e] == module]
        if not targets:
            continue
        timed = {
            "import": {"seconds": import_seconds(plain, import_repeat), "repeats": import_repeat, "statement": plain},
            "import_client": {
                "seconds": import_seconds(client, import_repeat),
                "repeats": import_repeat,
                "statement": client,
            },
        }
        for e in targets:
            engines[e]["results"].update(timed)

    from workloads_data import raw_bytes

    raw = raw_bytes(args.n, args.dim)
    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine(),
        "versions": versions(),
        "n": args.n,
        "dim": args.dim,
        "quick": args.quick,
        "path_cap": args.path_cap,
        "threads": args.threads,
        "engines": available,
        "not_installed": skipped,
        "command": "python benchmarks/run.py " + " ".join(sys.argv[1:]),
        "raw_vector_bytes": raw[0],
        "raw_payload_bytes": raw[1],
        "wall_seconds": time.perf_counter() - began,
    }
    report(meta, engines, args, json_out)


# Rows whose request is the same size at every collection size: their cost must not grow with it.
K_SIZED = {"retrieve": "1,000 ids", "scroll_order": "limit 100", "delete_ids": "1,000 ids", "count_2": "index lookup"}


def growth_exponent(sizes: list[int], seconds: list[float]) -> float | None:
    """Least-squares slope of log(seconds) against log(size): 1.0 is linear, 0 is constant."""
    points = [(math.log(n), math.log(t)) for n, t in zip(sizes, seconds) if t and t > 0]
    if len(points) < 2:
        return None
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    spread = sum((x - mean_x) ** 2 for x, _ in points)
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / spread if spread else None


def scaling(args: argparse.Namespace) -> None:
    """``--scaling``: run each engine at every size and print each row's cost with its exponent."""
    engines = args.engines or ["qdrant_local:memory"]
    results_dir = os.path.join(HERE, "results")
    os.makedirs(results_dir, exist_ok=True)
    runs: dict[str, dict[int, Any]] = {}
    for e in engines:
        runs[e] = {}
        for n in args.sizes:
            print(f"  {e} at {n:,}: running ...", file=sys.stderr)
            child_args = argparse.Namespace(**{**vars(args), "n": n})
            runs[e][n] = run_child(e, child_args, os.path.join(results_dir, f".scaling-{os.getpid()}-{n}.json"))
    with open(args.json_out or os.path.join(results_dir, "scaling.json"), "w") as handle:
        json.dump(
            {"sizes": args.sizes, "runs": {e: {str(n): r for n, r in by_n.items()} for e, by_n in runs.items()}}, handle
        )
    for e in engines:
        header = ["workload"] + [f"{n:,}" for n in args.sizes] + ["exponent", "request size"]
        rows = []
        for key, label, unit in rows_for(args.sizes[-1]):
            if key in ("import", "import_client"):
                continue
            measured = [value({e: runs[e][n]}, e, key) for n in args.sizes]
            if all(v is None for v in measured):
                continue
            if key in K_SIZED:
                # delete_ids deletes one group of ids (N / 50) below 50,000 points: fit where it is 1,000
                fitted = [(n, v or 0.0) for n, v in zip(args.sizes, measured) if key != "delete_ids" or n >= 50_000]
            else:
                fitted = [(n, v or 0.0) for n, v in zip(args.sizes, measured)]
            exponent = growth_exponent([n for n, _ in fitted], [v for _, v in fitted])
            flag = ""
            if key in K_SIZED and exponent is not None and exponent > 0.3:
                flag = "  <- grows with the collection"
            label = label.replace(f"{args.sizes[-1]:,}", "N")
            rows.append(
                [
                    label + (" (MiB)" if unit == "MiB" else ""),
                    *(format_value(v, unit, False) for v in measured),
                    "n/a" if exponent is None else f"{exponent:.2f}",
                    K_SIZED.get(key, "grows with N") + flag,
                ]
            )
        print(f"\n{e}: median ms (MiB for sizes) at each collection size; exponent b of cost ~ N^b")
        print(text_table(header, rows))
        if args.markdown:
            print()
            print(markdown_table(header, rows))


def report(meta: dict[str, Any], engines: dict[str, Any], args: argparse.Namespace, json_out: str | None) -> None:
    """Print the table, notes, targets and sanity warnings; write the JSON when ``json_out`` is given."""
    n = meta["n"]
    header, rows = build_table(engines, n)
    targets = check_targets(engines, n, meta["dim"], (meta["raw_vector_bytes"], meta["raw_payload_bytes"]))
    notes = notes_for(engines, meta)
    warnings = sanity(engines)
    if json_out:
        with open(json_out, "w") as handle:
            json.dump(
                {
                    "meta": meta,
                    "engines": engines,
                    "table": {"header": header, "rows": rows},
                    "targets": targets,
                    "notes": notes,
                    "warnings": warnings,
                },
                handle,
                indent=1,
            )

    m = meta["machine"]
    title = (
        f"{n:,} points x dim {meta['dim']}{' (--quick)' if meta['quick'] else ''}, median "
        f"{'CPU ' if args.cpu else ''}ms; {meta['date']}; "
        f"{m['cpu']}, {m['cores']} cores, {(m['memory_bytes'] or 0) / 2**30:.0f} GiB, Python {m['python']}; "
        f"qdrant-client {meta['versions']['qdrant-client']}, qdrant-edge-py {meta['versions']['qdrant-edge-py']}, "
        f"numpy {meta['versions']['numpy']}"
    )
    print()
    print(title)
    print(text_table(header, rows))
    print()
    for note in notes:
        print("- " + note)
    print()
    print("targets (defined at 100,000 x 384; the 1M ones need --n 1000000):")
    unmeasured = [check for check in targets if check["met"] is None]
    for check in targets:
        if check["met"] is not None:
            status = "met" if check["met"] else "NOT met"
            print(f"  [{status:>7}] {check['target']} ({check['engine']}): {check['detail']}")
    if unmeasured:
        # Usually a comparison engine that was not run (at 1M only qdrant_local runs) or a failed workload.
        print(f"  not measurable in this run: {'; '.join(sorted({c['target'] for c in unmeasured}))}")
    for warning in warnings:
        print("WARNING: " + warning)
    if json_out:
        print(f"\nJSON: {json_out} ({meta['wall_seconds']:.0f} s in all)")
    if args.markdown:
        print("\n<!-- benchmark table: paste into README.md -->")
        print(f"**{title}**\n")
        print(f"`{meta['command']}`\n")
        print(markdown_table(header, rows))
        print()
        for note in notes:
            print("- " + note)


if __name__ == "__main__":
    main()
