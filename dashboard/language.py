"""The interface language of each page run: chosen, applied, kept in the URL, and mirrored for Arabic.

The order is the URL's ``lang``, then this session's choice (the sidebar picker), then the
signed-in user's saved preference, then the browser's ``Accept-Language``. The choice is
written back into the URL at every run, so that a page switch or a shared link keeps it.
"""

from __future__ import annotations

import json

import streamlit as st

from geo.core.auth import Principal
from geo.i18n import DIGITS, LANGUAGES, _, choose, digits, is_rtl, language, set_digits, set_language
from geo.services.preferences import get_preference, set_preference
from geo.store import Store

# Russian is named in geo.i18n.LANGUAGES but has no catalogue yet: not offered.
OFFERED = ("en", "ar", "fr")

# The page mirrored for right-to-left languages: with the app's container right to left, its
# flex row puts the sidebar on the right; text and tables read from the right (the map's legend
# and controls swap sides in geo.render.webmap). Charts are drawn left to right, time running
# rightwards: Vega's SVG text inherits the page's direction, and its labels and legend, anchored
# for left to right, would then run off the chart's edges. No user text here.
RTL_CSS = """
<style>
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"], [data-testid="stSidebar"],
[data-testid="stDataFrame"], [data-testid="stTable"], table { direction: rtl; }
[data-testid="stSidebar"] { left: auto; right: 0; border-left: none; }
[data-testid="stMarkdownContainer"], [data-testid="stCaptionContainer"], h1, h2, h3, h4, p, li, label,
th, td { text-align: right; }
[data-testid="stSidebarNavLink"] { flex-direction: row-reverse; justify-content: flex-end; }
[data-testid="stMetric"] { direction: rtl; text-align: right; }
code, pre, [data-testid="stCode"] { direction: ltr; unicode-bidi: isolate; }
[data-testid="stVegaLiteChart"] { direction: ltr; }
</style>
"""


# Every language: a KPI's label wraps in a narrow column instead of being cut with an ellipsis.
# Three parties make six KPIs in a row, and "Hezbollah: breaches, …" twice could not be told apart.
PAGE_CSS = """
<style>
[data-testid="stMetricLabel"] [data-testid="stMarkdownContainer"], [data-testid="stMetricLabel"] p {
  white-space: normal; overflow: visible; text-overflow: clip; }
</style>
"""


def _browser() -> str | None:
    """The browser's ``Accept-Language`` (``None`` where there is no browser, as in AppTest)."""
    try:
        header = st.context.headers.get("Accept-Language")
        locale = st.context.locale
    except (AttributeError, RuntimeError, KeyError):
        return None
    if isinstance(header, str) and header:
        return header
    return locale if isinstance(locale, str) else None


def apply(user: Principal | None, store: Store | None) -> str:
    """
    Choose the language of this run, use it for every string, keep it in the URL and mirror the page.

    Parameters
    ----------
    user
        The signed-in user (their saved preference counts), or ``None``.
    store
        The store holding preferences (``None`` when it cannot be opened).
    """
    saved = digits = None
    if user is not None and store is not None:
        saved = get_preference(store, user.name, "language")
        digits = get_preference(store, user.name, "digits")
    url = str(st.query_params.get("lang") or "")
    chosen = choose(url if url in OFFERED else None, st.session_state.get("lang") or saved, _browser())
    chosen = chosen if chosen in OFFERED else "en"
    set_language(chosen)
    system = str(st.session_state.get("digits") or digits or "latn")
    set_digits(system)
    st.session_state["lang"] = chosen
    st.session_state["digits"] = system
    if url != chosen:
        st.query_params["lang"] = chosen
    document(chosen)
    return chosen


BUTTON = '[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p'
HINT = '[data-testid="stFileUploaderDropzoneInstructions"] span'
HIDDEN = "font-size: 0; visibility: hidden;"


def css_string(text: str) -> str:
    """``text`` as a CSS string literal: quotes, backslashes, newlines and ``<`` escaped."""
    escaped = "".join(c if c.isprintable() and c not in '\\"<>' else f"\\{ord(c):x} " for c in text)
    return f'"{escaped}"'


def widget_css() -> str:
    """
    Streamlit's own words on the file uploader, replaced by the page's language.

    The uploader's button ("Upload") and its "200MB per file • CSV" line are drawn by
    Streamlit's frontend, in English only; their text is hidden and ours shown in its place.
    """
    from dashboard.common import max_upload_mb

    limit = _("{size} MB per file").format(size=f"{max_upload_mb():g}")
    browse = _("Browse files")
    return (
        "<style>"
        f"{BUTTON} {{ {HIDDEN} }} {BUTTON}::after "
        f"{{ content: {css_string(browse)}; font-size: 0.875rem; visibility: visible; }}"
        f"{HINT} {{ {HIDDEN} }} {HINT}::after "
        f"{{ content: {css_string(limit)}; font-size: 0.75rem; visibility: visible; }}"
        "</style>"
    )


def document(code: str) -> None:
    """Set the document's ``lang`` and ``dir``, mirror the layout for a right-to-left language."""
    direction = "rtl" if is_rtl(code) else "ltr"
    script = (
        "<script>document.documentElement.lang = " + json.dumps(code) + "; "
        "document.documentElement.dir = " + json.dumps(direction) + ";</script>"
    )
    extra = (RTL_CSS if direction == "rtl" else "") + (widget_css() if code != "en" else "") + PAGE_CSS
    st.html(script + extra, unsafe_allow_javascript=True)


def _picked_language() -> None:
    code = st.session_state.get("lang_pick")
    if code in OFFERED:
        st.session_state["lang"] = code
        st.query_params["lang"] = code
        st.session_state["save_lang"] = True


def _picked_digits() -> None:
    system = st.session_state.get("digits_pick")
    if system in DIGITS:
        st.session_state["digits"] = system
        st.session_state["save_digits"] = True


def picker(user: Principal | None, store: Store | None) -> None:
    """
    The sidebar's language picker (and, in Arabic, the digits); a signed-in user's choice is saved.

    Parameters
    ----------
    user
        The signed-in user, or ``None`` for the public viewer (the choice then lasts the session).
    store
        The store holding preferences.
    """
    st.session_state["lang_pick"] = language()
    st.sidebar.selectbox(
        _("Language"), OFFERED, format_func=LANGUAGES.__getitem__, key="lang_pick", on_change=_picked_language
    )
    if language() == "ar":
        names = {"latn": _("Western digits (0123)"), "arab": _("Eastern Arabic digits (٠١٢٣)")}
        st.session_state["digits_pick"] = digits()
        st.sidebar.radio(
            _("Digits"),
            list(DIGITS),
            format_func=names.__getitem__,
            key="digits_pick",
            on_change=_picked_digits,
            horizontal=True,
        )
    if user is None or store is None:
        return
    if st.session_state.pop("save_lang", False):
        set_preference(store, user, "language", language())
    if st.session_state.pop("save_digits", False):
        set_preference(store, user, "digits", digits())
