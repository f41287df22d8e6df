"""Live map with 1M incidents in the store: a filter change to map HTML ready, on the server.

Run: ``python -m benchmarks.dashboard [--rows 1000000] [--repeat 3] [--store PATH] [--rebuild]``

The store is built once (demo scenario, ``generate_incidents`` over a year, one
``ingest_frame``; a few minutes) and kept in ``var/bench/`` for later runs.

Ours, per filter change, as the live map page does it: the incident cache is warm; apply
the filters to it (``Filters.apply``), fetch full rows when at most 3,000 incidents are drawn
one by one, compute the KPI strip (``geo.trends.kpis``), build the base map and the incident
layers (``geo.maps``) and render the page HTML (``get_root().render()``).

Naive, in the same run: ask the store with SQL for the filtered rows (every column), draw
the zones and lines as plain ``folium.GeoJson``, then the incidents as ``CircleMarker`` s with
popups when there are at most 3,000, else as one ``FastMarkerCluster`` of every point, and
render.

Bars (DESIGN.md section 6): at most 1.5 s, and at most 5 MB of HTML, whatever the count.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import folium
import pandas as pd
from folium.plugins import FastMarkerCluster
from shapely.geometry import mapping

from benchmarks._timing import timed
from geo.cache import IncidentCache, Snapshot
from geo.demo import DEMO_MANIFEST, generate_incidents
from geo.filters import Filters
from geo.ingest import ingest_frame, load_scenario_into_store
from geo.manifest import load_scenario
from geo.model import Scenario
from geo.render.webmap import DEFAULT_MAX_MARKERS, base_map, incident_layers
from geo.store import Store, open_store
from geo.trends import kpis

REPO = Path(__file__).resolve().parent.parent
BAR_S = 1.5
BAR_MB = 5.0


@dataclass(frozen=True)
class Case:
    """One filter change: a name and the filters it lands on (``since`` in days before now)."""

    name: str
    days: float | None
    parties: tuple[str, ...] = ()
    verdicts: tuple[str, ...] = ()
    zones: tuple[str, ...] = ()

    def filters(self, now: datetime) -> Filters:
        """The filters at ``now``."""
        since = None if self.days is None else now - timedelta(days=self.days)
        return Filters(since=since, parties=self.parties, verdicts=self.verdicts, zones=self.zones)


PARAMS: tuple[Case, ...] = (
    Case("all time, no filter", None),
    Case("all time, party north", None, parties=("north",)),
    Case("30 days, breaches", 30, verdicts=("breach",)),
    Case("7 days, no filter", 7),
    Case("7 days, south, possible breaches", 7, parties=("south",), verdicts=("possible_breach",)),
    Case("24 hours, zone dmz", 1, zones=("dmz",)),
    Case(
        "90 days, zone nofly-uav, breaches", 90, zones=("nofly-uav",), verdicts=("breach", "possible_breach")
    ),
)


@dataclass
class Bench:
    """The store, its scenario and a warm incident cache."""

    store: Store
    scenario: Scenario
    snapshot: Snapshot
    load_s: float


def build(path: Path, rows: int) -> None:
    """Write a store with the demo scenario and ``rows`` synthetic incidents over a year."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = open_store(f"sqlite:///{path}")
    scenario = load_scenario(DEMO_MANIFEST)
    load_scenario_into_store(store, scenario)
    start = time.perf_counter()
    frame = generate_incidents(scenario, n=rows, days=365, seed=0)
    ingest_frame(store, frame, name=f"benchmark {rows}")
    with store.write() as tx:
        tx.meta_set("benchmark_rows", str(rows))
    store.close()
    print(f"built {path} with {rows:,} incidents in {time.perf_counter() - start:.0f} s")


def setup(rows: int, path: Path, *, rebuild: bool) -> Bench:
    """Open (building if needed) the benchmark store and warm the incident cache."""
    if rebuild or not path.exists() or open_store(f"sqlite:///{path}").meta("benchmark_rows") != str(rows):
        build(path, rows)
    store = open_store(f"sqlite:///{path}")
    scenario = store.scenario()
    if scenario is None:
        msg = f"{path}: no scenario; run again with --rebuild"
        raise SystemExit(msg)
    start = time.perf_counter()
    snapshot = IncidentCache(store).snapshot()
    load_s = time.perf_counter() - start
    return Bench(store, scenario, snapshot, load_s)


def full_rows(store: Store, view: pd.DataFrame) -> pd.DataFrame:
    """As the page: full rows (for popups) only when the incidents are drawn one by one."""
    if len(view) > DEFAULT_MAX_MARKERS or view.empty:
        return view
    rows = store.incidents_by_id(view["incident_id"].tolist()).set_index("incident_id")
    return rows.loc[rows.index.intersection(view["incident_id"].to_numpy())].reset_index()


