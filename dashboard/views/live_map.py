"""Live map (mediators): lines, zones and incidents, refreshed on its own, with a KPI strip.

Only the incident layers change between refreshes (``feature_group_to_add``), so the map
keeps the viewer's pan and zoom. Panning does not rerun the page (``returned_objects=[]``).
"""

from __future__ import annotations

from datetime import UTC, datetime

import folium
import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import common
from geo.accounts import get_setting
from geo.maps import DEFAULT_MAX_MARKERS, base_map, incident_layers
from geo.trends import kpis

st.title("Live map")
scen = common.scenario()
if scen is None:
    st.info(
        "No scenario is loaded yet. Run `python -m geo demo`, or load a scenario with "
        "`python -m geo scenario load PATH`."
    )
    st.stop()
common.synthetic_banner(scen)
store = common.store()
snap = common.snapshot()
filters = common.sidebar_filters(scen, snap)

st.sidebar.divider()
paused = st.sidebar.toggle("Pause live updates", key="m_paused")
every = int(get_setting(store, "refresh_seconds", default=60))
st.sidebar.caption(f"The map refreshes every {every} s" + (" (paused)." if paused else "."))


def full_rows(view: pd.DataFrame) -> pd.DataFrame:
    """Popups need every column; fetch them for the few incidents drawn one by one."""
    if len(view) > DEFAULT_MAX_MARKERS:
        return view
    rows = store.incidents_by_id(view["incident_id"].tolist())
    return rows.set_index("incident_id").loc[view["incident_id"]].reset_index()


def kpi_strip(frame: pd.DataFrame) -> None:
    now = pd.Timestamp(datetime.now(UTC))
    table = kpis(filters.with_(since=None, until=None).apply(frame), as_of=now, by="party")
    names = {p.id: p.short_name for p in scen.parties}
    cols = st.columns(max(len(scen.parties), 1) * 2)
    for i, party in enumerate(scen.parties):
        row = table.loc[party.id] if party.id in table.index else None
        for j, hours in enumerate((24, 168)):
            last = int(row[f"last_{hours}h"]) if row is not None else 0
            change = int(row[f"change_{hours}h"]) if row is not None else 0
            label = f"{names[party.id]}: breaches, last {'24 h' if hours == 24 else '7 days'}"
            delta = (
                f"{change:+,} vs previous {'24 h' if hours == 24 else '7 days'}" if change else "no change"
            )
            cols[2 * i + j].metric(label, f"{last:,}", delta, delta_color="inverse" if change else "off")


@st.fragment(run_every=None if paused else every)
def live() -> None:
    current = common.snapshot()
    previous = st.session_state.get("m_last_refresh")
    st.session_state["m_last_refresh"] = current.refreshed_at
    view = filters.apply(current.frame)
    kpi_strip(current.frame)
    new = 0 if previous is None else int((view["ingested_at"] > previous).sum())
    st.caption(
        f"{common.data_as_of(current)} · {len(view):,} incidents match · "
        + (f"**{new} new since the last refresh** (ringed in cyan)" if new else "no new incidents")
        + f" · {filters.describe()}"
    )
    layers = incident_layers(full_rows(view), scen, new_since=previous)
    st_folium(
        base_map(scen, layer_control=False),
        feature_group_to_add=layers,
        layer_control=folium.LayerControl(collapsed=True),
        returned_objects=[],
        key="live_map",
        height=620,
        use_container_width=True,
    )
    breaches = view[view["verdict"] == "breach"].sort_values("occurred_at", ascending=False).head(10)
    if len(breaches):
        st.markdown("**Latest breaches**")
        zones = {z.id: z.name for z in scen.zones}
        for row in breaches.itertuples():
            where = ", ".join(zones.get(z, z) for z in str(row.zones).split(";") if z)
            st.markdown(
                f"- [{row.occurred_at:%Y-%m-%d %H:%M} UTC](/incident?id={row.incident_id}) · "
                f"{common.md(row.category)} · {common.md(where)} · {common.md(row.attributed_party or '—')}"
                f" ({common.md(row.attribution)})"
            )


live()
