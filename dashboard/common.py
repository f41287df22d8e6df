"""State shared by the pages: the store, the incident cache, the signed-in user, the filters.

Pages read their widgets, call ``geo`` and render; anything cached or shared lives here.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys

import pandas as pd
import streamlit as st

from geo import NotFoundError, PermissionDeniedError, TrucelineError
from geo.core.auth import Principal
from geo.core.duplicates import count_events
from geo.core.localized import localized
from geo.core.model import Scenario
from geo.core.names import printable
from geo.i18n import N_, _, language, ngettext, when
from geo.i18n import number as format_number
from geo.io import readers
from geo.labels import role
from geo.services import sessions
from geo.services.accounts import role_for_identity, scoped_to, visible_scenarios
from geo.services.cache import CachedIncidents, IncidentCache
from geo.services.ingest import scenario_bounds
from geo.services.settings import get_setting
from geo.store import Store, default_url, open_store

DEFAULT_SESSION_MINUTES = 60.0
ANONYMOUS = "anonymous"
CHOOSE = N_("Choose options")
"""What an empty multiselect says (Streamlit's own words are English only)."""
_FROZEN_AT: list[int] = [0]
"""How many modules were loaded when the heap was last frozen (:func:`freeze_imports`)."""


def freeze_imports() -> None:
    """
    Keep what the imports made out of the garbage collector's full passes (after a page run).

    Streamlit collects garbage after every page run (``runner.postScriptGC``), and each
    pass walked every object of every loaded module, which live as long as the server: a
    sixth of a page run's CPU. After a run that loaded modules, the heap is collected and
    frozen (:func:`gc.freeze`); later passes walk only what was made since. Frozen objects
    are still freed when nothing refers to them; only cycles among them stay, and freezes
    happen a few times per server process, while its pages are first opened.
    """
    if len(sys.modules) != _FROZEN_AT[0]:
        _FROZEN_AT[0] = len(sys.modules)
        gc.collect()
        gc.freeze()


@st.cache_resource(show_spinner=False)
def get_store(url: str) -> Store:
    """One store per URL per server process (thread-safe: a connection per thread)."""
    return open_store(url)


@st.cache_resource(show_spinner=False)
def get_cache(url: str, scenario_id: str | None = None) -> IncidentCache:
    """The in-memory incident cache of one scenario of a store, loading in the background from the start."""
    cache = IncidentCache(get_store(url).using(scenario_id))
    cache.warm()
    return cache


def warm_cache() -> None:
    """Start loading the incident cache (once per server process), so that the first map finds it ready."""
    with contextlib.suppress(TrucelineError):  # a store that cannot be opened: the page that needs it says so
        url = default_url()
        get_cache(url, get_store(url).scenario_id)  # keyed as the pages key the default scenario


def base_store() -> Store:
    """The store this dashboard serves (``TRUCELINE_DB``), for what is store-wide: accounts, settings."""
    return get_store(default_url())


def scenario_id() -> str:
    """
    The scenario this page shows: the URL's ``scenario``, else this session's, else the store's default.

    Checked against the signed-in user: a scenario they may not see stops the page with a
    refusal (a shared or edited link cannot open another ceasefire's data).
    """
    wanted = str(st.query_params.get("scenario") or st.session_state.get("scenario") or "")
    user = _session_principal()
    try:
        scoped, _ = scoped_to(base_store(), user, wanted or None)
    except (PermissionDeniedError, NotFoundError) as err:
        st.error(str(err), icon=":material/block:")
        st.stop()
    chosen = scoped.scenario_id
    st.session_state["scenario"] = chosen
    if wanted != chosen and base_store().scenario_ids():
        st.query_params["scenario"] = chosen
    return chosen


def store() -> Store:
    """The store this dashboard serves (``TRUCELINE_DB``), on the scenario this page shows."""
    return get_store(default_url()).using(scenario_id())


def snapshot() -> CachedIncidents:
    """The cached incidents of the scenario shown, caught up with the store."""
    return get_cache(default_url(), scenario_id()).snapshot()


def invalidate() -> None:
    """Make the next snapshot reload every row (after an upload, undo or reclassification)."""
    get_cache(default_url(), scenario_id()).invalidate()


def scenario_picker() -> None:
    """The sidebar's scenario picker (when the store holds several); the choice goes in the URL."""
    base = base_store()
    visible = visible_scenarios(base, _session_principal())
    if len(visible) < 2:
        return
    current = scenario_id()
    names = {sid: _scenario_name(sid) for sid in visible}
    picked = st.sidebar.selectbox(
        _("Ceasefire"),
        visible,
        index=visible.index(current) if current in visible else 0,
        format_func=lambda sid: names.get(sid, sid),
        key="scenario_pick",
    )
    if picked != current:
        st.session_state["scenario"] = picked
        st.query_params["scenario"] = picked
        for key in [k for k in st.session_state if k.startswith("f_")]:
            del st.session_state[key]  # zones and parties differ from one ceasefire to another
        st.rerun()


def _scenario_name(scenario_id: str) -> str:
    meta = base_store().using(scenario_id).scenario_meta()
    name = str(meta.get("name") or scenario_id)
    with contextlib.suppress(TrucelineError):
        scen = _scenario(
            default_url(),
            scenario_id,
            base_store().using(scenario_id).generation(),
            str(meta.get("loaded_at", "")),
            None,
        )
        if scen is not None:
            name = scen.text("scenario.name", language(), scen.name)
    return name


def session_principal() -> Principal | None:
    """The signed-in user (or the public viewer) before scoping to a scenario; no activity counted."""
    return _session_principal()


def role_name(value: str) -> str:
    """A role as shown, in the current language."""
    return role(value)


def _session_principal() -> Principal | None:
    """The signed-in user (or the public viewer) as stored, before scoping to a scenario."""
    user = _signed_in(touch=False)
    if user is None and public_read():
        return Principal(ANONYMOUS, "viewer")
    return user


@st.cache_resource(show_spinner=False, max_entries=8)
def _scenario(url: str, scenario_id: str, generation: int, changed: str, lang: str | None) -> Scenario | None:
    """
    One scenario object per store state and language, shared by every run and session.

    A scenario is immutable, and its map geometry and metric indexes are cached per
    object (``geo.render.webmap.shapes``, ``geo.core.classify.prepare``): a copy per run
    would compute them again at every run.
    """
    del generation, changed
    scen = get_store(url).using(scenario_id).scenario()
    return scen if scen is None or lang is None else localized(scen, lang)


def scenario(*, as_written: bool = False) -> Scenario | None:
    """
    The stored scenario (re-read when the store changes), its names in the page's language.

    Parameters
    ----------
    as_written
        The manifest's own texts, untranslated (for editing and saving the scenario).
    """
    s = store()
    loaded = str(s.scenario_meta().get("loaded_at", ""))
    return _scenario(default_url(), s.scenario_id, s.generation(), loaded, None if as_written else language())


# -- who is signed in ---------------------------------------------------------------------------------


def session_minutes() -> float:
    """Idle minutes before a signed-in session ends (``TRUCELINE_SESSION_MINUTES``, default 60)."""
    return sessions.idle_limit().total_seconds() / 60


def public_read() -> bool:
    """Whether the operator turned on public read-only viewing."""
    return bool(get_setting(base_store(), "public_read", default=False))


def client() -> str:
    """
    The address of this browser (see :func:`geo.services.sessions.client_address`).

    Streamlit gives the websocket's peer (``None`` for the loopback interface); a reverse
    proxy's ``X-Forwarded-For`` counts only when ``TRUCELINE_TRUSTED_PROXIES`` names it.
    """
    try:
        peer = st.context.ip_address
        forwarded = st.context.headers.get("X-Forwarded-For")
    except (AttributeError, RuntimeError, KeyError):
        peer, forwarded = None, None
    return sessions.client_address(
        peer if isinstance(peer, str) else None, forwarded if isinstance(forwarded, str) else None
    )


_ENDED = {
    "idle": N_("Your session timed out. Please sign in again."),
    "lifetime": N_("Your session reached its time limit. Please sign in again."),
    "signed out": N_("You signed out (in this or another tab). Please sign in again."),
    "account disabled": N_("Your account was disabled or removed. Ask an administrator."),
    "account changed": N_("Your account was changed by an administrator. Please sign in again."),
    "signed out by an admin": N_("An administrator signed you out. Please sign in again."),
}


def principal(*, touch: bool = True) -> Principal | None:
    """
    The signed-in user, the anonymous read-only viewer, or ``None``.

    The session lives in the store (:mod:`geo.services.sessions`): this browser session's own
    id, or the session cookie of the browser (a reload, another tab, a reconnect). It is
    checked at every run, so a sign-out in another tab, an expired session or an account an
    admin disabled or changed ends it here too.

    Parameters
    ----------
    touch
        Count this call as activity (a click does; the live map's own refresh does not,
        so a screen left open still times out).
    """
    user = _signed_in(touch=touch)
    if user is not None:
        return _in_scenario(user)
    if public_read():
        return Principal(ANONYMOUS, "viewer")
    return None


def _signed_in(*, touch: bool) -> Principal | None:
    """The user of this browser's live session (store-wide role), or ``None``."""
    sid: str | None = st.session_state.get("session_id")
    from_cookie = sid is None
    if from_cookie and not st.session_state.get("cookie_cleared"):
        sid = cookie()
    if sid:
        found = sessions.resume(base_store(), sid, touch=touch)
        if found is not None:
            st.session_state["session_id"] = sid
            st.session_state["session_kind"] = found.kind
            return found.principal
        reason = sessions.end_reason(base_store(), sid) or "unknown"
        # Drop the cookie only when it held this dead session: another tab may have put a new
        # session in it since this one started.
        sign_out(reason=reason, clear_cookie=from_cookie)
    if oidc_configured() and getattr(st.user, "is_logged_in", False):
        role = role_for_identity(st.user.get("email"), st.user.get("groups"))
        if role is not None:
            sign_in(Principal(str(st.user.get("email")), role), kind="oidc")
            return _signed_in(touch=touch)
    return None


def cookie() -> str | None:
    """The session cookie of this browser, as it came with the page's connection."""
    try:
        value = st.context.cookies.get(sessions.COOKIE_NAME)
    except (AttributeError, RuntimeError):
        return None
    return value if isinstance(value, str) else None  # AppTest has no browser: no cookies


def ended_message() -> str | None:
    """Why the last session ended, when it did not end by this tab's own sign-out."""
    reason = st.session_state.get("ended")
    return _(_ENDED.get(reason, N_("Your session ended. Please sign in again."))) if reason else None


def _in_scenario(user: Principal) -> Principal:
    """The user with their role in the scenario shown (an account bound to scenarios has one per scenario)."""
    if not base_store().scenario_ids():
        return user
    _, scoped = scoped_to(base_store(), user, scenario_id())
    return scoped or user


def is_anonymous(user: Principal | None) -> bool:
    """Whether ``user`` is the public read-only viewer (nobody signed in), whatever accounts are named."""
    return user is not None and st.session_state.get("session_id") is None


def require_page(permission: str) -> Principal:
    """The user, if allowed ``permission``; otherwise say why on the page and stop it."""
    user = principal()
    if user is None:
        st.error(_("Sign in to see this page."))
        st.stop()
    if not user.can(permission):
        st.error(_("Your role ({role}) does not allow this page.").format(role=role_name(user.role)))
        st.stop()
    return user


def loaded_scenario(missing: str | None = None, *, as_written: bool = False) -> Scenario:
    """The stored scenario, with the synthetic-data banner; without one, say ``missing`` and stop."""
    scen = scenario(as_written=as_written)
    if scen is None:
        st.info(missing or _("No scenario is loaded yet."))
        st.stop()
    synthetic_banner(scen)
    return scen


def oidc_configured() -> bool:
    """Whether ``[auth]`` is set in ``.streamlit/secrets.toml`` (Streamlit's OIDC sign-in)."""
    try:
        return "auth" in st.secrets
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return False


def sign_in(user: Principal, *, kind: sessions.Kind = "local") -> None:
    """
    Open a session for ``user`` in the store and hold it in this browser session.

    The browser then exchanges a one-time ticket for the session cookie (see
    :func:`cookie_script`), so that reloads and other tabs find the session too.
    """
    sid, ticket = sessions.start(base_store(), user, kind=kind, client=client())
    st.session_state["session_id"] = sid
    st.session_state["cookie_ticket"] = ticket
    for key in ("ended", "want_login", "cookie_cleared"):
        st.session_state.pop(key, None)


def sign_out(*, reason: str = "", clear_cookie: bool = True) -> None:
    """
    End the session (every tab holding it is signed out at its next run) and forget what it prepared.

    Parameters
    ----------
    reason
        Why it ended, when not by this tab's own sign-out (shown on the sign-in page).
    clear_cookie
        Ask the browser to drop the session cookie (at this page's next render).
    """
    sid = st.session_state.get("session_id")
    if sid and not reason:
        sessions.end(base_store(), sid)
    for key in list(st.session_state):
        del st.session_state[key]
    if reason:
        st.session_state["ended"] = reason
    if clear_cookie:
        st.session_state["clear_cookie"] = True
    st.session_state["cookie_cleared"] = True


def cookie_script() -> None:
    """
    Let the browser set or clear the session cookie, when a sign-in or sign-out asked for it.

    The page holds a one-time ticket, never the session id: a small script posts it to the
    server (``/auth/cookie``), which answers with the ``HttpOnly`` cookie. The script is drawn
    at every run until the ticket is spent (a run replaced by the next one, as a page switch
    does, may never reach the browser). Sign-out posts to ``/auth/signout``, which clears it.
    """
    ticket = st.session_state.get("cookie_ticket")
    if ticket and not sessions.ticket_waiting(base_store(), ticket):
        ticket = None  # exchanged (or expired): the cookie is set
        st.session_state.pop("cookie_ticket", None)
    clear = st.session_state.pop("clear_cookie", None)
    if not ticket and not clear:
        return
    import json

    from dashboard.server import base_path

    if ticket:
        target, body = f"{base_path()}/auth/cookie", "ticket=" + ticket
    else:
        target, body = f"{base_path()}/auth/signout", ""
    script = (
        "<script>fetch(" + json.dumps(target) + ", {method: 'POST', credentials: 'same-origin', "
        "headers: {'Content-Type': 'application/x-www-form-urlencoded'}, body: " + json.dumps(body) + "})"
        ".then(function (r) { document.body.dataset.cookie = String(r.status); });</script>"
    )
    if hasattr(st, "iframe"):
        st.iframe(script, height=1)
    else:  # Streamlit before st.iframe
        st.components.v1.html(script, height=0)


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
    """Say so, prominently, when the data is synthetic or mixed; then the sources and caveats."""
    if scen is None:
        return
    if scen.data_kind == "mixed":
        st.warning(
            _(
                "**Real and synthetic data.** Some incidents shown here are real records; the others were "
                "generated and are marked [SYNTHETIC] (source `synthetic…`). Never cite a synthetic record."
            ),
            icon=":material/warning:",
        )
    elif scen.synthetic:
        st.warning(
            _("**Synthetic demo data.** Every incident shown here was generated; none is real."),
            icon=":material/warning:",
        )
    notes = ([_("Sources: {text}").format(text=scen.attribution)] if scen.attribution else []) + [
        _("Caveat: {text}").format(text=c) for c in scen.caveats
    ]
    if notes:  # the same lines as geo.render.palette.provenance_lines, in the page's language
        st.caption("  \n".join(md(n) for n in notes))


def _counted(what: str, n: int) -> str:
    """The "{count} incidents stored" message and its kin, in the plural form ``n`` takes."""
    if what == "stored":
        return ngettext("{count} incident stored", "{count} incidents stored", n)
    if what == "match":
        return ngettext("{count} incident matches", "{count} incidents match", n)
    if what == "shown":
        return ngettext("{count} incident shown", "{count} incidents shown", n)
    return ngettext("{count} incident in this view", "{count} incidents in this view", n)


def how_many(view: pd.DataFrame, what: str, *, bold: bool = False) -> str:
    """
    "N incidents ``what``", counting linked reports of one event once, and the reports when that differs.

    ``what`` is ``stored``, ``match``, ``shown`` or ``in this view``.

    See :func:`geo.core.duplicates.distinct_events` for what counts once.
    """
    events, reports = count_events(view), len(view)
    text = _counted(what, events).format(count=format_number(events))
    if bold:
        text = f"**{text}**"
    if events != reports:
        text += " " + _("({count} reports: linked reports of one event count once)").format(
            count=format_number(reports)
        )
    return text


def data_as_of(snap: CachedIncidents) -> str:
    """The "data as of" line: when the store last changed and when this view caught up."""
    changed = when(snap.changed_at, style="iso-seconds") if snap.changed_at else _("never")
    stored = how_many(snap.frame, "stored")
    return _("Data as of {changed} · refreshed {refreshed} · {stored}").format(
        changed=changed, refreshed=when(snap.refreshed_at, style="time"), stored=stored
    )


def flash(message: str | None = None) -> None:
    """Keep a success message across ``st.rerun()`` (given), or show and forget it (no argument)."""
    if message is not None:
        st.session_state["flash"] = message
        return
    kept = st.session_state.pop("flash", None)
    if kept:
        st.success(kept)


# -- store reads the pages need that geo/ does not offer yet ---------------------------------------------
@st.cache_data(show_spinner=False, max_entries=2, ttl=900)
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
