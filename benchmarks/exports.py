"""PNG snapshot and PDF briefing of 100k incidents, against naive matplotlib baselines.

Run: ``python -m benchmarks.exports [--n 100000] [--repeat 3]``

Prints the median time of ``geo.snapshot.render_snapshot`` and ``geo.brief.render_brief``
and of a naive peer for each, in the same process, and their ratios. Bars (DESIGN.md
section 6 and issue 5): PNG at most 5 s, PDF at most 10 s.

- Naive PNG: every incident as a GeoDataFrame in EPSG:4326 plotted with
  ``GeoDataFrame.plot(column="verdict")`` over the Natural Earth countries, zones and
  lines (also ``.plot``), legend, saved at the same size and dpi with pyplot.
- Naive PDF: the same three parts with matplotlib alone into ``PdfPages``: the naive
  map, the key figures and trend chart, and the breach table drawn cell by cell with
  ``fig.text`` (same 200 rows, 25 per page).
"""

from __future__ import annotations

import argparse
import io
from datetime import date

import geopandas as gpd
import matplotlib as mpl

mpl.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages

from benchmarks._timing import timed
from geo import trends
from geo.classify import classify
from geo.demo import DEMO_MANIFEST, generate_incidents
from geo.filters import Filters
from geo.manifest import load_scenario
from geo.model import Scenario
from geo.render.image import BASEMAP, SIZES
from geo.render.image import render_map_png as render_snapshot
from geo.render.pdf import MAX_ROWS, history_since
from geo.render.pdf import render_briefing_pdf as render_brief

END = date(2026, 6, 30)
AS_OF = pd.Timestamp("2026-07-01T00:00:00Z")
DPI = 200


def setup(n: int) -> tuple[Scenario, pd.DataFrame, Filters]:
    scenario = load_scenario(DEMO_MANIFEST)
    incidents = generate_incidents(scenario, n=n, days=200, end=END, seed=0)
    view = incidents.join(classify(incidents, scenario))
    view["incident_id"] = range(1, len(view) + 1)
    view["batch_id"] = 1
    view["ingested_at"] = AS_OF
    return scenario, view, Filters(since=AS_OF - pd.Timedelta(days=200))


def naive_map(view: pd.DataFrame, scenario: Scenario, dpi: int = DPI) -> plt.Figure:
    fig, ax = plt.subplots(figsize=SIZES["a4"], dpi=dpi)
    gpd.read_file(BASEMAP).plot(ax=ax, color="#f4f1ea", edgecolor="#a39e93")
    zones = gpd.GeoDataFrame(
        {"kind": [z.kind for z in scenario.zones]}, geometry=[z.geometry for z in scenario.zones], crs=4326
    )
    zones.plot(ax=ax, column="kind", alpha=0.3)
    gpd.GeoSeries([ln.geometry for ln in scenario.lines], crs=4326).plot(ax=ax, color="black", linewidth=2)
    points = gpd.GeoDataFrame(
        view.assign(verdict=view["verdict"].astype(str)),
        geometry=gpd.points_from_xy(view["lon"], view["lat"]),
        crs=4326,
    )
    points.plot(
        ax=ax,
        column="verdict",
        categorical=True,
        legend=True,
        markersize=8,
        legend_kwds={"loc": "lower right"},
    )
    west, south, east, north = (126.2, 37.4, 129.0, 39.1)
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_title(f"{scenario.name}\nData as of {AS_OF:%Y-%m-%d %H:%M} UTC")
    return fig


def naive_png(view: pd.DataFrame, scenario: Scenario, dpi: int = DPI) -> bytes:
    fig = naive_map(view, scenario, dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def naive_pdf(view: pd.DataFrame, scenario: Scenario) -> bytes:
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = naive_map(view, scenario)
        pdf.savefig(fig)
        plt.close(fig)
        fig, (top, bottom) = plt.subplots(2, 1, figsize=SIZES["a4"])
        kpi = trends.kpis(view, as_of=AS_OF, by="party")
        for i, (party, row) in enumerate(kpi.iterrows()):
            top.text(0.0, 0.9 - i * 0.1, f"{party}: " + ", ".join(f"{k} {v}" for k, v in row.items()))
        top.set_axis_off()
        daily = trends.counts(view, by=("party",), freq="day")
        for party, group in daily.groupby("party"):
            bottom.plot(group["period"], group["count"], label=party)
        bottom.legend(loc="upper left")
        pdf.savefig(fig)
        plt.close(fig)
        breaches = view[view["verdict"].astype(str) == "breach"].sort_values("occurred_at", ascending=False)
        rows = breaches.head(MAX_ROWS)
        columns = [
            "occurred_at",
            "location_name",
            "lon",
            "lat",
            "zones",
            "rules",
            "attributed_party",
            "attribution",
            "location_precision",
            "verification",
            "source",
            "source_event_id",
        ]
        for start in range(0, len(rows), 25):
            fig = plt.figure(figsize=SIZES["a4"])
            for r, (_, row) in enumerate(rows.iloc[start : start + 25].iterrows()):
                for c, col in enumerate(columns):
                    fig.text(0.02 + c * 0.08, 0.95 - r * 0.037, str(row[col])[:18], fontsize=6)
            pdf.savefig(fig)
            plt.close(fig)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    scenario, view, filters = setup(args.n)
    history = filters.with_(since=history_since(filters, AS_OF)).apply(view)
    view = filters.apply(view)
    # Warm caches that are paid once per process (fonts, basemap file).
    render_snapshot(view.head(10), scenario, filters=filters, as_of=AS_OF, dpi=150)
    cases = {
        "PNG": (
            lambda: render_snapshot(view, scenario, filters=filters, as_of=AS_OF, dpi=DPI),
            lambda: naive_png(view, scenario),
            5.0,
        ),
        "PNG 300 dpi": (
            lambda: render_snapshot(view, scenario, filters=filters, as_of=AS_OF, dpi=300),
            lambda: naive_png(view, scenario, 300),
            5.0,
        ),
        "PDF": (
            lambda: render_brief(view, scenario, filters=filters, as_of=AS_OF, history=history, dpi=DPI),
            lambda: naive_pdf(view, scenario),
            10.0,
        ),
    }
    print(f"{len(view):,} incidents, A4 at {DPI} dpi, median of {args.repeat} runs")
    for name, (ours_fn, naive_fn, bar) in cases.items():
        ours, out = timed(ours_fn, args.repeat)
        naive, _ = timed(naive_fn, args.repeat)
        verdict = "within" if ours <= bar else "OVER"
        print(
            f"{name:<12} ours {ours:6.2f} s ({len(out) / 1e6:.1f} MB)  naive {naive:6.2f} s  "
            f"ratio {naive / ours:5.1f}x  bar {bar:.0f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
