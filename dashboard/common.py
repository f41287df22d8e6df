"""State shared by the pages: the store, the incident cache, the signed-in user, the filters.

Pages read their widgets, call ``geo`` and render; anything cached or shared lives here.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from geo.accounts import get_setting
from geo.auth import Principal
from geo.cache import IncidentCache, Snapshot, window_start
from geo.categories import vocabulary
from geo.filters import Filters
from geo.model import VERIFICATION_STATUSES, Scenario
from geo.store import Store, default_url, open_store

SESSION_TIMEOUT_MIN = float(os.environ.get("TRUCELINE_SESSION_MINUTES", "60"))
WINDOWS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "all": "All time",
    "custom": "Custom",
}
FILTER_KEYS = frozenset({"window", *Filters.__dataclass_fields__})
VERDICT_LABELS = {
    "breach": "Breach",
    "possible_breach": "Possible breach",
    "no_breach": "No breach",
    "outside_monitored_area": "Outside monitored area",
}


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """One store per URL per server process (thread-safe: a connection per thread)."""
    return open_store(url)


@st.cache_resource(show_spinner=False)
def get_cache(url: str) -> IncidentCache:
    """The in-memory incident cache for a store."""
    return IncidentCache(get_store(url))


def store() -> Store:
    """The store this dashboard serves (``TRUCELINE_DB``)."""
    return get_store(default_url())


def snapshot() -> Snapshot:
    """The cached incidents, caught up with the store."""
    return get_cache(default_url()).snapshot()


@st.cache_data(show_spinner=False, max_entries=4)
def _scenario(url: str, generation: int, changed: str) -> Scenario | None:
    del generation, changed
    return get_store(url).scenario()


def scenario() -> Scenario | None:
    """The stored scenario (re-read when the store changes)."""
    s = store()
    return _scenario(default_url(), s.generation(), str(s.meta("scenario") or "")[-40:])


def principal() -> Principal | None:
    """The signed-in user, anonymous read-only viewer, or ``None``; expires idle sessions."""
    user: Principal | None = st.session_state.get("principal")
    seen = st.session_state.get("last_seen")
    now = datetime.now(UTC)
    if user is not None and seen is not None and (now - seen).total_seconds() > SESSION_TIMEOUT_MIN * 60:
        st.session_state.pop("principal", None)
        st.session_state["expired"] = True
        user = None
    if user is not None:
        st.session_state["last_seen"] = now
        return user
    if get_setting(store(), "public_read", default=False):
        return Principal("anonymous", "viewer")
    return None


def oidc_configured() -> bool:
    """Whether ``[auth]`` is set in ``.streamlit/secrets.toml`` (Streamlit's OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def sign_in(user: Principal) -> None:
    """Remember the signed-in user for this browser session."""
    st.session_state["principal"] = user
    st.session_state["last_seen"] = datetime.now(UTC)
    st.session_state.pop("expired", None)


def data_as_of(snap: Snapshot) -> str:
    """The "data as of" line: when the store last changed and when this view caught up."""
    changed = f"{snap.changed_at:%Y-%m-%d %H:%M:%S} UTC" if snap.changed_at else "never"
    stored = f"{len(snap.frame):,} incidents stored"
    return f"Data as of {changed} · refreshed {snap.refreshed_at:%H:%M:%S} UTC · {stored}"


def _options(values: pd.Series | list[str]) -> list[str]:
    return sorted({str(v) for v in values if str(v) != "nan"})


def sidebar_filters(scen: Scenario, snap: Snapshot) -> Filters:
    """
    The filter sidebar, kept in the URL so a view can be shared as a link.

    Returns
    -------
    Filters
        With ``since``/``until`` resolved from the chosen window.
    """
    query = {k: st.query_params[k] for k in st.query_params}
    current = Filters.from_query(query)
    window = query.get("window", "7d" if current.since is None else "custom")
    if window not in WINDOWS:
        window = "7d"
    sb = st.sidebar
    sb.header("Filters")
    window = sb.radio(
        "Time window",
        list(WINDOWS),
        index=list(WINDOWS).index(window),
        format_func=WINDOWS.get,
        horizontal=True,
        key="f_window",
    )
    now = datetime.now(UTC)
    since, until = current.since, current.until
    if window == "custom":
        default_start = (since or now - pd.Timedelta(days=30)).date()
        default_end = ((until or now) - pd.Timedelta(seconds=1)).date()
        picked = sb.date_input(
            "From – to (UTC, inclusive)", value=(default_start, default_end), key="f_dates"
        )
        if isinstance(picked, tuple) and len(picked) == 2:
            since = pd.Timestamp(picked[0], tz="UTC").to_pydatetime()
            until = (pd.Timestamp(picked[1], tz="UTC") + pd.Timedelta(days=1)).to_pydatetime()
    else:
        since, until = window_start(now, window), None
    parties = {p.id: p.short_name for p in scen.parties} | {"": "Unattributed"}
    zones = {z.id: z.name for z in scen.zones}
    labels = vocabulary().labels
    frame = snap.frame

    def multi(label: str, options: dict[str, str], chosen: tuple[str, ...], key: str) -> tuple[str, ...]:
        keep = [c for c in chosen if c in options]
        return tuple(sb.multiselect(label, list(options), default=keep, format_func=options.get, key=key))

    result = Filters(
        since=since,
        until=until,
        parties=multi("Party", parties, current.parties, "f_party"),
        zones=multi("Zone", zones, current.zones, "f_zone"),
        verdicts=multi("Verdict", VERDICT_LABELS, current.verdicts, "f_verdict"),
        categories=multi(
            "Category", {c: labels.get(c, c) for c in _options(labels)}, current.categories, "f_category"
        ),
        verifications=multi(
            "Verification",
            {v: v.capitalize() for v in VERIFICATION_STATUSES},
            current.verifications,
            "f_verification",
        ),
        sources=multi(
            "Source",
            {s: s for s in _options(frame["source"].cat.categories if len(frame) else [])},
            current.sources,
            "f_source",
        ),
        text=sb.text_input("Text in description or actor", value=current.text, key="f_text").strip(),
    )
    result = result.with_(bbox=current.bbox)
    params = result.to_query() | {"window": window}
    if window != "custom":
        params.pop("since", None)
        params.pop("until", None)
    wanted = {k: v for k, v in query.items() if k not in FILTER_KEYS} | params
    if wanted != query:
        st.query_params.from_dict(wanted)
    return result


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|$~:&"})


def md(text: object) -> str:
    """Data text made inert for ``st.markdown``: no links, HTML, emphasis or LaTeX."""
    return str(text).translate(_MD_SPECIAL).replace("\n", " ")


def synthetic_banner(scen: Scenario | None) -> None:
    """Say so, prominently, when the data is synthetic."""
    if scen is not None and scen.synthetic:
        st.warning(
            "**Synthetic demo data.** Every incident shown here was generated; none is real.", icon="⚠️"
        )
