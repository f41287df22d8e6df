"""Truceline dashboard: the only entry point (``streamlit run dashboard/app.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import common  # noqa: E402
from geo.accounts import get_setting  # noqa: E402

st.set_page_config(page_title="Truceline", page_icon="🕊️", layout="wide")

VIEWS = ROOT / "dashboard" / "views"
PAGES = {
    "Monitor": [
        ("live_map.py", "Live map", "🗺️", "view"),
        ("trends.py", "Trends", "📈", "view"),
        ("incident.py", "Incident", "🔎", "view"),
    ],
    "Data": [
        ("upload.py", "Upload", "⬆️", "upload"),
        ("export.py", "Export", "📄", "export"),
    ],
    "Admin": [
        ("zones.py", "Zones & rules", "🧭", "edit_scenario"),
        ("admin.py", "Users & audit", "🛡️", "manage_users"),
    ],
}


def main() -> None:
    user = common.principal()
    if user is None:
        page = st.navigation([st.Page(str(VIEWS / "login.py"), title="Sign in", icon="🔑")])
        page.run()
        return
    sections = {
        section: [
            st.Page(
                str(VIEWS / file),
                title=title,
                icon=icon,
                url_path=file.removesuffix(".py"),
                default=file == "live_map.py",
            )
            for file, title, icon, permission in items
            if user.can(permission)
        ]
        for section, items in PAGES.items()
    }
    page = st.navigation({k: v for k, v in sections.items() if v})
    with st.sidebar:
        if user.name == "anonymous":
            st.info(
                "Public read-only viewing is on: anyone who can reach this page sees the data.", icon="🌐"
            )
            if st.button("Sign in", key="sign_in_anon"):
                st.session_state["want_login"] = True
                st.rerun()
        else:
            st.caption(f"Signed in as **{user.name}** ({user.role})")
            if st.button("Sign out", key="sign_out"):
                st.session_state.pop("principal", None)
                st.rerun()
    if st.session_state.get("want_login") and user.name == "anonymous":
        st.navigation([st.Page(str(VIEWS / "login.py"), title="Sign in", icon="🔑")]).run()
        return
    if get_setting(common.store(), "public_read", default=False) and user.name != "anonymous":
        st.sidebar.caption("Public read-only viewing is on.")
    page.run()


main()
