"""Users & audit (admins): local accounts, dashboard settings, and the append-only audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common
from geo._errors import PermissionDeniedError
from geo.accounts import add_user, get_setting, list_users, set_disabled, set_setting
from geo.auth import ROLES, require

st.title("Users & audit")
user = common.principal()
store = common.store()
try:
    require(user, "manage_users")
except PermissionDeniedError as err:
    st.error(str(err))
    st.stop()

st.subheader("Accounts")
st.dataframe(pd.DataFrame(list_users(store, actor=user)), hide_index=True, use_container_width=True)
with st.form("add_user"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("User name")
    role = c2.selectbox("Role", ROLES)
    password = c3.text_input("Password (10+ characters)", type="password")
    if st.form_submit_button("Create or update account"):
        try:
            add_user(store, name.strip(), role, password, actor=user)
        except (ValueError, PermissionDeniedError) as err:
            st.error(str(err))
        else:
            st.success(f"Account {name} saved as {role}.")
names = [u["name"] for u in list_users(store, actor=user) if u["name"] != user.name]
if names:
    c1, c2 = st.columns([2, 1])
    who = c1.selectbox("Account", names, key="a_who")
    if c2.button("Disable", key="a_disable"):
        set_disabled(store, who, True, actor=user)
        st.rerun()
    if c2.button("Enable", key="a_enable"):
        set_disabled(store, who, False, actor=user)
        st.rerun()

st.subheader("Settings")
public = st.toggle(
    "Public read-only viewing (anyone who can reach the dashboard sees the data)",
    value=bool(get_setting(store, "public_read", default=False)),
    key="a_public",
)
if public != bool(get_setting(store, "public_read", default=False)):
    set_setting(store, "public_read", public, actor=user)
    st.rerun()
refresh = st.number_input(
    "Live map refresh (seconds)",
    min_value=10,
    max_value=3600,
    value=int(get_setting(store, "refresh_seconds", default=60)),
    key="a_refresh",
)
if refresh != int(get_setting(store, "refresh_seconds", default=60)):
    set_setting(store, "refresh_seconds", int(refresh), actor=user)

st.subheader("Audit log")
st.caption("Append-only: neither the dashboard nor the command line can change or delete an entry.")
c1, c2 = st.columns(2)
action = c1.text_input("Action contains", key="a_action")
who = c2.text_input("User", key="a_user")
log = store.frame(
    "SELECT entry_id, at, user_name, action, target, before, after FROM audit_log "
    "ORDER BY entry_id DESC LIMIT 5000"
)
if action:
    log = log[log["action"].str.contains(action, case=False, regex=False)]
if who:
    log = log[log["user_name"].str.contains(who, case=False, regex=False)]
st.dataframe(log, hide_index=True, use_container_width=True)
