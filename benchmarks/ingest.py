"""Ingest a 1M-row house-template CSV end to end into a fresh SQLite store; compare with a geopandas path.

Run: ``python -m benchmarks.ingest [--rows 1000000] [--repeat 3] [--data var/bench] [--no-baseline]``

The CSV is written once and cached (``var/bench/ingest_<rows>.csv``): realistic synthetic
incidents from :func:`geo.services.demo.generate_incidents` written in the template's columns,
three monitor teams, about 0.2 % bad rows, 0.2 % repeated rows and 1 % near-duplicate
reports from another team. Every run of every path is its own child process, which
reports its own peak resident memory (``VmHWM``); each path runs the same number of times
and the median time is printed, with the child's CPU time (from ``os.wait4``) beside it:

- ``ours``: :func:`geo.services.ingest.ingest_file` into a fresh SQLite store holding the demo
  scenario (read → validate → dedupe → classify → store, one transaction, with progress);
- ``re-upload``: the same file again into that store (every row a duplicate);
- ``geopandas``: what a competent geopandas user writes to put a CSV into a GeoPackage
  with its zones: ``pandas.read_csv`` (times parsed) → ``points_from_xy`` → ``gpd.sjoin``
  with the zones (built as in ``benchmarks/geopandas_path.py``: ``to_crs`` + ``buffer``,
  then back to lon/lat) → the zones of each incident joined into one column →
  ``to_file`` GeoPackage. It validates nothing, dedupes nothing and gives no verdicts.

Bars: ours at most half the time of the geopandas path, at most 1.5 GB peak memory, with a
progress bar; an unchanged re-upload at most 2 s.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._timing import machine

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_COLUMNS = (
    "event_id", "occurred_at", "lat", "lon", "category", "actor", "party", "location_precision",
    "location_uncertainty_m", "fatalities", "verification", "source", "description", "occurred_to",
    "sub_category", "weapon_class", "target", "location_name",
)  # fmt: skip
TEAMS = np.array(["monitor-team-a", "monitor-team-b", "monitor-team-c"], dtype=object)
END = pd.Timestamp("2026-06-30").date()
BAR_REUPLOAD_S, BAR_BYTES = 2.0, 1.5e9


def write_csv(path: Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write ``n`` template rows: good incidents, some bad rows, repeats and near-duplicates."""
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST, generate_incidents

    rng = np.random.default_rng(seed)
    n_bad, n_repeat = n // 500, n // 500
    n_near = n // 100
    n_good = n - n_bad - n_repeat
    inc = generate_incidents(load_scenario(DEMO_MANIFEST), n=n_good - n_near, days=365, end=END, seed=seed)
    inc["source"] = TEAMS[rng.integers(0, len(TEAMS), len(inc))]
    # Near-duplicates: another team's report of an event, minutes and a hundred meters apart.
    near = inc.iloc[rng.choice(len(inc), n_near, replace=False)].copy()
    near["source"] = TEAMS[(np.searchsorted(TEAMS, near["source"]) + 1) % len(TEAMS)]
    near["source_event_id"] = "NEAR-" + near["source_event_id"]
    near["occurred_at"] += pd.to_timedelta(rng.integers(-1800, 1800, n_near), unit="s")
    near["lat"] += rng.normal(0, 0.0005, n_near)
    near["lon"] += rng.normal(0, 0.0005, n_near)
    near["description"] = "Second report: " + near["description"]
    inc = pd.concat([inc, near], ignore_index=True)
    text = pd.DataFrame(
        {
            "event_id": inc["source_event_id"],
            "occurred_at": inc["occurred_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "lat": inc["lat"].round(6).astype(str),
            "lon": inc["lon"].round(6).astype(str),
            "category": inc["category"],
            "actor": inc["actor"],
            "party": inc["party"],
            "location_precision": inc["location_precision"],
            "location_uncertainty_m": inc["location_uncertainty_m"].map("{:.0f}".format).replace("nan", ""),
            "fatalities": inc["fatalities"].astype(str),
            "verification": inc["verification"],
            "source": inc["source"],
            "description": inc["description"],
            "occurred_to": "",
            "sub_category": inc["sub_category"],
            "weapon_class": inc["weapon_class"],
            "target": inc["target"],
            "location_name": inc["location_name"],
        }
    )
    bad = text.iloc[rng.choice(len(text), n_bad, replace=False)].copy()
    bad["event_id"] = "BAD-" + bad["event_id"]
    kind = np.arange(n_bad) % 4
    bad.loc[kind == 0, ["lat", "lon"]] = "0"
    bad.loc[kind == 1, "lat"] = "95.5"
    bad.loc[kind == 2, "occurred_at"] = "yesterday"
    bad.loc[kind == 3, "fatalities"] = "-2"
    repeat = text.iloc[rng.choice(len(text), n_repeat, replace=False)]
    out = pd.concat([text, bad, repeat], ignore_index=True)
    out = out.iloc[rng.permutation(len(out))]
    out = out.sort_values("occurred_at", kind="stable")  # files usually come in time order
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    out[list(TEMPLATE_COLUMNS)].to_csv(tmp, index=False)
    tmp.replace(path)
    return {"rows": len(out), "bad": n_bad, "repeat": n_repeat, "near": n_near}


# -- the paths, each run in a child process ---------------------------------------------------------------
def child_ours(csv: Path, db: Path, *, fresh: bool) -> dict[str, object]:
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST
    from geo.services.ingest import ingest_file, load_scenario_into_store
    from geo.store import open_store

    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{db}")
    if fresh:
        load_scenario_into_store(store, load_scenario(DEMO_MANIFEST))
    ticks: list[float] = []
    start = time.perf_counter()
    summary = ingest_file(store, csv, progress=lambda *_: ticks.append(time.perf_counter()))
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "rows_read": summary.rows_read,
        "accepted": summary.accepted,
        "rejected": summary.rejected,
        "duplicate": summary.duplicate,
        "near_duplicates": summary.near_duplicates,
        "stored": store.count(),
        "progress_calls": len(ticks),
    }


