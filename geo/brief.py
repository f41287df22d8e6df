"""PDF briefing of an incident view: map, key figures, trend, spikes and the breaches.

Page 1 is the map snapshot. Page 2 has the key figures for the period against the
period before it (per party and per zone, from :func:`geo.trends.kpis`), a trend chart
and the spike alerts (:func:`geo.trends.spikes`). The pages after it list the breaches,
most recent first. All text is real PDF text in the shipped Noto fonts, so Arabic,
Korean and Cyrillic names render and can be copied; Arabic is shaped with HarfBuzz
(``uharfbuzz``) when the document holds text that needs it.

The period and the history
--------------------------
The *period* is the filter window ``[since, until)``; ``until`` defaults to ``as_of``
(and is capped at it), and with no ``since`` the period is the 7 days before its end.
The *previous period* is the span of the same length just before it. Comparing the
two needs incidents from before the window, which the filtered ``view`` does not
hold: pass ``history``, the incident view for the same filters over at least
``[history_since(filters, as_of), end)``. Spike alerts need the 5 weeks before the end
too; :func:`history_since` covers both. Without ``history`` (and with a ``since``),
the previous-period columns read "n/a" and the spike alerts are left out, saying why.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from fpdf import FPDF
from fpdf.enums import MethodReturnValue, XPos, YPos
from matplotlib import dates as mdates

from geo import _render as rnd
from geo import trends
from geo.categories import vocabulary
from geo.filters import Filters
from geo.model import VERDICTS, Scenario
from geo.snapshot import snapshot

DEFAULT_PERIOD = timedelta(days=7)
SPIKE_LOOKBACK = timedelta(days=35)
MAX_ROWS = 200
"""Breaches listed by default; the rest are counted and left to the data exports."""

_PAGE_W, _PAGE_H, _MARGIN = 297.0, 210.0, 12.0
_BODY_W = _PAGE_W - 2 * _MARGIN
_INK = (27, 38, 49)
_GREY = (90, 90, 90)
_HEAD_FILL = (226, 231, 236)
_ZEBRA = (246, 247, 249)
_RED = (179, 0, 27)
_PAD_X, _PAD_Y = 1.2, 0.8
_N_A = "n/a"
_CHART_IN = (10.6, 2.2)
_KPI_WIDTHS = (83, 28, 28, 35, 32, 28, 35)
_PLURAL = {
    "breach": "breaches",
    "possible_breach": "possible breaches",
    "no_breach": "no breach",
    "outside_monitored_area": "outside the monitored area",
}


@dataclass(frozen=True)
class Period:
    """The key-figures period ``[start, end)`` and the previous period of the same length."""

    start: pd.Timestamp
    end: pd.Timestamp

    @property
    def length(self) -> pd.Timedelta:
        """The length of the period."""
        return self.end - self.start

    @property
    def previous_start(self) -> pd.Timestamp:
        """The start of the previous period (which ends at :attr:`start`)."""
        return self.start - self.length


def key_period(filters: Filters, as_of: datetime | pd.Timestamp) -> Period:
    """
    The period the key figures describe.

    Parameters
    ----------
    filters
        Their window ``[since, until)``; ``until`` is capped at ``as_of``.
    as_of
        When the data was current.

    Returns
    -------
    Period
        ``[since, min(until, as_of))``, or the 7 days before the end when there is no ``since``.
    """
    as_of_ts = rnd.utc(as_of)
    end = min(rnd.utc(filters.until), as_of_ts) if filters.until else as_of_ts
    start = rnd.utc(filters.since) if filters.since else end - DEFAULT_PERIOD
    if start >= end:
        msg = f"brief: filters: the window {rnd.fmt_time(start)} to {rnd.fmt_time(end)} is empty"
        raise ValueError(msg)
    return Period(start, end)


def history_since(filters: Filters, as_of: datetime | pd.Timestamp) -> pd.Timestamp:
    """
    The earliest time the ``history`` of :func:`render_brief` must cover.

    Returns
    -------
    pandas.Timestamp
        The start of the previous period, or 5 weeks before the end if that is earlier
        (the spike alerts compare the last week with the 4 before it).
    """
    period = key_period(filters, as_of)
    return min(period.previous_start, period.end - SPIKE_LOOKBACK)


def render_brief(
    view: pd.DataFrame,
    scenario: Scenario,
    *,
    filters: Filters,
    as_of: datetime | pd.Timestamp,
    history: pd.DataFrame | None = None,
    title: str | None = None,
    max_rows: int = MAX_ROWS,
    dpi: int = 200,
) -> bytes:
    """
    Render the PDF briefing of an incident view.

    Parameters
    ----------
    view
        The filtered incident view (normalised, classification and store columns).
    scenario
        The scenario the view was classified against.
    filters
        The filters that produced ``view``; printed on every page.
    as_of
        When the data was current (UTC); printed on every page.
    history
        The incident view for the same filters over at least
        ``[history_since(filters, as_of), end)``: the previous period and the spike
        baseline. Default: ``view``, which is enough only when the filters have no
        ``since``.
    title
        Default: "Briefing: " and the scenario name.
    max_rows
        How many breaches the table lists (most recent first); the rest are counted.
    dpi
        Resolution of the map and the chart.

    Returns
    -------
    bytes
        The PDF document.
    """
    _check(view, max_rows)
    as_of_ts = rnd.utc(as_of)
    period = key_period(filters, as_of_ts)
    covered = history is not None or filters.since is None
    hist = history if history is not None else view
    doc = _Brief(scenario, filters, as_of_ts, title or f"Briefing: {scenario.name}")
    breaches = _breach_rows(view, scenario, max_rows)
    if rnd.needs_shaping(_all_text(view, scenario, filters, breaches)):
        doc.set_text_shaping(use_shaping_engine=True, direction="ltr")
    doc.map_page(view, dpi)
    doc.figures_page(hist, period, covered=covered, dpi=dpi)
    doc.breaches_pages(breaches, total=int((view["verdict"].astype(object) == "breach").sum()))
    return bytes(doc.output())


def _check(view: pd.DataFrame, max_rows: int) -> None:
    needed = ("occurred_at", "lon", "lat", "verdict", "attributed_party", "zones", "rules")
    missing = [c for c in needed if c not in view]
    if missing:
        msg = f"brief: view: missing column(s) {', '.join(missing)}"
        raise ValueError(msg)
    if max_rows < 0:
        msg = f"brief: max_rows: must be 0 or more, got {max_rows}"
        raise ValueError(msg)


def _all_text(view: pd.DataFrame, scenario: Scenario, filters: Filters, rows: pd.DataFrame) -> list[str]:
    names = [
        scenario.name,
        filters.describe(),
        *(p.name for p in scenario.parties),
        *(z.name for z in scenario.zones),
        *(ln.name for ln in scenario.lines),
    ]
    cells = [str(v) for v in rows.to_numpy().ravel()] if len(rows) else []
    sources = [str(s) for s in view["source"].astype(object).dropna().unique()] if "source" in view else []
    return [*names, *cells, *sources]


# --- figures --------------------------------------------------------------------------


def _change(last: int, prev: int | None) -> str:
    if prev is None:
        return _N_A
    diff = last - prev
    if prev == 0:
        return f"{diff:+d} (new)" if diff else "0"
    return f"{diff:+d} ({diff / prev:+.0%})" if diff else "0"


def kpi_table(
    history: pd.DataFrame, scenario: Scenario, period: Period, *, by: str, covered: bool = True
) -> pd.DataFrame:
    """
    Breaches and possible breaches in the period and the previous one, per party or zone.

    Parameters
    ----------
    history
        An incident view covering the period and, when ``covered``, the previous period.
    scenario
        Gives every party or zone a row, with its display name.
    period
        The key-figures period.
    by
        ``party`` or ``zone``.
    covered
        Whether ``history`` covers the previous period; if not, its figures are missing.

    Returns
    -------
    pandas.DataFrame
        Indexed by party or zone id, with ``name``, and for ``breach`` and
        ``possible_breach``: ``{verdict}`` (the period), ``{verdict}_prev`` (nullable)
        and ``{verdict}_change`` (text).
    """
    names = (
        {p.id: p.name for p in scenario.parties} if by == "party" else {z.id: z.name for z in scenario.zones}
    )
    hours = int(period.length.total_seconds() // 3600)
    frames = {}
    occurred = pd.to_datetime(history["occurred_at"], utc=True)
    span = history[(occurred >= period.previous_start) & (occurred < period.end)]
    for verdict in ("breach", "possible_breach"):
        columns = [verdict, f"{verdict}_prev"]
        if not (span["verdict"].astype(object) == verdict).any():
            # geo.trends.explode_zones fails on an empty frame; nothing to count anyway.
            frames[verdict] = pd.DataFrame(columns=columns, dtype="int64")
            continue
        k = trends.kpis(
            span, as_of=period.end, by=by, verdicts=(verdict,), windows=(period.length.to_pytimedelta(),)
        )
        frames[verdict] = k[[f"last_{hours}h", f"prev_{hours}h"]].set_axis(columns, axis=1)
    extra = sorted(set(frames["breach"].index) | set(frames["possible_breach"].index) - set(names))
    index = [*names, *(e for e in extra if e not in names)]
    out = pd.DataFrame(index=pd.Index(index, name=by))
    fallback = {
        trends.UNATTRIBUTED: "Unattributed",
        trends.NO_ZONE: "Outside every zone (location uncertain)",
    }
    out["name"] = [names.get(i, fallback.get(i, i)) for i in index]
    for verdict, found in frames.items():
        frame = found.reindex(index, fill_value=0)
        out[verdict] = frame[verdict].astype("int64")
        prev = frame[f"{verdict}_prev"].astype("Int64")
        out[f"{verdict}_prev"] = prev if covered else pd.array([pd.NA] * len(index), dtype="Int64")
        out[f"{verdict}_change"] = [
            _change(int(a), None if pd.isna(b) else int(b))
            for a, b in zip(out[verdict], out[f"{verdict}_prev"], strict=True)
        ]
    keep = (out["breach"] > 0) | (out["possible_breach"] > 0) | out.index.isin(list(names))
    return out[keep]


def _trend_png(history: pd.DataFrame, scenario: Scenario, period: Period, dpi: int) -> bytes:
    start = min(period.previous_start, period.end - SPIKE_LOOKBACK)
    occurred = pd.to_datetime(history["occurred_at"], utc=True)
    span = history[(occurred >= start) & (occurred < period.end)]
    freq = "day" if period.end - start <= pd.Timedelta(days=92) else "week"
    fig = rnd.new_figure(*_CHART_IN, dpi)
    ax = fig.add_axes((0.06, 0.17, 0.74, 0.70))
    ax.axvspan(period.previous_start, period.start, color="#eef1f4", zorder=0, label="Previous period")
    ax.axvspan(period.start, period.end, color="#fdf2d0", zorder=0, label="Period")
    colours = rnd.party_colours(scenario)
    names = {p.id: p.short_name or p.name for p in scenario.parties}
    for verdict, style in (("breach", "-"), ("possible_breach", "--")):
        counts = trends.counts(span, by=("party",), freq=freq, verdicts=(verdict,))
        grid = counts.pivot_table(
            index="period", columns="party", values="count", aggfunc="sum", fill_value=0
        )
        step = "D" if freq == "day" else "W-MON"
        full = pd.date_range(_floor(start, freq), period.end, freq=step, tz="UTC")
        grid = grid.reindex(full.union(grid.index), fill_value=0)
        for party in grid.columns:
            pid = "" if party == trends.UNATTRIBUTED else party
            ax.plot(
                grid.index,
                grid[party],
                linestyle=style,
                linewidth=1.6 if style == "-" else 1.1,
                color=colours.get(pid, rnd.UNATTRIBUTED_COLOUR),
                drawstyle="steps-post",
                label=f"{names.get(pid, 'Unattributed')}: {_PLURAL[verdict]}",
            )
    ax.set_xlim(start, period.end)
    ax.set_ylim(bottom=0)
    ax.set_ylabel(f"incidents per {freq}", fontproperties=rnd.font(8))
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(ax.xaxis.get_major_locator(), show_offset=False))
    ax.tick_params(labelsize=7.5, labelfontfamily=list(rnd.font_families()))
    ax.grid(axis="y", color="#dddddd", linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.set_title(
        f"Breaches (solid) and possible breaches (dashed) per {freq}, by attributed party",
        loc="left",
        fontproperties=rnd.font(9, weight="bold"),
    )
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, prop=rnd.font(7.5))
    return rnd.png_bytes(fig)


def _hemi(value: float, pos: str, neg: str) -> str:
    return f"{abs(value):.4f}\u00b0{pos if value >= 0 else neg}"


def _floor(ts: pd.Timestamp, freq: str) -> pd.Timestamp:
    day = ts.floor("D")
    return day - pd.Timedelta(days=day.day_of_week) if freq == "week" else day


# --- breach rows ----------------------------------------------------------------------

BREACH_COLUMNS: tuple[tuple[str, float], ...] = (
    ("Time (UTC)", 23.0),
    ("Place", 38.0),
    ("Zone", 36.0),
    ("Rule", 33.0),
    ("Category", 28.0),
    ("Party (basis)", 30.0),
    ("Precision", 20.0),
    ("Verification", 20.0),
    ("Source", 45.0),
)


def _breach_rows(view: pd.DataFrame, scenario: Scenario, max_rows: int) -> pd.DataFrame:
    """The table cells of the most recent breaches, one string per cell."""
    frame = view[view["verdict"].astype(object) == "breach"]
    frame = frame.sort_values("occurred_at", ascending=False, kind="stable").head(max_rows)
    if not len(frame):
        return pd.DataFrame(columns=[c for c, _ in BREACH_COLUMNS])
    t = pd.to_datetime(frame["occurred_at"], utc=True).dt.strftime("%Y-%m-%d %H:%M").to_numpy(dtype=object)
    dprec = rnd.text_column(frame, "date_precision")
    t = np.where(np.isin(dprec, ["", "exact"]), t, t + "\n(" + dprec + ")")
    lon = frame["lon"].to_numpy(dtype=float)
    lat = frame["lat"].to_numpy(dtype=float)
    coords = np.array(
        [f"{_hemi(b, 'N', 'S')}, {_hemi(a, 'E', 'W')}" for a, b in zip(lon, lat, strict=True)], dtype=object
    )
    place = rnd.text_column(frame, "location_name")
    place = np.where(place == "", coords, place + "\n" + coords)
    rules = {r.id: r for r in scenario.rules}
    zones = {z.id: z.name for z in scenario.zones}
    fired = [[rules[r] for r in str(s).split(";") if r in rules] for s in rnd.text_column(frame, "rules")]
    zone_txt = ["\n".join(dict.fromkeys(zones.get(r.zone, r.zone) for r in rs)) for rs in fired]
    rule_txt = ["\n".join(f"{r.id} ({r.severity})" for r in rs) for rs in fired]
    labels = vocabulary().labels
    category = np.array([labels.get(c, c) for c in rnd.text_column(frame, "category")], dtype=object)
    weapon = rnd.text_column(frame, "weapon_class")
    category = np.where(weapon == "", category, category + "\n" + weapon)
    parties = {"": "Unattributed", **{p.id: p.short_name or p.name for p in scenario.parties}}
    party = [parties.get(p, p) for p in rnd.text_column(frame, "attributed_party")]
    basis = [rnd.ATTRIBUTION_LABELS.get(b, b) for b in rnd.text_column(frame, "attribution")]
    precision = rnd.text_column(frame, "location_precision")
    if "location_uncertainty_m" in frame:
        radius = frame["location_uncertainty_m"].to_numpy(dtype=float, na_value=np.nan)
        shown = np.char.mod("%.0f m", radius).astype(object)
        precision = np.where(np.isfinite(radius), precision + "\n\u00b1" + shown, precision)
    source = rnd.text_column(frame, "source") + "\n" + rnd.text_column(frame, "source_event_id")
    return pd.DataFrame(
        {
            "Time (UTC)": t,
            "Place": place,
            "Zone": zone_txt,
            "Rule": rule_txt,
            "Category": category,
            "Party (basis)": [f"{p}\n({b})" for p, b in zip(party, basis, strict=True)],
            "Precision": precision,
            "Verification": rnd.text_column(frame, "verification"),
            "Source": source,
        }
    )


# --- the document ---------------------------------------------------------------------


class _Brief(FPDF):
    """The briefing document: fonts, running header and footer, and its pages."""

    def __init__(self, scenario: Scenario, filters: Filters, as_of: pd.Timestamp, title: str) -> None:
        super().__init__(orientation="L", unit="mm", format="A4")
        self.scenario = scenario
        self.filters = filters
        self.as_of = as_of
        self.doc_title = title
        self.add_font("noto", "", rnd.font_path("regular"))
        self.add_font("noto", "B", rnd.font_path("bold"))
        self.add_font("noto-kr", "", rnd.font_path("korean"))
        self.add_font("noto-ar", "", rnd.font_path("arabic"))
        self.set_fallback_fonts(["noto-kr", "noto-ar"], exact_match=False)
        self.set_margins(_MARGIN, 26.0 if scenario.synthetic else 19.0, _MARGIN)
        self.set_auto_page_break(auto=True, margin=17.0)
        self.set_title(title)
        self.set_subject(f"Data as of {rnd.fmt_time(as_of)}; {filters.describe()}")
        self.set_creator("Truceline")
        self.set_author("Truceline")
        if scenario.synthetic:
            self.set_keywords("synthetic demo data")

    # Header and footer are called by fpdf2 on every page.
    def header(self) -> None:
        y = 0.0
        if self.scenario.synthetic:
            self.set_fill_color(*_RED)
            self.rect(0, 0, _PAGE_W, 9.0, style="F")
            self.set_xy(0, 1.5)
            self.set_font("noto", "B", 10.5)
            self.set_text_color(255, 255, 255)
            self.cell(_PAGE_W, 6, f"{rnd.SYNTHETIC_BANNER}  \u00b7  {rnd.SYNTHETIC_NOTE}", align="C")
            y = 9.0
        self.set_xy(_MARGIN, y + 4.0)
        self.set_font("noto", "", 8)
        self.set_text_color(*_GREY)
        self.cell(_BODY_W * 0.65, 5, f"Truceline briefing \u00b7 {self.scenario.name}")
        self.set_font("noto", "B", 8)
        self.set_text_color(*_INK)
        self.cell(_BODY_W * 0.35, 5, f"Data as of {rnd.fmt_time(self.as_of)}", align="R")
        self.set_draw_color(180, 180, 180)
        self.line(_MARGIN, y + 9.8, _PAGE_W - _MARGIN, y + 9.8)
        self.set_text_color(*_INK)
        self.set_xy(self.l_margin, self.t_margin)

    def footer(self) -> None:
        self.set_y(-14.0)
        self.set_draw_color(180, 180, 180)
        self.line(_MARGIN, self.get_y(), _PAGE_W - _MARGIN, self.get_y())
        self.set_y(-13.0)
        self.set_font("noto", "", 7)
        self.set_text_color(*_GREY)
        text = textwrap.shorten("Window and filters: " + self.filters.describe(), 230, placeholder=" \u2026")
        self.multi_cell(_BODY_W - 30, 3.6, text, new_x=XPos.RIGHT, new_y=YPos.TOP)
        self.set_xy(_PAGE_W - _MARGIN - 30, -13.0)
        self.cell(30, 3.6, f"Page {self.page_no()} of {{nb}}", align="R")

    def h1(self, text: str) -> None:
        """A page heading."""
        self.set_font("noto", "B", 14)
        self.set_text_color(*_INK)
        self.multi_cell(_BODY_W, 7, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def h2(self, text: str, *, keep: float = 25.0) -> None:
        """A section heading, on a new page unless ``keep`` mm are left under it."""
        if self.get_y() + keep > self.page_break_trigger:
            self.add_page()
        self.ln(2.0)
        self.set_font("noto", "B", 10.5)
        self.set_text_color(*_INK)
        self.multi_cell(_BODY_W, 6, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(self, text: str, *, size: float = 8.5, bold: bool = False, colour: tuple = _INK) -> None:
        """A paragraph of body text."""
        self.set_font("noto", "B" if bold else "", size)
        self.set_text_color(*colour)
        self.multi_cell(_BODY_W, size * 0.48, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def grid(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[str]],
        widths: Sequence[float],
        *,
        align: Sequence[str],
        size: float = 8.0,
        bold_last: bool = False,
    ) -> None:
        """
        A table with a shaded heading row, repeated on every page it spans.

        Drawn line by line with ``cell``: fpdf2's ``table`` measures every cell twice
        with ``multi_cell`` and takes seconds for a few hundred rows.
        """
        line_h = size * 0.42
        self.set_draw_color(205, 205, 205)
        self.set_text_color(*_INK)
        self._grid_row(list(header), widths, align, size, line_h, head=True)
        for i, row in enumerate(rows):
            bold = bold_last and i == len(rows) - 1
            self._grid_row(
                [str(c) for c in row],
                widths,
                align,
                size,
                line_h,
                zebra=i % 2 == 1,
                bold=bold,
                header=list(header),
            )
        self.ln(1.0)

    def _grid_row(
        self,
        cells: list[str],
        widths: Sequence[float],
        align: Sequence[str],
        size: float,
        line_h: float,
        *,
        head: bool = False,
        zebra: bool = False,
        bold: bool = False,
        header: list[str] | None = None,
    ) -> None:
        self.set_font("noto", "B" if head or bold else "", size)
        lines = [self._wrap(text, w - 2 * _PAD_X) for text, w in zip(cells, widths, strict=True)]
        height = max(len(ln) for ln in lines) * line_h + 2 * _PAD_Y
        if header is not None and self.get_y() + height > self.page_break_trigger:
            self.add_page()
            self._grid_row(header, widths, align, size, line_h, head=True)
            self.set_font("noto", "B" if bold else "", size)
        x0, y0 = self.l_margin, self.get_y()
        if head or zebra:
            self.set_fill_color(*(_HEAD_FILL if head else _ZEBRA))
            self.rect(x0, y0, sum(widths), height, style="F")
        x = x0
        for cell_lines, w, a in zip(lines, widths, align, strict=True):
            for k, text in enumerate(cell_lines):
                self.set_xy(x + _PAD_X, y0 + _PAD_Y + k * line_h)
                self.cell(w - 2 * _PAD_X, line_h, text, align=a)
            x += w
        self.line(x0, y0 + height, x0 + sum(widths), y0 + height)
        self.set_xy(x0, y0 + height)

    def _wrap(self, text: str, width: float) -> list[str]:
        """The lines of a cell: its own line breaks, and wrapping where a line is too wide."""
        out: list[str] = []
        for part in text.split("\n"):
            # ASCII is measured exactly; other scripts may come from a fallback font, so
            # guess one em per character and let fpdf2 wrap those that may not fit.
            guess = self.get_string_width(part) if part.isascii() else len(part) * self.font_size
            if guess <= width:
                out.append(part)
            else:
                out.extend(self.multi_cell(width, 1, part, dry_run=True, output=MethodReturnValue.LINES))
        return out

    def map_page(self, view: pd.DataFrame, dpi: int) -> None:
        """Page 1: title, window, counts and the map."""
        self.add_page()
        self.h1(self.doc_title)
        self.para("Window and filters: " + self.filters.describe(), size=8.5)
        verdict = view["verdict"].astype(object).value_counts()
        counts = ", ".join(f"{int(verdict.get(v, 0)):,} {_PLURAL[v]}" for v in VERDICTS)
        self.para(f"Data as of {rnd.fmt_time(self.as_of)}. {len(view):,} incidents: {counts}.", bold=True)
        top = self.get_y() + 1.5
        height = _PAGE_H - 17.0 - 12.0 - top
        snap = snapshot(
            view,
            self.scenario,
            filters=self.filters,
            as_of=self.as_of,
            dpi=dpi,
            size=(_BODY_W / 25.4, height / 25.4),
            frame=False,
        )
        self.image(
            io.BytesIO(snap.png),
            x=_MARGIN,
            y=top,
            w=_BODY_W,
            h=height,
            alt_text="Map of the incidents in the window, by verdict and party",
        )
        self.set_y(top + height + 1.0)
        sources = view["source"].astype(object).fillna("").value_counts().head(5) if "source" in view else {}
        src = ", ".join(f"{k or 'unknown'} ({n:,})" for k, n in sources.items())
        agreements = "; ".join(dict.fromkeys(ln.agreement for ln in self.scenario.lines if ln.agreement))
        self.para(
            f"{rnd.BASEMAP_ATTRIBUTION}. Lines and zones: {self.scenario.name}"
            f"{f' ({agreements})' if agreements else ''}. Incidents: {src or 'none'}. "
            f"Azimuthal equidistant projection centred on the map; scale bar true at its centre.",
            size=6.5,
            colour=_GREY,
        )
        if snap.outside_extent:
            self.para(
                f"{snap.outside_extent:,} incidents of the view lie outside the map extent.",
                size=6.5,
                colour=_GREY,
            )

    def figures_page(self, history: pd.DataFrame, period: Period, *, covered: bool, dpi: int) -> None:
        """Page 2: key figures per party and zone, spike alerts, trend chart."""
        self.add_page()
        self.h1("Key figures")
        self.para(
            f"Period: {rnd.fmt_time(period.start)} to {rnd.fmt_time(period.end)} "
            f"({_duration(period.length)}), compared with the previous period of the same length, "
            f"{rnd.fmt_time(period.previous_start)} to {rnd.fmt_time(period.start)}. "
            "Change is the period minus the previous period."
        )
        if not covered:
            self.para(
                "The previous period is not available: the data supplied covers only the window "
                "(pass the history to compare).",
                colour=_RED,
                bold=True,
            )
        header = ["Breaches", "Previous", "Change", "Possible breaches", "Previous", "Change"]
        num = ["RIGHT"] * 6
        party = kpi_table(history, self.scenario, period, by="party", covered=covered)
        self.h2("By attributed party")
        rows = [_kpi_cells(r) for _, r in party.iterrows()]
        rows.append(_kpi_cells(_total(party, covered), name="All parties"))
        self.grid(["Party", *header], rows, _KPI_WIDTHS, align=["LEFT", *num], bold_last=True)
        zone = kpi_table(history, self.scenario, period, by="zone", covered=covered)
        self.h2("By zone (an incident in nested zones counts in each)")
        self.grid(
            ["Zone", *header], [_kpi_cells(r) for _, r in zone.iterrows()], _KPI_WIDTHS, align=["LEFT", *num]
        )
        self.spikes(history, period, covered=covered)
        if self.get_y() + _BODY_W * _CHART_IN[1] / _CHART_IN[0] + 2.0 > self.page_break_trigger:
            self.add_page()
        self.ln(2.0)
        self.image(
            io.BytesIO(_trend_png(history, self.scenario, period, dpi)),
            x=_MARGIN,
            w=_BODY_W,
            alt_text="Trend chart of breaches and possible breaches by party",
        )

    def spikes(self, history: pd.DataFrame, period: Period, *, covered: bool) -> None:
        """The spike alerts table."""
        self.h2("Spike alerts: last 7 days against the 4 weeks before them, by zone and party")
        if not covered:
            self.para(
                "Not computed: the data supplied does not cover the 4 weeks before the last 7 days.",
                colour=_RED,
            )
            return
        occurred = pd.to_datetime(history["occurred_at"], utc=True)
        recent = history[
            (occurred >= period.end - SPIKE_LOOKBACK)
            & (occurred < period.end)
            & history["verdict"].astype(object).isin(["breach", "possible_breach"])
        ]
        # geo.trends.explode_zones fails on an empty frame; with nothing to count there is no spike.
        found = (
            trends.spikes(recent, as_of=period.end, by=("zone", "party")) if len(recent) else pd.DataFrame()
        )
        if not len(found):
            self.para(
                f"No spikes: no zone and party rose more than {trends.MODERATE_RATIO - 1:.0%} above "
                f"its 4-week weekly mean with at least {trends.DEFAULT_FLOOR} breaches and possible "
                f"breaches in the last 7 days to {rnd.fmt_time(period.end)}."
            )
            return
        zones = {z.id: z.name for z in self.scenario.zones}
        parties = rnd.party_names(self.scenario)
        rows = [
            [
                r.level.upper(),
                zones.get(r.zone, r.zone),
                parties.get(r.party, r.party),
                f"{r.last_7d:,}",
                f"{r.baseline:.1f}",
                "new" if np.isinf(r.change) else f"{r.change:+.0%}",
            ]
            for r in found.itertuples()
        ]
        self.grid(
            ["Level", "Zone", "Party", "Last 7 days", "Weekly mean, 4 weeks before", "Change"],
            rows,
            [22, 80, 72, 28, 45, 26],
            align=["LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"],
        )
        self.para(
            f"Spike: more than {trends.SPIKE_RATIO - 1:.0%} above the mean; moderate: "
            f"{trends.MODERATE_RATIO - 1:.0%} to {trends.SPIKE_RATIO - 1:.0%}. Breaches and possible "
            "breaches count.",
            size=7,
            colour=_GREY,
        )

    def breaches_pages(self, rows: pd.DataFrame, *, total: int) -> None:
        """Pages 3 and on: the breaches, most recent first."""
        self.add_page()
        self.h1("Breaches in the window")
        if total == 0:
            self.para("No breaches in the window.")
            return
        shown = len(rows)
        note = (
            f"All {total:,} breaches, most recent first."
            if shown == total
            else f"The {shown:,} most recent of {total:,} breaches; the full list is in the CSV, GeoJSON "
            "and GeoPackage exports."
        )
        self.para(
            note + " Party basis 'inferred from side' means the party was not reported but taken "
            "from the side of the line the incident lies on."
        )
        self.ln(1.0)
        widths = [w for _, w in BREACH_COLUMNS]
        self.grid(
            [c for c, _ in BREACH_COLUMNS],
            rows.to_numpy().tolist(),
            widths,
            align=["LEFT"] * len(widths),
            size=7.0,
        )


def _kpi_cells(row: pd.Series, *, name: str | None = None) -> list[str]:
    def num(v: object) -> str:
        return _N_A if pd.isna(v) else f"{int(v):,}"

    return [
        name or str(row["name"]),
        num(row["breach"]),
        num(row["breach_prev"]),
        row["breach_change"],
        num(row["possible_breach"]),
        num(row["possible_breach_prev"]),
        row["possible_breach_change"],
    ]


def _total(table: pd.DataFrame, covered: bool) -> pd.Series:
    out: dict[str, object] = {"name": "All parties"}
    for verdict in ("breach", "possible_breach"):
        last = int(table[verdict].sum())
        prev = int(table[f"{verdict}_prev"].sum()) if covered else None
        out[verdict] = last
        out[f"{verdict}_prev"] = pd.NA if prev is None else prev
        out[f"{verdict}_change"] = _change(last, prev)
    return pd.Series(out)


def _duration(delta: pd.Timedelta) -> str:
    days = delta.total_seconds() / 86400.0
    if days >= 1.0:
        return f"{days:.1f} days" if days % 1 else f"{int(days)} days"
    return f"{delta.total_seconds() / 3600.0:.1f} hours"
