"""Users & audit (admins): local accounts, dashboard settings, and the append-only audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common
from geo import InputError, PermissionDeniedError
from geo.core.auth import ROLES
from geo.core.names import printable
from geo.services import sessions
from geo.services.accounts import (
    add_user,
    audit_entries,
    grant_scenario,
    list_users,
    revoke_scenario,
    scenario_bindings,
    set_disabled,
)
from geo.services.audit import verify_audit
from geo.services.settings import get_setting, set_setting

st.title("Users & audit")
user = common.require_page("manage_users")
store = common.store()
common.flash()

st.subheader("Accounts")
accounts = pd.DataFrame(list_users(store, actor=user))
if len(accounts):
    accounts["name"] = accounts["name"].map(printable)
st.dataframe(accounts, hide_index=True, width="stretch")
with st.form("add_user"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("User name", key="a_new_name")
    role = c2.selectbox("Role", ROLES, key="a_new_role")
    password = c3.text_input("Password (10+ characters)", type="password", key="a_new_password")
    if st.form_submit_button("Create or update account"):
        try:
            add_user(store, name.strip(), role, password, actor=user)
        except (ValueError, InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            common.flash(f"Account {common.md(name.strip())} saved as {role}.")
            st.rerun()
names = [u["name"] for u in list_users(store, actor=user) if u["name"] != user.name]
if names:
    c1, c2 = st.columns([2, 1])
    who = c1.selectbox("Account", names, key="a_who")
    if c2.button("Disable", key="a_disable"):
        set_disabled(store, who, True, actor=user)
        common.flash(f"Account {common.md(who)} disabled.")
        st.rerun()
    if c2.button("Enable", key="a_enable"):
        set_disabled(store, who, False, actor=user)
        common.flash(f"Account {common.md(who)} enabled.")
        st.rerun()

st.subheader("Signed-in sessions")
live = sessions.live_sessions(store, actor=user)
st.caption(
    f"{len(live):,} sessions: they last {common.session_minutes():g} minutes idle and "
    f"{sessions.lifetime().total_seconds() / 3600:g} hours at most."
)
st.dataframe(live, hide_index=True, width="stretch")
signed_in = sorted(set(live["user_name"]))
if signed_in:
    c1, c2 = st.columns([2, 1])
    whose = c1.selectbox("Account", signed_in, key="a_sessions_of")
    if c2.button("Sign out everywhere", key="a_end_sessions"):
        ended = sessions.sign_out_everywhere(store, whose, actor=user)
        common.flash(f"{ended} sessions of {common.md(whose)} ended.")
        st.rerun()

scenarios = store.scenario_ids()
if scenarios:
    st.subheader("Access per ceasefire")
    st.caption(
        "An account bound to one or more ceasefires sees only those, with the role given here; "
        "an account bound to none has its own role in every ceasefire."
    )
    bindings = scenario_bindings(store, actor=user)
    if len(bindings):
        st.dataframe(bindings, hide_index=True, width="stretch")
    accounts = [u["name"] for u in list_users(store, actor=user)]
    c1, c2, c3 = st.columns(3)
    b_who = c1.selectbox("Account", accounts, key="a_bind_who")
    b_scenario = c2.selectbox("Ceasefire", scenarios, key="a_bind_scenario")
    b_role = c3.selectbox("Role there", ROLES, key="a_bind_role")
    g1, g2 = st.columns(2)
    if g1.button("Grant", key="a_bind_grant") and b_who:
        try:
            grant_scenario(store, b_who, b_scenario, b_role, actor=user)
        except (InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            common.flash(f"{common.md(b_who)}: {b_role} in {common.md(b_scenario)}.")
            st.rerun()
    if g2.button("Revoke", key="a_bind_revoke") and b_who:
        try:
            revoke_scenario(store, b_who, b_scenario, actor=user)
        except PermissionDeniedError as err:
            st.error(common.md(err))
        else:
            common.flash(f"{common.md(b_who)}: no longer bound to {common.md(b_scenario)}.")
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
st.caption(
    "Append-only and hash-chained: neither the dashboard nor the command line can change or delete an "
    "entry, and the check below finds any entry changed, removed or slipped in by other means."
)
check = verify_audit(store, actor=user)
if check.ok:
    head = f"last entry {check.head_id:,} ({check.head_hash[:16]}…)" if check.head_id else "no entry yet"
    where = f"; the head file {common.md(check.head_file)} agrees" if check.head_file else ""
    st.success(f"Hash chain intact: {check.entries:,} entries, {head}{where}.", icon=":material/verified:")
else:
    st.error(f"Audit log broken: {common.md(check.problems[0])}", icon=":material/gpp_bad:")
    for problem in check.problems[1:]:
        st.error(common.md(problem))
c1, c2 = st.columns(2)
action = c1.text_input("Action contains", key="a_action")
who = c2.text_input("User", key="a_user")
log = audit_entries(store, actor=user, action=action.strip(), user=who.strip())
st.caption(f"{len(log):,} entries shown (newest first, at most 5,000).")
for column in ("user_name", "action", "target", "before", "after"):
    log[column] = log[column].map(printable)  # control characters shown as escapes, never acted on
st.dataframe(log, hide_index=True, width="stretch")
