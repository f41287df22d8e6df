"""State shared by the pages: the store, the incident cache, the signed-in user, the filters.

Pages read their widgets, call ``geo`` and render; anything cached or shared lives here.
"""

from __future__ import annotations

import contextlib
import os
from datetime import date, datetime

import numpy as np
import pandas as pd
import streamlit as st

from geo import TrucelineError, clock
from geo.core.auth import Principal
from geo.core.categories import vocabulary
from geo.core.duplicates import count_events
from geo.core.filters import Filters
from geo.core.model import VERIFICATION_STATUSES, Scenario
from geo.core.names import printable
from geo.io import readers
from geo.render.palette import VERDICT_LABELS
from geo.services.accounts import account_role
from geo.services.cache import CachedIncidents, IncidentCache, window_start
from geo.services.ingest import scenario_bounds
from geo.services.settings import get_setting
from geo.store import Store, default_url, open_store

DEFAULT_SESSION_MINUTES = 60.0
WINDOWS = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "all": "All time",
    "custom": "Custom",
}
FILTER_KEYS = frozenset({"window", *Filters.__dataclass_fields__})
ANONYMOUS = "anonymous"
_LIST_WIDGETS = {
    "parties": "f_party",
    "zones": "f_zone",
    "verdicts": "f_verdict",
    "categories": "f_category",
    "verifications": "f_verification",
    "sources": "f_source",
}


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """One store per URL per server process (thread-safe: a connection per thread)."""
    return open_store(url)


@st.cache_resource(show_spinner=False)
def get_cache(url: str) -> IncidentCache:
    """The in-memory incident cache for a store, loading in the background from the moment it is made."""
    cache = IncidentCache(get_store(url))
    cache.warm()
    return cache


def warm_cache() -> None:
    """Start loading the incident cache (once per server process), so that the first map finds it ready."""
    with contextlib.suppress(TrucelineError):  # a store that cannot be opened: the page that needs it says so
        get_cache(default_url())


def store() -> Store:
    """The store this dashboard serves (``TRUCELINE_DB``)."""
    return get_store(default_url())


def snapshot() -> CachedIncidents:
    """The cached incidents, caught up with the store."""
    return get_cache(default_url()).snapshot()


def invalidate() -> None:
    """Make the next snapshot reload every row (after an upload, undo or reclassification)."""
    get_cache(default_url()).invalidate()


@st.cache_data(show_spinner=False, max_entries=4)
def _scenario(url: str, generation: int, changed: str) -> Scenario | None:
    del generation, changed
    return get_store(url).scenario()


def scenario() -> Scenario | None:
    """The stored scenario (re-read when the store changes)."""
    s = store()
    return _scenario(default_url(), s.generation(), str(s.meta("scenario") or "")[-40:])


# -- who is signed in ---------------------------------------------------------------------------------


def session_minutes() -> float:
    """Idle minutes before a signed-in session ends (``TRUCELINE_SESSION_MINUTES``, default 60)."""
    try:
        return float(os.environ.get("TRUCELINE_SESSION_MINUTES", DEFAULT_SESSION_MINUTES))
    except ValueError:
        return DEFAULT_SESSION_MINUTES


def public_read() -> bool:
    """Whether the operator turned on public read-only viewing."""
    return bool(get_setting(store(), "public_read", default=False))


def principal(*, touch: bool = True) -> Principal | None:
    """
    The signed-in user, the anonymous read-only viewer, or ``None``; ends idle sessions.

    Parameters
    ----------
    touch
        Count this call as activity (a click does; the live map's own refresh does not,
        so a screen left open still times out).
    """
    user: Principal | None = st.session_state.get("principal")
    seen: datetime | None = st.session_state.get("last_seen")
    now = clock.now()
    if user is not None and (seen is None or (now - seen).total_seconds() > session_minutes() * 60):
        sign_out(expired=True)
        user = None
    if user is not None and st.session_state.get("local_account"):
        role = account_role(store(), user.name)
        if role is None:
            sign_out()  # the account was disabled or removed since sign-in
            user = None
        elif role != user.role:
            user = Principal(user.name, role)  # promoted or demoted: takes effect now
            st.session_state["principal"] = user
    if user is not None:
        if touch:
            st.session_state["last_seen"] = now
        return user
    if public_read():
        return Principal(ANONYMOUS, "viewer")
    return None


def is_anonymous(user: Principal | None) -> bool:
    """Whether ``user`` is the public read-only viewer (nobody signed in), whatever accounts are named."""
    return user is not None and st.session_state.get("principal") is None


def require_page(permission: str) -> Principal:
    """The user, if allowed ``permission``; otherwise say why on the page and stop it."""
    user = principal()
    if user is None:
        st.error("Sign in to see this page.")
        st.stop()
    if not user.can(permission):
        st.error(f"Your role ({user.role}) does not allow this page.")
        st.stop()
    return user


def loaded_scenario(missing: str = "No scenario is loaded yet.") -> Scenario:
    """The stored scenario, with the synthetic-data banner; without one, say ``missing`` and stop."""
    scen = scenario()
    if scen is None:
        st.info(missing)
        st.stop()
    synthetic_banner(scen)
    return scen


