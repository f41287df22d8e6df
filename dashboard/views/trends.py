"""Trends: series per zone × party, heat table, spike alerts, verdicts; before and after a date."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import before_after, common, filter_panel, frames
from geo import clock
from geo.core.duplicates import distinct_events
from geo.core.trends import NO_ZONE, UNATTRIBUTED, counts, spikes
from geo.i18n import _, number, when
from geo.render.palette import VERDICT_COLOURS, VERDICT_LABELS

# (Comments, not docstrings: Streamlit's magic would print a bare string on the page.)
# The busiest zone × party series drawn: the chart's palette has ten colours, and an eleventh
# series would share one with the first.
TOP_SERIES = 10
# Pixels of the series chart's plot and of a row of its legend: the legend (two columns) comes
# below the plot, and the chart grows to hold it rather than squash the plot.
PLOT_HEIGHT, LEGEND_ROW = 260, 30

st.title(_("Trends"))
common.require_page("view")
scen = common.loaded_scenario(
    _("No scenario is loaded yet. Run `python -m geo demo` or load a scenario on the Zones page.")
)
snap = common.snapshot()
filters = filter_panel.sidebar_filters(scen, snap, page="trends")
# Linked reports of one event count once in every count on this page.
view = distinct_events(filter_panel.apply(filters, snap))
as_of = pd.Timestamp(filters.until or clock.now())
# Spikes compare the last 7 days with the 4 weeks before, whatever window is shown.
since = (as_of - pd.Timedelta(days=35)).to_pydatetime()
history = distinct_events(filter_panel.apply(filters.with_(since=since, until=None), snap))
st.caption(f"{filter_panel.describe(filters, scen)} · {common.data_as_of(snap)}")

over_time, compared = st.tabs([_("Over time"), _("Before / after")])
with compared:
    before_after.show(scen, snap, filters)
with over_time:
    c1, c2, c3 = st.columns([1, 1, 2])
    freqs = {"day": _("day"), "week": _("week"), "month": _("month")}
    freq = c1.radio(_("Per"), list(freqs), format_func=freqs.__getitem__, horizontal=True, key="t_freq")
    counted = {
        "Breaches and possible breaches": _("Breaches and possible breaches"),
        "Breaches only": _("Breaches only"),
        "All incidents": _("All incidents"),
    }
    which = c2.radio(_("Count"), list(counted), format_func=counted.__getitem__, key="t_which")
    verdicts = {
        "Breaches and possible breaches": ("breach", "possible_breach"),
        "Breaches only": ("breach",),
        "All incidents": None,
    }[which]
    floor = c3.number_input(_("Spike floor (least incidents in the last 7 days)"), 1, 1000, 5, key="t_floor")
    zone_names = {z.id: z.name for z in scen.zones} | {NO_ZONE: _(NO_ZONE)}
    party_names = {p.id: p.short_name for p in scen.parties} | {UNATTRIBUTED: _(UNATTRIBUTED)}

    st.subheader(_("Spike alerts"))
    st.caption(
        _(
            "The 7 days to {as_of} against the weekly mean of the 4 weeks before "
            "(spike: more than 25 % above; moderate: 10-25 %), ignoring the time window above."
        ).format(as_of=when(as_of.to_pydatetime(), style="iso"))
    )
    alerts = spikes(history, as_of=as_of, floor=int(floor), verdicts=verdicts)
    if alerts.empty:
        st.success(_("No zone × party is above its 4-week baseline."))
    else:
        for row in alerts.itertuples():
            change = _("new") if row.change == float("inf") else "+" + number(round(row.change * 100)) + "%"
            badge = (
                ":red-badge[" + _("Spike") + "]"
                if row.level == "spike"
                else ":orange-badge[" + _("Moderate") + "]"
            )
            left, right = st.columns([5, 1], vertical_alignment="center")
            left.markdown(
                _(
                    "{badge} {zone} · {party}: {count} in the last 7 days "
                    "vs {baseline}/week before ({change})"
                ).format(
                    badge=badge,
                    zone=common.md(zone_names.get(row.zone, row.zone)),
                    party=common.md(party_names.get(row.party, row.party)),
                    count=number(row.last_7d),
                    baseline=number(row.baseline, decimals=1),
                    change=change,
                )
            )
            focus = filters.with_(
                since=None,
                until=None,
                parties=("" if row.party == UNATTRIBUTED else row.party,),
                zones=() if row.zone == NO_ZONE else (row.zone,),
                verdicts=tuple(verdicts or filters.verdicts),
            )
            params = focus.to_query() | {"window": "7d"}
            right.page_link(
                "views/live_map.py", label=_("Show on map"), icon=":material/map:", query_params=params
            )

    series = counts(view, by=("zone", "party"), freq=freq, verdicts=verdicts)
    if series.empty:
        st.info(_("No incidents match these filters."))
        st.stop()
    series["zone_name"] = series["zone"].map(zone_names).fillna(series["zone"])
    series["party_name"] = series["party"].map(party_names).fillna(series["party"])
    series["series"] = series["zone_name"] + " · " + series["party_name"]

    st.subheader(
        {"day": _("Per day, by zone and party"), "week": _("Per week, by zone and party")}.get(
            freq, _("Per month, by zone and party")
        )
    )
    top = series.groupby("series")["count"].sum().nlargest(TOP_SERIES).index
    shown = frames.zero_filled(series[series["series"].isin(top)], freq)
    st.caption(
        _(
            "The {count} busiest zone × party series; a period with no incident counts 0. "
            "An incident in nested zones counts once in each."
        ).format(count=number(len(top)))
    )
    shown["from"] = frames.period_labels(shown["period"], freq)  # the tooltip's, with the year
    chart = (
        alt.Chart(shown)
        .mark_line(point=True)
        .encode(
            x=alt.X(
                "period:T",
                title=None,
                scale=alt.Scale(type="utc"),
                axis=frames.period_axis(shown["period"], freq),
            ),
            y=alt.Y("count:Q", title=_("incidents"), axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(
                "series:N",
                title=_("Zone · party"),
                legend=alt.Legend(orient="bottom", columns=2, labelLimit=420),
            ),
            tooltip=[
                alt.Tooltip("from:N", title=_("From")),
                alt.Tooltip("series:N", title=_("Zone · party")),
                alt.Tooltip("count:Q", title=_("incidents")),
            ],
        )
    )
    legend_rows = -(-len(top) // 2)  # two columns; 60 px more for the axis labels and the legend's title
    st.altair_chart(chart, width="stretch", height=PLOT_HEIGHT + LEGEND_ROW * legend_rows + 60)

    left, right = st.columns(2)
    with left:
        st.subheader(_("Zone × party"))
        table = series.pivot_table(
            index="zone_name", columns="party_name", values="count", aggfunc="sum", fill_value=0
        ).rename_axis(index=_("Zone"), columns=None)
        st.dataframe(table.style.background_gradient(cmap="Reds"), width="stretch")
    with right:
        st.subheader(_("By verdict"))
        by_verdict = (
            view["verdict"].astype(str).value_counts().rename_axis("verdict").reset_index(name="count")
        )
        by_verdict["verdict"] = by_verdict["verdict"].map(lambda v: _(VERDICT_LABELS.get(v, v)))
        labels = [_(v) for v in VERDICT_LABELS.values()]
        st.altair_chart(
            alt.Chart(by_verdict)
            .mark_bar()
            .encode(
                x=alt.X("count:Q", title=_("incidents")),
                y=alt.Y("verdict:N", sort=labels, title=None, axis=alt.Axis(labelLimit=240)),
                color=alt.Color(  # the map's colours: a breach is red everywhere
                    "verdict:N",
                    scale=alt.Scale(domain=labels, range=[VERDICT_COLOURS[v] for v in VERDICT_LABELS]),
                    legend=None,
                ),
                tooltip=[
                    alt.Tooltip("verdict:N", title=_("Verdict")),
                    alt.Tooltip("count:Q", title=_("incidents")),
                ],
            ),
            width="stretch",
        )
        st.subheader(_("Top zones"))
        top_zones = series.groupby("zone_name")["count"].sum().nlargest(10).rename("incidents")
        top_zones.index.name = "Zone"
        st.dataframe(top_zones, width="stretch")
