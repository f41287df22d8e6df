"""The Trends page's "Before / after" view: incidents per week either side of a date, per zone × party.

The date defaults to the scenario's agreement date; the date and the weeks live in the URL
(``compare_at``, ``compare_weeks``), so the view can be shared as a link.
"""

from __future__ import annotations

from datetime import date, timedelta

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from dashboard import common, filter_panel
from geo import InputError, clock
from geo.core.compare import DEFAULT_WEEKS, agreement_date, compare_rates
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.i18n import _
from geo.render.compare_table import HEADERS, METHOD, SIGNIFICANCE, caveats, display_rows, headers, heading
from geo.services.cache import CachedIncidents

_URL = {"compare_at": "ba_at", "compare_weeks": "ba_weeks"}


def _from_url(default_day: date) -> None:
    """Set the date and weeks from the URL, once per link."""
    params = {k: st.query_params[k] for k in _URL if k in st.query_params}
    if params == st.session_state.get("ba_url") and "ba_at" in st.session_state:
        return
    try:
        st.session_state["ba_at"] = date.fromisoformat(params.get("compare_at", ""))
    except ValueError:
        st.session_state.setdefault("ba_at", default_day)
    weeks = params.get("compare_weeks", "")
    st.session_state["ba_weeks"] = int(weeks) if weeks.isdigit() and 1 <= int(weeks) <= 52 else DEFAULT_WEEKS


def _chart(table: pd.DataFrame) -> alt.Chart:
    """The rate ratios with their intervals, on a log scale, no change marked."""
    shown = table[np.isfinite(table["rate_ratio"]) & (table["rate_ratio"] > 0)].copy()
    shown["low"] = shown["ci_low"].clip(lower=shown["rate_ratio"].min() / 4)
    shown["high"] = shown["ci_high"].where(np.isfinite(shown["ci_high"]), shown["rate_ratio"].max() * 4)
    shown["row"] = shown["zone_name"] + " · " + shown["party_name"]
    shown["significant"] = np.where(shown["p_value"] < SIGNIFICANCE, _("p < 0.05"), _("no clear change"))
    base = alt.Chart(shown).encode(y=alt.Y("row:N", title=None, sort=None, axis=alt.Axis(labelLimit=360)))
    scale = alt.Scale(type="log")
    bars = base.mark_rule(strokeWidth=2).encode(
        x=alt.X("low:Q", scale=scale, title=_("Rate ratio after / before (log scale), interval at 95%")),
        x2="high:Q",
    )
    labels = dict(zip(HEADERS, headers(), strict=True))
    points = base.mark_point(filled=True, size=70).encode(
        x=alt.X("rate_ratio:Q", scale=scale),
        color=alt.Color("significant:N", title=None, legend=alt.Legend(orient="bottom")),
        tooltip=[alt.Tooltip("row:N", title=_("Zone · party"))]
        + [
            alt.Tooltip(f"{k}:N", title=labels[k])
            for k in ("before_text", "after_text", "ratio_text", "ci_text")
        ]
        + [alt.Tooltip("p_text:N", title="p")],
    )
    one = alt.Chart(pd.DataFrame({"x": [1.0]})).mark_rule(strokeDash=[4, 3], color="#555").encode(x="x:Q")
    return alt.layer(bars, points, one)


def show(scen: Scenario, snap: CachedIncidents, filters: Filters) -> None:
    """The before/after view of the cached incidents that pass the filters (all verdicts, any time)."""
    agreed = agreement_date(scen)
    now = pd.Timestamp(clock.now())
    _from_url(agreed or (now - pd.Timedelta(weeks=DEFAULT_WEEKS)).date())
    left, right, _rest = st.columns([1, 1, 2])
    day = left.date_input(
        _("Compare around"),
        key="ba_at",
        min_value=date(1900, 1, 1),
        max_value=(now + pd.Timedelta(days=366)).date(),
        help=_("Default: the agreement date, the earliest start of the scenario's rules."),
    )
    weeks = int(right.number_input(_("Weeks on each side"), 1, 52, key="ba_weeks"))
    params = {"compare_at": f"{day:%Y-%m-%d}", "compare_weeks": str(weeks)}
    st.session_state["ba_url"] = params
    for key, value in params.items():
        if st.query_params.get(key) != value:
            st.query_params[key] = value
    if agreed is not None and day != agreed:
        st.caption(
            _("The agreement date is {day} (the earliest start of the scenario's rules).").format(day=agreed)
        )
    counted = filters.with_(since=None, until=None, zones=(), verdicts=())
    view = filter_panel.apply(counted, snap)
    try:
        result = compare_rates(view, scen, at=day, as_of=now, weeks=weeks)
    except InputError as err:
        st.warning(common.md(err))
        return
    result = result.rows_for(filters.zones)
    st.markdown(f"**{common.md(heading(result))}**")
    first = pd.to_datetime(view["occurred_at"], utc=True).min() if len(view) else None
    for note in caveats(result, data_since=first, as_of=now):
        st.warning(common.md(note))
    rows = display_rows(result, scen)
    if rows.empty:
        st.info(_("No incident in these weeks."))
        return
    st.dataframe(rows[list(HEADERS)].set_axis(headers(), axis=1), hide_index=True, width="stretch")
    table = rows.merge(result.table, on=["zone", "party"])
    if np.isfinite(table["rate_ratio"]).any() and (table["rate_ratio"] > 0).any():
        st.altair_chart(_chart(table), width="stretch")
    st.caption(
        common.md(
            _(METHOD)
            + " "
            + _(
                "Every verdict counts (before an agreement nothing is a breach yet); the sidebar's time "
                "window does not apply, and its zones choose the rows. Weeks compared: {start} to "
                "{last_before} and {at} to {last_after}."
            ).format(
                start=f"{result.before_start:%Y-%m-%d}",
                last_before=f"{result.at - timedelta(days=1):%Y-%m-%d}",
                at=f"{result.at:%Y-%m-%d}",
                last_after=f"{result.after_end - timedelta(days=1):%Y-%m-%d}",
            )
        )
    )
