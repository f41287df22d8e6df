"""
Truceline dashboard: the only entry point (``streamlit run dashboard/app.py``).

Streamlit runs this file twice over: ``streamlit run`` imports it to find the ``st.App`` at
the bottom (the web server with the session cookie routes and the upload and metrics gate,
see :mod:`dashboard.server`), and that server then runs it as each page's script.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard import common, language
from geo import TrucelineError
from geo.core.auth import Principal
from geo.i18n import N_, _

ROOT = Path(__file__).resolve().parent.parent

VIEWS = ROOT / "dashboard" / "views"
PAGES = {
    N_("Monitor"): [
        ("live_map.py", N_("Live map"), ":material/map:", "view"),
        ("trends.py", N_("Trends"), ":material/trending_up:", "view"),
        ("incident.py", N_("Incident"), ":material/search:", "view"),
    ],
    N_("Data"): [
        ("upload.py", N_("Upload"), ":material/upload_file:", "upload"),
        ("export.py", N_("Export"), ":material/download:", "export"),
        ("review.py", N_("Review"), ":material/rule:", "verify"),
    ],
    N_("Admin"): [
        ("zones.py", N_("Zones & rules"), ":material/layers:", "edit_scenario"),
        ("admin.py", N_("Users & audit"), ":material/admin_panel_settings:", "manage_users"),
        ("alerts.py", N_("Alerts"), ":material/notifications:", "manage_users"),
    ],
}
LOGIN = ("login.py", N_("Sign in"), ":material/login:")


def pages_for(user: Principal) -> dict[str, list[st.Page]]:
    """
    The pages a user's role allows, by section; every page answers at its own URL path.

    A page the role does not allow is not in the menu and never runs: its URL shows a
    refusal instead (rather than Streamlit's "page not found" and the default page). The
    site's root is a hidden page that opens the live map at ``/live_map`` (Streamlit serves
    its default page at ``/`` only, so the live map is not the default).
    """
    root = st.Page(to_live_map, title="Truceline", default=True, visibility="hidden")
    sections: dict[str, list[st.Page]] = {"": [root]}
    for section, items in PAGES.items():
        for file, title, icon, permission in items:
            url_path = file.removesuffix(".py")
            if user.can(permission):
                page = st.Page(
                    str(VIEWS / file),
                    title=_(title),
                    icon=icon,
                    url_path=url_path,
                )
            else:
                page = st.Page(
                    lambda title=title: refused(user, _(title)),
                    title=_("Not allowed"),
                    url_path=url_path,
                    visibility="hidden",
                )
            sections.setdefault(_(section), []).append(page)
    return sections


def to_live_map() -> None:
    """The root (``/``): the live map, at its own address and with the link's filters."""
    st.switch_page(str(VIEWS / "live_map.py"), query_params=dict(st.query_params))


def refused(user: Principal, title: str) -> None:
    """What a page the user's role does not allow shows instead of itself."""
    st.title(_("Not allowed"))
    if common.is_anonymous(user):  # a public viewer: an account may well allow it
        st.info(
            _("The {page} page needs an account: sign in with the button in the sidebar.").format(page=title),
            icon=":material/login:",
        )
        return
    st.error(
        _("Your role ({role}) does not allow the {page} page.").format(
            role=common.role_name(user.role), page=title
        ),
        icon=":material/block:",
    )


def login_page() -> None:
    """
    Only the sign-in page exists for someone who may not see the data.

    It answers at every page's URL, so a shared link (with its filters) still leads to
    its page once the visitor has signed in.
    """
    file, title, icon = LOGIN
    paths = ["", *(f.removesuffix(".py") for items in PAGES.values() for f, *_ in items)]
    pages = [
        st.Page(
            str(VIEWS / file),
            title=_(title),
            icon=icon,
            url_path=path or None,
            default=not path,
            visibility="visible" if not path else "hidden",
        )
        for path in paths
    ]
    st.navigation(pages, position="hidden").run()


def main() -> None:
    # A local image: a Material or emoji page icon makes the browser fetch it from a CDN.
    st.set_page_config(
        page_title="Truceline",
        page_icon=str(ROOT / "dashboard" / "static" / "truceline-icon.png"),
        layout="wide",
    )
    common.apply_upload_limit()  # server.maxUploadSize from TRUCELINE_MAX_UPLOAD_MB
    common.warm_cache()
    try:
        prefs_store = common.base_store()
        prefs_user = common.session_principal()
    except TrucelineError:  # a store that cannot be opened: the page that needs it says so
        prefs_store, prefs_user = None, None
    if common.is_anonymous(prefs_user):
        prefs_user = None  # the public viewer has no saved preferences
    language.apply(prefs_user, prefs_store)
    user = common.principal()
    common.cookie_script()
    if user is None:
        language.picker(None, prefs_store)
        login_page()
        return
    anonymous = common.is_anonymous(user)
    if anonymous and st.session_state.get("want_login"):
        login_page()
        return
    page = st.navigation(pages_for(user))  # the root page has no section: it is never listed
    language.picker(None if anonymous else user, prefs_store)
    common.scenario_picker()
    with st.sidebar:
        if anonymous:
            st.info(
                _("**Public read-only viewing is on**: anyone who can reach this page sees the data."),
                icon=":material/public:",
            )
            if st.button(_("Sign in"), key="sign_in_anon"):
                st.session_state["want_login"] = True
                st.rerun()
        else:
            st.caption(
                _("Signed in as **{name}** ({role})").format(
                    name=common.md(user.name), role=common.role_name(user.role)
                )
            )
            if st.button(_("Sign out"), key="sign_out"):
                oidc = st.session_state.get("session_kind") == "oidc"
                common.sign_out()
                if oidc:
                    st.logout()  # Streamlit's own identity cookie too, or the next run signs in again
                st.rerun()
            if common.public_read():
                st.caption(_("Public read-only viewing is on."))
    page.run()
    common.freeze_imports()


if __name__ == "__main__":  # run by Streamlit as the page script
    main()
else:  # imported by `streamlit run` (or an ASGI server) to serve the app
    from starlette.middleware import Middleware

    from dashboard import server

    app = st.App(
        __file__,
        routes=server.routes(),
        middleware=[Middleware(server.SessionGate)],
        lifespan=server.lifespan,
    )