def child_geopandas(csv: Path, out: Path) -> dict[str, object]:
    import geopandas as gpd

    from benchmarks.geopandas_path import metric_zones, utm_crs
    from geo.core.manifest import load_scenario
    from geo.services.demo import DEMO_MANIFEST

    scenario = load_scenario(DEMO_MANIFEST)
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    frame = pd.read_csv(csv, parse_dates=["occurred_at"])
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)
    zones = metric_zones(scenario, utm_crs(scenario)).to_crs(4326)
    joined = gpd.sjoin(points[["geometry"]], zones, predicate="intersects", how="inner")
    points["zones"] = joined.groupby(level=0)["zone"].agg(";".join).reindex(points.index).fillna("")
    points.to_file(out, driver="GPKG", layer="incidents")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows_read": len(frame), "rows_written": len(points)}


def peak_rss() -> int | None:
    """The peak resident memory of the running process in bytes (``VmHWM``), where Linux has it.

    ``ru_maxrss`` of a child counts the parent's memory at the fork too, so the child
    reports its peak itself.
    """
    try:
        status = Path("/proc/self/status").read_text(encoding="utf-8")
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return None


def run_child(args: list[str]) -> tuple[dict[str, object], int]:
    """Run ``python -m benchmarks.ingest --child ...``: its JSON result (and CPU seconds), peak RSS."""
    proc = subprocess.Popen(  # noqa: S603 - our own module
        [sys.executable, "-m", "benchmarks.ingest", "--child", *args], cwd=REPO, stdout=subprocess.PIPE
    )
    output = proc.stdout.read() if proc.stdout else b""  # then reap it ourselves, for its rusage
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        msg = f"child {args[0]} failed with exit code {proc.returncode}"
        raise RuntimeError(msg)
    result = json.loads(output.decode().strip().splitlines()[-1])
    rss = result.pop("peak_rss") or usage.ru_maxrss * 1024  # ru_maxrss: kilobytes on Linux
    result["cpu"] = usage.ru_utime + usage.ru_stime  # the whole child, imports and setup included
    return result, rss


def _check(ok: bool, result: object) -> None:
    if not ok:
        msg = f"unexpected result: {result}"
        raise RuntimeError(msg)


