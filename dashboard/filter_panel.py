"""The filter sidebar: its widgets, their place in the URL, and the rows they keep."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.common import CHOOSE, get_store, md, scenario_id
from geo import clock
from geo.core.categories import vocabulary
from geo.core.filters import Filters
from geo.core.grading import CREDIBILITY, RELIABILITY
from geo.core.model import VERIFICATION_STATUSES, Scenario
from geo.i18n import N_, _, number, when
from geo.labels import category, status, verdict
from geo.render.palette import VERDICT_LABELS
from geo.services.cache import CachedIncidents, window_start
from geo.store import default_url

WINDOWS = {
    "24h": N_("Last 24 hours"),
    "7d": N_("Last 7 days"),
    "30d": N_("Last 30 days"),
    "all": N_("All time"),
    "custom": N_("Custom"),
}
FILTER_KEYS = frozenset({"window", *Filters.__dataclass_fields__})
GRADE_THRESHOLDS = ["", *(r + c for r in RELIABILITY for c in CREDIBILITY)]
"""The sidebar's "source grade at least" choices: any, then A1 to F6."""
_LIST_WIDGETS = {
    "parties": "f_party",
    "zones": "f_zone",
    "verdicts": "f_verdict",
    "categories": "f_category",
    "verifications": "f_verification",
    "sources": "f_source",
}


def _options(values: pd.Series | list[str]) -> list[str]:
    return sorted({str(v) for v in values if str(v) != "nan"})


def _day(value: datetime | None, fallback: datetime) -> date:
    return pd.Timestamp(value or fallback).tz_convert("UTC").date()


def _load_widgets(params: dict[str, str], options: dict[str, dict[str, str]], now: datetime) -> None:
    """Set the filter widgets from URL query parameters (a shared link, or the last view)."""
    current = Filters.from_query(params)
    window = params.get("window", "7d" if current.since is None else "custom")
    st.session_state["f_window"] = window if window in WINDOWS else "7d"
    start = _day(current.since, now - pd.Timedelta(days=30))
    end = _day(current.until - pd.Timedelta(seconds=1) if current.until else None, now)
    st.session_state.pop("f_dates", None)
    st.session_state["f_dates_default"] = (start, max(start, end))
    for name, key in _LIST_WIDGETS.items():
        st.session_state[key] = [v for v in getattr(current, name) if v in options[name]]
    st.session_state["f_text"] = current.text
    st.session_state["f_bbox"] = current.bbox
    st.session_state["f_grade"] = current.grade


def sidebar_filters(scen: Scenario, snap: CachedIncidents, *, page: str) -> Filters:
    """
    The filter sidebar, kept in the URL so a view can be shared as a link.

    A link with filters selects them; moving between pages keeps them. ``page`` names
    the page showing the sidebar.

    Returns
    -------
    Filters
        With ``since``/``until`` resolved from the chosen window.
    """
    query = {k: st.query_params[k] for k in st.query_params}
    mine = {k: v for k, v in query.items() if k in FILTER_KEYS}
    synced: dict[str, str] | None = st.session_state.get("f_synced")
    labels = vocabulary().labels
    frame = snap.frame
    options: dict[str, dict[str, str]] = {
        "parties": {p.id: p.short_name for p in scen.parties} | {"": _("Unattributed")},
        "zones": {z.id: z.name for z in scen.zones},
        "verdicts": {v: verdict(v) for v in VERDICT_LABELS},
        "categories": {c: category(c) for c in _options(labels)},
        "verifications": {v: status(v) for v in VERIFICATION_STATUSES},
        "sources": {s: s for s in _options(frame["source"].cat.categories if len(frame) else [])},
    }
    now = clock.now()
    if mine and mine != synced:  # a shared link, or a link from another page
        _load_widgets(mine, options, now)
    elif "f_window" not in st.session_state or st.session_state.get("f_page") != page:
        _load_widgets(synced or mine, options, now)  # the view this viewer had on the last page
    st.session_state["f_page"] = page

    sb = st.sidebar
    sb.header(_("Filters"))
    window = sb.radio(
        _("Time window"), list(WINDOWS), format_func=lambda w: _(WINDOWS[w]), horizontal=True, key="f_window"
    )
    since: datetime | None
    until: datetime | None = None
    if window == "custom":
        fallback = ((now - pd.Timedelta(days=30)).date(), now.date())
        picked = sb.date_input(
            _("From – to (UTC, inclusive)"),
            value=st.session_state.get("f_dates_default", fallback),
            key="f_dates",
        )
        if isinstance(picked, tuple | list) and len(picked) == 2:
            st.session_state["f_dates_default"] = tuple(picked)
            since = pd.Timestamp(picked[0], tz="UTC").to_pydatetime()
            until = (pd.Timestamp(picked[1], tz="UTC") + pd.Timedelta(days=1)).to_pydatetime()
        else:
            sb.caption(_("Pick the last day too."))
            start = picked[0] if isinstance(picked, tuple | list) and picked else picked
            since = pd.Timestamp(start or now.date(), tz="UTC").to_pydatetime()
    else:
        since = window_start(now, window)

    def multi(label: str, name: str) -> tuple[str, ...]:
        choices = options[name]
        return tuple(
            sb.multiselect(
                label, list(choices), format_func=choices.get, key=_LIST_WIDGETS[name], placeholder=_(CHOOSE)
            )
        )

    result = Filters(
        since=since,
        until=until,
        parties=multi(_("Party"), "parties"),
        zones=multi(_("Zone"), "zones"),
        verdicts=multi(_("Verdict"), "verdicts"),
        categories=multi(_("Category"), "categories"),
        verifications=multi(_("Verification"), "verifications"),
        sources=multi(_("Source"), "sources"),
        text=sb.text_input(_("Text in description or actor"), key="f_text", max_chars=200).strip(),
        bbox=st.session_state.get("f_bbox"),
        grade=sb.selectbox(
            _("Source grade at least"),
            GRADE_THRESHOLDS,
            format_func=lambda g: g or _("Any (graded or not)"),
            key="f_grade",
            help=_(
                "Admiralty grading: source reliability A (best) to F, information credibility 1 (best) "
                "to 6. B2 keeps reports graded A or B and 1 or 2; ungraded reports never meet a threshold."
            ),
        )
        or "",
    )
    params = result.to_query() | {"window": window}
    if window != "custom":
        params.pop("since", None)
        params.pop("until", None)
    st.session_state["f_synced"] = params
    wanted = {k: v for k, v in query.items() if k not in FILTER_KEYS} | params
    if wanted != query:
        st.query_params.from_dict(wanted)
    return result


