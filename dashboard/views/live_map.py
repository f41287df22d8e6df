"""Live map (mediators): lines, zones and incidents, refreshed on its own, with a KPI strip; or played back.

Only the incident layers change between refreshes (``feature_group_to_add``), so the map
keeps the viewer's pan and zoom. Panning does not rerun the page (``returned_objects=[]``).
Playback (``dashboard.playback``) steps the same map through the time window.
"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common, filter_panel, live_view, playback
from geo.core.duplicates import distinct_events
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.i18n import N_, _, number, when
from geo.labels import category as category_label
from geo.services.settings import get_setting

st.title(_("Live map"))
common.require_page("view")
scen = common.loaded_scenario(
    _(
        "No scenario is loaded yet. Run `python -m geo demo`, or load a scenario with "
        "`python -m geo scenario load PATH`."
    )
)
store = common.store()
snap = common.snapshot()
filters = filter_panel.sidebar_filters(scen, snap, page="live_map")

MODES = {"live": N_("Live"), "playback": N_("Playback")}
if playback.requested() and not playback.ours():
    st.session_state["m_mode"] = "playback"  # a link to a frame opens the playback
mode = st.radio(
    _("Show"),
    list(MODES),
    format_func=lambda m: _(MODES[m]),
    horizontal=True,
    key="m_mode",
    label_visibility="collapsed",
    help=_(
        "Live: the time window as it stands, refreshed on its own. Playback: step through it, day by day "
        "or week by week."
    ),
)
st.sidebar.divider()
if mode == "playback":
    st.sidebar.caption(_("Playback: the live refresh is off; the frames step through the time window above."))
    playback.show(store, scen, filters)
    st.stop()
playback.forget_url()
paused = st.sidebar.toggle(_("Pause live updates"), key="m_paused")
every = max(int(get_setting(store, "refresh_seconds", default=60)), 5)
st.sidebar.caption(
    (
        _("The map refreshes every {seconds} s (paused).")
        if paused
        else _("The map refreshes every {seconds} s.")
    ).format(seconds=number(every))
)


def kpi_strip(table: pd.DataFrame, view_filters: Filters, s: Scenario) -> None:
    """Breaches per party in the last 24 h and 7 days (the other filters apply, not the window).

    Linked reports of one breach count once (``geo.core.duplicates.distinct_events``, among the breaches).
    """
    narrowed = view_filters.with_(since=None, until=None) != type(view_filters)()
    cols = st.columns(max(len(s.parties), 1) * 2)
    for i, party in enumerate(s.parties):
        row = table.loc[party.id] if party.id in table.index else None
        for j, hours in enumerate((24, 168)):
            last = int(row[f"last_{hours}h"]) if row is not None else 0
            change = int(row[f"change_{hours}h"]) if row is not None else 0
            signed = ("+" if change > 0 else "") + number(change)
            if hours == 24:
                label = _("{party}: breaches, last 24 h").format(party=common.md(party.short_name))
                delta = _("{change} vs previous 24 h").format(change=signed) if change else _("no change")
            else:
                label = _("{party}: breaches, last 7 days").format(party=common.md(party.short_name))
                delta = _("{change} vs previous 7 days").format(change=signed) if change else _("no change")
            cols[2 * i + j].metric(
                label,
                number(last),
                delta,
                delta_color="inverse" if change else "off",
                delta_arrow="up" if change > 0 else "down" if change < 0 else "off",  # "no change": no arrow
            )
    if narrowed:
        st.caption(
            _("These breach counts follow the filters in the sidebar (all of them but the time window).")
        )


@st.fragment(run_every=None if paused else every)
def live() -> None:
    """The refreshing part: KPIs, the incident layers and the latest breaches."""
    if common.principal(touch=False) is None:
        st.rerun(scope="app")  # the session timed out, or public viewing was turned off
    current = common.snapshot()
    previous = st.session_state.get("m_last_refresh")
    st.session_state["m_last_refresh"] = current.refreshed_at
    now_filters = filter_panel.slide_window(filters)
    refresh = live_view.compute(store, current, now_filters, scen, previous=previous)
    view, new = refresh.view, refresh.new
    kpi_strip(refresh.kpis, now_filters, scen)
    st.caption(
        f"{common.data_as_of(current)} · {common.how_many(view, 'match', bold=True)} · "
        + (
            _("**{count} new since the last refresh** (ringed in cyan)").format(count=number(new))
            if new
            else _("no new incidents")
        )
        + f" · {filter_panel.describe(now_filters, scen)}"
    )
    live_view.show_map(scen, refresh.layers)
    breaches = (
        distinct_events(view[view["verdict"] == "breach"])
        .sort_values(["occurred_at", "incident_id"], ascending=False)
        .head(10)
    )
    if len(breaches):
        st.markdown(_("**Latest breaches** (open one for its full story)"))
        zones = {z.id: z.name for z in scen.zones}
        parties = {p.id: p.short_name for p in scen.parties}
        basis = {"reported": _("reported"), "inferred_from_side": _("inferred"), "unattributed": ""}
        for row in breaches.itertuples():
            inside = [zones.get(z, z) for z in common.text(row.zones, "").split(";") if z]
            where = (
                inside[0]
                + (
                    " " + _("(+{count} more zones)").format(count=number(len(inside) - 1))
                    if len(inside) > 1
                    else ""
                )
                if inside
                else ""
            )
            party = parties.get(common.text(row.attributed_party, ""), _("unattributed"))
            how = basis.get(str(row.attribution), str(row.attribution))
            category = category_label(str(row.category))
            note = common.text(getattr(row, "verdict_note", ""), "")
            st.page_link(
                "views/incident.py",
                label=(
                    f"{when(row.occurred_at, style='iso')} · {common.md(category)} · {common.md(party)}"
                    + (f" ({common.md(how)})" if how else "")
                    + (f" · {common.md(where)}" if where else "")
                    + (" · " + _("breach ({note})").format(note=common.md(_(note))) if note else "")
                ),
                icon=":material/error:",
                query_params={"id": str(row.incident_id)},
            )


live()
