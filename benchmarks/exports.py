"""PNG snapshot and PDF briefing of 100k incidents, against what a geopandas/matplotlib user writes.

Run: ``python -m benchmarks.exports [--n 100000] [--repeat 3]``

Prints the median time (same number of runs on each side, in the same process) of
``geo.render.image.render_map_png`` and ``geo.render.pdf.render_briefing_pdf`` and of the baseline for
each, and their ratios. Bars: PNG at most 5 s, PDF at most 10 s.

- Baseline PNG: every incident as a GeoDataFrame in EPSG:4326 plotted with
  ``GeoDataFrame.plot(column="verdict", categorical=True, legend=True)`` over the Natural
  Earth countries, zones and lines (also ``.plot``), titled with the "data as of" time,
  saved at the same size and dpi with pyplot.
- Baseline PDF: the same three parts with matplotlib alone into ``PdfPages``: that map,
  the key figures and a daily trend chart, and the breach table with ``Axes.table``
  (the same 200 rows, 25 per page).
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

from benchmarks._timing import machine, timed
from geo.core import trends
from geo.core.classify import classify
from geo.core.filters import Filters
from geo.core.manifest import load_scenario
from geo.core.model import Scenario
from geo.render.image import BASEMAP, SIZES
from geo.render.image import render_map_png as render_snapshot
from geo.render.pdf import MAX_ROWS, history_since
from geo.render.pdf import render_briefing_pdf as render_brief
from geo.services.demo import DEMO_MANIFEST, generate_incidents

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


def baseline_map(view: pd.DataFrame, scenario: Scenario, dpi: int = DPI) -> plt.Figure:
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


def baseline_png(view: pd.DataFrame, scenario: Scenario, dpi: int = DPI) -> bytes:
    fig = baseline_map(view, scenario, dpi)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def baseline_pdf(view: pd.DataFrame, scenario: Scenario) -> bytes:
    buf = io.BytesIO()
    with PdfPages(buf) as pdf:
        fig = baseline_map(view, scenario)
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
        cells = rows[columns].astype(str).apply(lambda col: col.str.slice(0, 18))
        for start in range(0, len(cells), 25):
            fig, ax = plt.subplots(figsize=SIZES["a4"])
            ax.set_axis_off()
            page = cells.iloc[start : start + 25].to_numpy()
            table = ax.table(cellText=page, colLabels=columns, loc="upper center")
            table.set_fontsize(6)
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
            lambda: baseline_png(view, scenario),
            5.0,
        ),
        "PNG 300 dpi": (
            lambda: render_snapshot(view, scenario, filters=filters, as_of=AS_OF, dpi=300),
            lambda: baseline_png(view, scenario, 300),
            5.0,
        ),
        "PDF": (
            lambda: render_brief(view, scenario, filters=filters, as_of=AS_OF, history=history, dpi=DPI),
            lambda: baseline_pdf(view, scenario),
            10.0,
        ),
    }
    print(machine())
    print(f"{len(view):,} incidents, A4 at {DPI} dpi, median of {args.repeat} runs of each side")
    for name, (ours_fn, base_fn, bar) in cases.items():
        ours, out = timed(ours_fn, args.repeat)
        base, _ = timed(base_fn, args.repeat)
        verdict = "met" if ours <= bar else "NOT met"
        print(
            f"{name:<12} ours {ours:6.2f} s ({len(out) / 1e6:.1f} MB)  baseline {base:6.2f} s  "
            f"ratio {base / ours:5.1f}x  bar {bar:.0f} s: {verdict}"
        )


if __name__ == "__main__":
    main()