def oidc_configured() -> bool:
    """Whether ``[auth]`` is set in ``.streamlit/secrets.toml`` (Streamlit's OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def sign_in(user: Principal, *, local: bool = True) -> None:
    """Remember the signed-in user for this browser session (``local``: an account in the store)."""
    st.session_state["principal"] = user
    st.session_state["local_account"] = local
    st.session_state["last_seen"] = clock.now()
    st.session_state.pop("expired", None)
    st.session_state.pop("want_login", None)


def sign_out(*, expired: bool = False) -> None:
    """Forget the user and everything this session prepared for them (files, summaries)."""
    for key in list(st.session_state):
        del st.session_state[key]
    if expired:
        st.session_state["expired"] = True


def max_upload_mb() -> float:
    """The upload limit in MB: ``TRUCELINE_MAX_UPLOAD_MB`` (default 200); Streamlit's too."""
    raw = os.environ.get("TRUCELINE_MAX_UPLOAD_MB", "200")
    try:
        value = float(raw)
    except ValueError:
        value = 200.0
    return value if value > 0 else 200.0


def apply_upload_limit() -> None:
    """Set ``server.maxUploadSize`` to :func:`max_upload_mb` (the upload endpoint reads it per request)."""
    from streamlit import config

    limit = max(1, int(max_upload_mb()))
    if config.get_option("server.maxUploadSize") != limit:
        config.set_option("server.maxUploadSize", limit, "TRUCELINE_MAX_UPLOAD_MB")


# -- text -----------------------------------------------------------------------------------------------

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]()<>#+-.!|$~:&=^\"'"})


def md(text: object) -> str:
    """Data text made inert for ``st.markdown``: no links, HTML, emphasis or LaTeX; controls as escapes."""
    one_line = str(text).replace("\r\n", " ").replace("\n", " ").replace("\r", " ")
    return printable(one_line).translate(_MD_SPECIAL)


def text(value: object, default: str = "—") -> str:
    """A stored value as display text: missing values (``None``, NaN, NA) and "" give ``default``."""
    if value is None or (not isinstance(value, str) and bool(pd.isna(value))):
        return default
    return str(value) or default


def number(value: object) -> float | None:
    """A stored number, or ``None`` when missing."""
    if value is None or bool(pd.isna(value)):
        return None
    return float(value)


def synthetic_banner(scen: Scenario | None) -> None:
    """Say so, prominently, when the data is synthetic."""
    if scen is not None and scen.synthetic:
        st.warning(
            "**Synthetic demo data.** Every incident shown here was generated; none is real.",
            icon=":material/warning:",
        )


def how_many(view: pd.DataFrame, what: str, *, bold: bool = False) -> str:
    """
    "N incidents ``what``", counting linked reports of one event once, and the reports when that differs.

    See :func:`geo.core.duplicates.distinct_events` for what counts once.
    """
    events, reports = count_events(view), len(view)
    text = f"{events:,} incidents {what}"
    if bold:
        text = f"**{text}**"
    if events != reports:
        text += f" ({reports:,} reports: linked reports of one event count once)"
    return text


def data_as_of(snap: CachedIncidents) -> str:
    """The "data as of" line: when the store last changed and when this view caught up."""
    changed = f"{snap.changed_at:%Y-%m-%d %H:%M:%S} UTC" if snap.changed_at else "never"
    stored = how_many(snap.frame, "stored")
    return f"Data as of {changed} · refreshed {snap.refreshed_at:%H:%M:%S} UTC · {stored}"


def flash(message: str | None = None) -> None:
    """Keep a success message across ``st.rerun()`` (given), or show and forget it (no argument)."""
    if message is not None:
        st.session_state["flash"] = message
        return
    kept = st.session_state.pop("flash", None)
    if kept:
        st.success(kept)