def ours(bench: Bench, case: Case) -> tuple[str, int, int]:
    """One filter change on the live map; returns the HTML, the matches and the markers drawn."""
    now = datetime.now(UTC)
    filters = case.filters(now)
    frame = bench.snapshot.frame
    view = filters.apply(frame)
    kpis(filters.with_(since=None, until=None).apply(frame), as_of=pd.Timestamp(now), by="party")
    layers = incident_layers(
        full_rows(bench.store, view), bench.scenario, new_since=now - timedelta(minutes=1)
    )
    m = base_map(bench.scenario, layer_control=False)
    for layer in layers:
        layer.add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    html = m.get_root().render()
    markers = len(view) if len(view) <= DEFAULT_MAX_MARKERS else 0
    return html, len(view), markers


def naive(bench: Bench, case: Case) -> tuple[str, int]:
    """SQL for the filtered rows, then folium's own markers (or a FastMarkerCluster beyond 3,000)."""
    view = bench.store.query(case.filters(datetime.now(UTC)))
    center = [view["lat"].mean(), view["lon"].mean()] if len(view) else [38.0, 127.0]
    m = folium.Map(location=center, zoom_start=8, tiles=None)
    for zone in bench.scenario.zones:  # the same lines and zones, the plain folium way
        folium.GeoJson(mapping(zone.geometry), tooltip=zone.name).add_to(m)
    for line in bench.scenario.lines:
        folium.GeoJson(mapping(line.geometry), tooltip=line.name).add_to(m)
    if len(view) <= DEFAULT_MAX_MARKERS:
        colours = {"breach": "red", "possible_breach": "orange", "no_breach": "green"}
        for row in view.itertuples():
            folium.CircleMarker(
                [row.lat, row.lon],
                radius=5,
                color=colours.get(row.verdict, "grey"),
                popup=folium.Popup(f"{row.occurred_at} {row.category} {row.verdict} {row.description}"),
            ).add_to(m)
    else:
        FastMarkerCluster(view[["lat", "lon"]].to_numpy().tolist()).add_to(m)
    return m.get_root().render(), len(view)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--naive-repeat", type=int, default=1)
    parser.add_argument("--store", type=Path, default=None, help="default: var/bench/dashboard-ROWS.db")
    parser.add_argument("--rebuild", action="store_true", help="build the store again")
    args = parser.parse_args()
    path = args.store or REPO / "var" / "bench" / f"dashboard-{args.rows}.db"
    bench = setup(args.rows, path, rebuild=args.rebuild)
    print(
        f"store: {len(bench.snapshot.frame):,} incidents; incident cache loaded in {bench.load_s:.1f} s "
        "(once per server process; later filter changes use it warm)"
    )
    ours(bench, PARAMS[3])  # warm-up: the scenario's shapes, the countries, the kernels
    header = f"{'filter change':36} {'matches':>9} {'drawn as':>10} {'ours s':>7} {'HTML MB':>8} "
    header += f"{'naive s':>8} {'naive MB':>9} {'ratio':>6}"
    print(header)
    print("-" * len(header))
    worst_s = worst_mb = 0.0
    ratios = []
    for case in PARAMS:
        seconds, (html, matches, markers) = timed(lambda c=case: ours(bench, c), args.repeat)
        naive_s, (naive_html, naive_n) = timed(lambda c=case: naive(bench, c), args.naive_repeat)
        if naive_n != matches:
            msg = f"{case.name}: the naive path found {naive_n:,} incidents, ours {matches:,}"
            raise SystemExit(msg)
        size = len(html.encode()) / 1e6
        naive_size = len(naive_html.encode()) / 1e6
        worst_s, worst_mb = max(worst_s, seconds), max(worst_mb, size)
        ratios.append(naive_s / seconds)
        mode = f"{markers:,} pts" if markers else "hex cells"
        print(
            f"{case.name:36} {matches:>9,} {mode:>10} {seconds:>7.3f} {size:>8.2f} "
            f"{naive_s:>8.2f} {naive_size:>9.2f} {naive_s / seconds:>5.1f}x"
        )
    median_ratio = statistics.median(ratios)
    print(
        f"\nworst filter change {worst_s:.3f} s (bar {BAR_S} s: {'PASS' if worst_s <= BAR_S else 'FAIL'}); "
        f"largest HTML {worst_mb:.2f} MB (bar {BAR_MB} MB: {'PASS' if worst_mb <= BAR_MB else 'FAIL'}); "
        f"median ratio naive/ours {median_ratio:.1f}x"
    )


if __name__ == "__main__":
    main()