def runs(args: list[str], repeat: int) -> tuple[list[dict[str, object]], int]:
    """``repeat`` child runs: their results, and the highest peak RSS."""
    results, peak = [], 0
    for _ in range(repeat):
        result, rss = run_child(args)
        results.append(result)
        peak = max(peak, rss)
    return results, peak


def median(results: list[dict[str, object]], key: str = "seconds") -> float:
    return float(statistics.median(float(r[key]) for r in results))


def figures(name: str, rows: int, results: list[dict[str, object]], rss: int) -> str:
    """One path's median time, rate, peak memory and CPU, as the start of its line."""
    seconds = median(results)
    return (
        f"{name:9} {seconds:6.2f} s  {rows / seconds:>10,.0f} rows/s  peak RSS {rss / 1e6:6.0f} MB  "
        f"(child CPU {median(results, 'cpu'):.1f} s)  "
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each path (the median is kept)")
    parser.add_argument("--data", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--no-baseline", action="store_true", help="Skip the geopandas path.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        if kind == "geopandas":
            result = child_geopandas(Path(paths[0]), Path(paths[1]))
        else:
            result = child_ours(Path(paths[0]), Path(paths[1]), fresh=kind == "ours")
        print(json.dumps({**result, "peak_rss": peak_rss()}))
        return

    print(machine())
    csv = args.data / f"ingest_{args.rows}.csv"
    if not csv.exists():
        start = time.perf_counter()
        made = write_csv(csv, args.rows)
        print(f"wrote {csv} ({made}) in {time.perf_counter() - start:.1f} s")
    size_mb = csv.stat().st_size / 1e6
    db = args.data / "ingest.db"
    print(f"file: {csv} ({args.rows:,} rows, {size_mb:.0f} MB); store: {db}")
    print(f"median of {args.repeat} runs of each path, each run a child process")

    # Each first upload into a fresh store, each re-upload into the store the last one left.
    ours_runs, again_runs, ours_rss, again_rss = [], [], 0, 0
    for _ in range(args.repeat):
        (first,), rss = runs(["ours", str(csv), str(db)], 1)
        ours_runs.append(first)
        ours_rss = max(ours_rss, rss)
        (again,), rss = runs(["reupload", str(csv), str(db)], 1)
        again_runs.append(again)
        again_rss = max(again_rss, rss)
    ours = ours_runs[-1]
    _check(ours["rows_read"] == args.rows, ours)
    _check(ours["accepted"] + ours["rejected"] + ours["duplicate"] == ours["rows_read"], ours)
    _check(ours["stored"] == ours["accepted"] and ours["progress_calls"] >= 1, ours)
    _check(all(a["accepted"] == 0 and a["stored"] == ours["stored"] for a in again_runs), again_runs)
    ours_s, again_s = median(ours_runs), median(again_runs)
    print(
        figures("ours", args.rows, ours_runs, ours_rss) + f"accepted {ours['accepted']:,}, rejected "
        f"{ours['rejected']:,}, duplicate {ours['duplicate']:,}, near-duplicates flagged "
        f"{ours['near_duplicates']:,}; {ours['progress_calls']} progress updates"
    )
    print(
        figures("re-upload", args.rows, again_runs, again_rss)
        + f"accepted 0, duplicate {again_runs[-1]['duplicate']:,}  "
        + f"[bar {BAR_REUPLOAD_S:.0f} s: {'met' if again_s <= BAR_REUPLOAD_S else 'NOT met'}]"
    )
    memory_ok = ours_rss <= BAR_BYTES
    print(f"peak memory of ours: bar {BAR_BYTES / 1e9:.1f} GB: {'met' if memory_ok else 'NOT met'}")
    if not args.no_baseline:
        base_runs, base_rss = runs(["geopandas", str(csv), str(args.data / "geopandas.gpkg")], args.repeat)
        base_s = median(base_runs)
        print(
            figures("geopandas", args.rows, base_runs, base_rss)
            + "(read_csv → sjoin → GPKG; no validation, dedupe or verdicts)"
        )
        print(
            f"ratio geopandas/ours: time {base_s / ours_s:.2f}x, peak RSS {base_rss / ours_rss:.2f}x  "
            f"[bar: ours <= half the geopandas time: {'met' if ours_s * 2 <= base_s else 'NOT met'}]"
        )
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"(this driver process: peak RSS {self_rss / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
