"""Ingest a 1M-row house-template CSV end to end into a fresh SQLite store; compare with naive geopandas.

Run: ``python -m benchmarks.ingest [--rows 1000000] [--data var/bench] [--no-naive]``

The CSV is written once and cached (``var/bench/ingest_<rows>.csv``): realistic synthetic
incidents from :func:`geo.demo.generate_incidents` written in the template's columns,
three monitor teams, about 0.2 % bad rows, 0.2 % repeated rows and 1 % near-duplicate
reports from another team. Each path runs in its own child process, so that its peak
resident memory (``ru_maxrss`` from ``os.wait4``) is its own:

- ``ours``: :func:`geo.ingest.ingest_file` into a fresh SQLite store holding the demo
  scenario (read → validate → dedupe → classify → store, one transaction);
- ``re-upload``: the same file again into that store (every row a duplicate);
- ``naive``: ``pandas.read_csv`` → ``GeoDataFrame`` → ``gpd.sjoin`` with the zones →
  ``to_file`` GeoPackage. It validates nothing, dedupes nothing and measures nothing.

The bar (DESIGN §6, issue 3): ``ours`` ≤ 30 s and ≤ 2 GB peak on the 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
TEMPLATE_COLUMNS = (
    "event_id", "occurred_at", "lat", "lon", "category", "actor", "party", "location_precision",
    "location_uncertainty_m", "fatalities", "verification", "source", "description", "occurred_to",
    "sub_category", "weapon_class", "target", "location_name",
)  # fmt: skip
TEAMS = np.array(["monitor-team-a", "monitor-team-b", "monitor-team-c"], dtype=object)
END = pd.Timestamp("2026-06-30").date()
BAR_S, BAR_BYTES = 30.0, 2 * 1024**3


def write_csv(path: Path, n: int, seed: int = 0) -> dict[str, int]:
    """Write ``n`` template rows: good incidents, some bad rows, repeats and near-duplicates."""
    from geo.demo import DEMO_MANIFEST, generate_incidents
    from geo.manifest import load_scenario

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
    from geo.demo import DEMO_MANIFEST
    from geo.ingest import ingest_file, load_scenario_into_store
    from geo.manifest import load_scenario
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


def child_naive(csv: Path, out: Path) -> dict[str, object]:
    import geopandas as gpd

    from geo.demo import DEMO_MANIFEST
    from geo.manifest import load_scenario

    scenario = load_scenario(DEMO_MANIFEST)
    zones = gpd.GeoDataFrame(
        {"zone": [z.id for z in scenario.zones]}, geometry=[z.geometry for z in scenario.zones], crs=4326
    )
    out.unlink(missing_ok=True)
    start = time.perf_counter()
    frame = pd.read_csv(csv)
    points = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]), crs=4326)
    joined = gpd.sjoin(points, zones, how="left", predicate="within")
    joined.drop(columns="index_right").to_file(out, driver="GPKG", layer="incidents")
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows_read": len(frame), "rows_written": len(joined)}


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
    rss = usage.ru_maxrss * 1024  # kilobytes on Linux
    result = json.loads(output.decode().strip().splitlines()[-1])
    result["cpu"] = usage.ru_utime + usage.ru_stime  # the whole child, imports and setup included
    return result, rss


def _check(ok: bool, result: object) -> None:
    if not ok:
        msg = f"unexpected result: {result}"
        raise RuntimeError(msg)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--data", type=Path, default=REPO / "var" / "bench")
    parser.add_argument("--no-naive", action="store_true", help="Skip the naive geopandas path.")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *paths = args.child
        if kind == "naive":
            result = child_naive(Path(paths[0]), Path(paths[1]))
        else:
            result = child_ours(Path(paths[0]), Path(paths[1]), fresh=kind == "ours")
        print(json.dumps(result))
        return

    csv = args.data / f"ingest_{args.rows}.csv"
    if not csv.exists():
        start = time.perf_counter()
        made = write_csv(csv, args.rows)
        print(f"wrote {csv} ({made}) in {time.perf_counter() - start:.1f} s")
    size_mb = csv.stat().st_size / 1e6
    db = args.data / "ingest.db"
    print(f"file: {csv} ({args.rows:,} rows, {size_mb:.0f} MB); store: {db}")

    ours, ours_rss = run_child(["ours", str(csv), str(db)])
    _check(ours["rows_read"] == args.rows, ours)
    _check(ours["accepted"] + ours["rejected"] + ours["duplicate"] == ours["rows_read"], ours)
    _check(ours["stored"] == ours["accepted"], ours)
    rate = ours["rows_read"] / ours["seconds"]
    ok = ours["seconds"] <= BAR_S and ours_rss <= BAR_BYTES
    print(
        f"ours      {ours['seconds']:6.2f} s  {rate:>10,.0f} rows/s  peak RSS {ours_rss / 1e6:6.0f} MB  "
        f"(child CPU {ours['cpu']:.1f} s)  "
        f"accepted {ours['accepted']:,}, rejected {ours['rejected']:,}, duplicate {ours['duplicate']:,}, "
        f"near-duplicates flagged {ours['near_duplicates']:,}  "
        f"[bar {BAR_S:.0f} s, {BAR_BYTES / 2**30:.0f} GiB: {'met' if ok else 'MISSED'}]"
    )
    again, again_rss = run_child(["reupload", str(csv), str(db)])
    _check(again["accepted"] == 0 and again["stored"] == ours["stored"], again)
    print(
        f"re-upload {again['seconds']:6.2f} s  {again['rows_read'] / again['seconds']:>10,.0f} rows/s  "
        f"peak RSS {again_rss / 1e6:6.0f} MB  (child CPU {again['cpu']:.1f} s)  accepted 0, "
        f"duplicate {again['duplicate']:,}"
    )
    if not args.no_naive:
        naive, naive_rss = run_child(["naive", str(csv), str(args.data / "naive.gpkg")])
        print(
            f"naive     {naive['seconds']:6.2f} s  {naive['rows_read'] / naive['seconds']:>10,.0f} rows/s  "
            f"peak RSS {naive_rss / 1e6:6.0f} MB  (child CPU {naive['cpu']:.1f} s)  "
            "(read_csv → sjoin → GPKG; no validation, dedupe or verdicts)"
        )
        print(
            f"ratio naive/ours: time {naive['seconds'] / ours['seconds']:.2f}x, "
            f"peak RSS {naive_rss / ours_rss:.2f}x"
        )
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"(this driver process: peak RSS {self_rss / 1e6:.0f} MB)")


if __name__ == "__main__":
    main()