@st.cache_data(show_spinner=False, max_entries=16, ttl=300)
def _text_matches(url: str, scenario: str, text: str, generation: int, max_id: int) -> np.ndarray:
    del generation, max_id
    ids = get_store(url).using(scenario).query(Filters(text=text), columns=["incident_id"])["incident_id"]
    return ids.to_numpy(dtype=np.int64)


def apply(filters: Filters, snap: CachedIncidents) -> pd.DataFrame:
    """
    The cached incidents that pass ``filters``.

    The cache holds no free text, so a text filter is answered by the store (its ids are
    cached per store generation), and the other filters in memory.
    """
    frame = snap.frame
    if filters.text and not {"description", "actor"} <= set(frame.columns):
        ids = _text_matches(default_url(), scenario_id(), filters.text, snap.generation, snap.max_id)
        frame = frame[frame["incident_id"].isin(ids)]
        filters = filters.with_(text="")
    return filters.apply(frame)


def slide_window(filters: Filters) -> Filters:
    """The same filters with a preset window ("last 24 hours", …) moved up to now."""
    window = st.session_state.get("f_window", "custom")
    if window in ("custom", "all") or window not in WINDOWS:
        return filters
    return filters.with_(since=window_start(clock.now(), window))


FILTER_NAMES = {
    "parties": N_("parties"),
    "zones": N_("zones"),
    "verdicts": N_("verdicts"),
    "categories": N_("categories"),
    "verifications": N_("verifications"),
    "sources": N_("sources"),
}


def describe(filters: Filters, scen: Scenario) -> str:
    """
    The filters in one line, in the page's language and safe for markdown (the text comes from the URL).

    Parties and zones by their names, verdicts, categories and verification statuses by their
    labels; an id the scenario does not know (a stale link) as it is.
    """
    names: dict[str, Callable[[str], str | None]] = {
        "parties": {p.id: p.short_name or p.name for p in scen.parties}.get,
        "zones": {z.id: z.name for z in scen.zones}.get,
        "verdicts": verdict,
        "categories": category,
        "verifications": status,
    }

    def at(t: datetime | None, default: str) -> str:
        return when(t, style="iso") if t else default

    parts = [
        _("{start} to {end}").format(start=at(filters.since, _("start")), end=at(filters.until, _("now")))
    ]
    for name, label in FILTER_NAMES.items():
        values = getattr(filters, name)
        if values:
            named = names.get(name, str)
            shown = ", ".join((named(v) or v) if v else _("(unattributed)") for v in values)
            parts.append(_("{name}: {values}").format(name=_(label), values=shown))
    if filters.bbox:
        west, south, east, north = (number(v, decimals=3) for v in filters.bbox)
        parts.append(
            _("area: {west}, {south} to {east}, {north}").format(
                west=west, south=south, east=east, north=north
            )
        )
    if filters.text:
        parts.append(_("text: {text}").format(text=repr(filters.text)))
    if filters.grade:
        parts.append(_("graded at least {grade}").format(grade=filters.grade))
    return md("; ".join(parts))
