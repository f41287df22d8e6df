"""Load the dashboard's incident cache from a large store: time and peak memory, sliced read against one read.

Run: ``python -m benchmarks.cache_load [--n 800000] [--repeat 3] [--data var/bench]``

The store (the demo scenario with ``n`` synthetic incidents) is built once and kept
(``var/bench/cache_<n>.db``). Every load runs in its own child process, which reports its
own peak resident memory (``VmHWM``); both ways run the same number of times and the
median time is printed:

- ``sliced``: :class:`geo.services.cache.IncidentCache` as the dashboard uses it, reading
  :data:`geo.services.cache.READ_ROWS` rows at a time;
- ``one read``: the same cache reading every row in one query (``read_rows=n``), which is
  what it did before and what ``pandas.read_sql`` on the same query does.

This is the load a dashboard process does at its first map without a cache file, after a
reload (an undo, a reclassification), and, for the rows it adds, after a large upload.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks._timing import machine
from benchmarks.ingest import REPO, peak_rss


def build(path: Path, n: int) -> None:
    """A store holding the demo scenario and ``n`` incidents (kept for the next run)."""
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "geo", "--db", f"sqlite:///{path}", "demo", "--n", str(n), "--private"]
    subprocess.run(command, cwd=REPO, check=True, capture_output=True)  # noqa: S603 - our own CLI


def child(path: Path, read_rows: int) -> None:
    """Load the cache once; print seconds, rows and peak RSS as JSON."""
    from geo.services.cache import IncidentCache
    from geo.store import open_store

    store = open_store(f"sqlite:///{path}")
    start = time.perf_counter()
    rows = len(IncidentCache(store, persist=False, read_rows=read_rows).snapshot().frame)
    print(json.dumps({"seconds": time.perf_counter() - start, "rows": rows, "peak_rss": peak_rss()}))


def run(path: Path, read_rows: int, repeat: int) -> tuple[float, int, int]:
    """Median seconds, rows and highest peak RSS over ``repeat`` child loads."""
    times, peak, rows = [], 0, 0
    for _ in range(repeat):
        out = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "benchmarks.cache_load", "--child", str(path), str(read_rows)],
            cwd=REPO,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        result = json.loads(out.strip().splitlines()[-1])
        times.append(float(result["seconds"]))
        peak, rows = max(peak, int(result["peak_rss"] or 0)), int(result["rows"])
    return statistics.median(times), rows, peak


def main() -> None:
    """Build the store, load it both ways, print the figures and their ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), int(args.child[1]))
        return
    from geo.services.cache import READ_ROWS

    path = args.data / f"cache_{args.n}.db"
    build(path, args.n)
    print(machine())
    print(f"threads: 1 (each load in its own process); repeats: {args.repeat} each")
    sliced = run(path, READ_ROWS, args.repeat)
    whole = run(path, args.n + 1, args.repeat)
    for name, (seconds, rows, peak) in (("sliced", sliced), ("one read", whole)):
        print(f"{name:>9}: {rows:,} rows in {seconds:.2f} s (median), peak {peak / 2**20:,.0f} MB")
    print(f"sliced / one read: time {sliced[0] / whole[0]:.2f}x, peak memory {sliced[2] / whole[2]:.2f}x")


if __name__ == "__main__":
    main()
