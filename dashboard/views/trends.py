"""Trends: time series per zone × party, heat table, spike alerts, verdict breakdown."""

from __future__ import annotations

from datetime import UTC, datetime

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import common
from geo.trends import counts, spikes

st.title("Trends")
scen = common.scenario()
if scen is None:
    st.info("No scenario is loaded yet. Run `python -m geo demo` or load a scenario on the Zones page.")
    st.stop()
common.synthetic_banner(scen)
snap = common.snapshot()
filters = common.sidebar_filters(scen, snap)
view = filters.apply(snap.frame)
st.caption(f"{filters.describe()} · {common.data_as_of(snap)}")

c1, c2, c3 = st.columns([1, 1, 2])
freq = c1.radio("Per", ["day", "week", "month"], horizontal=True, key="t_freq")
which = c2.radio("Count", ["Breaches and possible breaches", "Breaches only", "All incidents"], key="t_which")
verdicts = {
    "Breaches and possible breaches": ("breach", "possible_breach"),
    "Breaches only": ("breach",),
    "All incidents": None,
}[which]
floor = c3.number_input("Spike floor (least incidents in the last 7 days)", 1, 1000, 5, key="t_floor")
zone_names = {z.id: z.name for z in scen.zones} | {"(no zone)": "(no zone)"}
party_names = {p.id: p.short_name for p in scen.parties} | {"(unattributed)": "(unattributed)"}

series = counts(view, by=("zone", "party"), freq=freq, verdicts=verdicts)
if series.empty:
    st.info("No incidents match these filters.")
    st.stop()
series["zone_name"] = series["zone"].map(zone_names).fillna(series["zone"])
series["party_name"] = series["party"].map(party_names).fillna(series["party"])
series["series"] = series["zone_name"] + " · " + series["party_name"]

st.subheader("Spike alerts")
alerts = spikes(view, as_of=pd.Timestamp(datetime.now(UTC)), floor=int(floor), verdicts=verdicts)
if alerts.empty:
    st.success("No zone × party is above its 4-week baseline (spike: > 25 % above; moderate: 10-25 %).")
else:
    for row in alerts.itertuples():
        params = {
            "window": "7d",
            "zones": row.zone if row.zone != "(no zone)" else "",
            "parties": "-" if row.party == "(unattributed)" else row.party,
        }
        link = "live_map?" + "&".join(f"{k}={v}" for k, v in params.items() if v)
        change = "new" if row.change == float("inf") else f"+{row.change:.0%}"
        icon = "🔴" if row.level == "spike" else "🟠"
        st.markdown(
            f"{icon} **{row.level.capitalize()}** — {common.md(zone_names.get(row.zone, row.zone))} · "
            f"{common.md(party_names.get(row.party, row.party))}: {row.last_7d} in the last 7 days vs "
            f"{row.baseline:.1f}/week before ({change}) · [show on map](/{link})"
        )

st.subheader(f"Per {freq}, by zone and party")
top = series.groupby("series")["count"].sum().nlargest(12).index
chart = (
    alt.Chart(series[series["series"].isin(top)])
    .mark_line(point=True)
    .encode(
        x=alt.X("period:T", title=None),
        y=alt.Y("count:Q", title="incidents"),
        color=alt.Color("series:N", title="Zone · party"),
        tooltip=["period:T", "zone_name:N", "party_name:N", "count:Q"],
    )
)
st.altair_chart(chart, use_container_width=True)

left, right = st.columns(2)
with left:
    st.subheader("Zone × party")
    table = series.pivot_table(
        index="zone_name", columns="party_name", values="count", aggfunc="sum", fill_value=0
    )
    st.dataframe(table.style.background_gradient(cmap="Reds"), use_container_width=True)
with right:
    st.subheader("By verdict")
    by_verdict = view["verdict"].astype(str).value_counts().rename_axis("verdict").reset_index(name="count")
    by_verdict["verdict"] = by_verdict["verdict"].map(common.VERDICT_LABELS)
    st.altair_chart(
        alt.Chart(by_verdict)
        .mark_bar()
        .encode(
            x=alt.X("count:Q", title="incidents"),
            y=alt.Y("verdict:N", sort="-x", title=None),
            color=alt.Color("verdict:N", legend=None),
        ),
        use_container_width=True,
    )
    st.subheader("Top zones")
    top_zones = series.groupby("zone_name")["count"].sum().nlargest(10).rename("incidents")
    st.dataframe(top_zones, use_container_width=True)