# -- filters ---------------------------------------------------------------------------------------------


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
        "parties": {p.id: p.short_name for p in scen.parties} | {"": "Unattributed"},
        "zones": {z.id: z.name for z in scen.zones},
        "verdicts": VERDICT_LABELS,
        "categories": {c: labels.get(c, c) for c in _options(labels)},
        "verifications": {v: v.capitalize() for v in VERIFICATION_STATUSES},
        "sources": {s: s for s in _options(frame["source"].cat.categories if len(frame) else [])},
    }
    now = clock.now()
    if mine and mine != synced:  # a shared link, or a link from another page
        _load_widgets(mine, options, now)
    elif "f_window" not in st.session_state or st.session_state.get("f_page") != page:
        _load_widgets(synced or mine, options, now)  # the view this viewer had on the last page
    st.session_state["f_page"] = page

    sb = st.sidebar
    sb.header("Filters")
    window = sb.radio("Time window", list(WINDOWS), format_func=WINDOWS.get, horizontal=True, key="f_window")
    since: datetime | None
    until: datetime | None = None
    if window == "custom":
        fallback = ((now - pd.Timedelta(days=30)).date(), now.date())
        picked = sb.date_input(
            "From – to (UTC, inclusive)",
            value=st.session_state.get("f_dates_default", fallback),
            key="f_dates",
        )
        if isinstance(picked, tuple | list) and len(picked) == 2:
            st.session_state["f_dates_default"] = tuple(picked)
            since = pd.Timestamp(picked[0], tz="UTC").to_pydatetime()
            until = (pd.Timestamp(picked[1], tz="UTC") + pd.Timedelta(days=1)).to_pydatetime()
        else:
            sb.caption("Pick the last day too.")
            start = picked[0] if isinstance(picked, tuple | list) and picked else picked
            since = pd.Timestamp(start or now.date(), tz="UTC").to_pydatetime()
    else:
        since = window_start(now, window)

    def multi(label: str, name: str) -> tuple[str, ...]:
        choices = options[name]
        return tuple(sb.multiselect(label, list(choices), format_func=choices.get, key=_LIST_WIDGETS[name]))

    result = Filters(
        since=since,
        until=until,
        parties=multi("Party", "parties"),
        zones=multi("Zone", "zones"),
        verdicts=multi("Verdict", "verdicts"),
        categories=multi("Category", "categories"),
        verifications=multi("Verification", "verifications"),
        sources=multi("Source", "sources"),
        text=sb.text_input("Text in description or actor", key="f_text", max_chars=200).strip(),
        bbox=st.session_state.get("f_bbox"),
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
def _text_matches(url: str, text: str, generation: int, max_id: int) -> np.ndarray:
    del generation, max_id
    ids = get_store(url).query(Filters(text=text), columns=["incident_id"])["incident_id"]
    return ids.to_numpy(dtype=np.int64)


def apply(filters: Filters, snap: CachedIncidents) -> pd.DataFrame:
    """
    The cached incidents that pass ``filters``.

    The cache holds no free text, so a text filter is answered by the store (its ids are
    cached per store generation), and the other filters in memory.
    """
    frame = snap.frame
    if filters.text and not {"description", "actor"} <= set(frame.columns):
        ids = _text_matches(default_url(), filters.text, snap.generation, snap.max_id)
        frame = frame[frame["incident_id"].isin(ids)]
        filters = filters.with_(text="")
    return filters.apply(frame)


def slide_window(filters: Filters) -> Filters:
    """The same filters with a preset window ("last 24 hours", …) moved up to now."""
    window = st.session_state.get("f_window", "custom")
    if window in ("custom", "all") or window not in WINDOWS:
        return filters
    return filters.with_(since=window_start(clock.now(), window))


def zero_filled(series: pd.DataFrame, freq: str) -> pd.DataFrame:
    """
    Counts per ``period`` and ``series`` with the empty periods in between as 0.

    ``geo.core.trends.counts`` leaves zero counts out; drawn as lines, the gaps would read
    as a steady rate.
    """
    if series.empty:
        return series[["period", "series", "count"]]
    step = {"day": "D", "week": "7D", "month": "MS"}[freq]
    periods = pd.date_range(series["period"].min(), series["period"].max(), freq=step)
    wide = series.pivot_table(index="period", columns="series", values="count", aggfunc="sum")
    wide = wide.reindex(wide.index.union(periods)).fillna(0).astype("int64")
    wide = wide.rename_axis(index="period", columns="series").reset_index()
    return wide.melt(id_vars="period", var_name="series", value_name="count")


def describe(filters: Filters) -> str:
    """The filters in one line, safe for markdown (the text filter comes from the URL)."""
    return md(filters.describe())


# -- store reads the pages need that geo/ does not offer yet ---------------------------------------------
@st.cache_data(show_spinner="Reading the file…", max_entries=2, ttl=900)
def dry_run(
    data: bytes,
    name: str,
    fmt: str,
    _mapping: readers.ColumnMapping | None,
    _scenario: Scenario,
    mapping_key: str,
    generation: int,
    encoding: str | None = None,
    dayfirst: bool | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str], int]:
    """
    Read an uploaded file without storing anything: valid rows, rejected rows, warnings, rows read.

    Cached by content, mapping and store generation, so clicking through the upload page
    (and Commit) does not read a large file again each time.
    """
    del mapping_key, generation
    chunks = list(
        readers.read_incidents(
            data,
            format=fmt,
            mapping=_mapping,
            name=name,
            encoding=encoding,
            dayfirst=dayfirst,
            party_mapping=_scenario.party_mapping,
            parties={p.id for p in _scenario.parties},
            bbox=scenario_bounds(_scenario),
        )
    )
    if not chunks:  # a header and no rows
        return pd.DataFrame(), pd.DataFrame(), [], 0
    frame = pd.concat([c.frame for c in chunks], ignore_index=True)
    rejected = pd.concat([c.rejected for c in chunks], ignore_index=True)
    return frame, rejected, [w for c in chunks for w in c.warnings], sum(c.rows_read for c in chunks)


def incident_id_param(default: int) -> int:
    """The ``id`` query parameter as a positive incident id, else ``default``."""
    raw = st.query_params.get("id")
    try:
        value = int(str(raw))
    except (TypeError, ValueError):
        return default
    return value if value >= 1 else default
