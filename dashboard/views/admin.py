"""Users & audit (admins): local accounts, dashboard settings, and the append-only audit log."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import common, frames
from geo import InputError, PermissionDeniedError
from geo.core.auth import ROLES
from geo.core.names import printable
from geo.i18n import _, number
from geo.labels import role as role_label
from geo.services import sessions
from geo.services.accounts import (
    TEST_HASHING_WARNING,
    add_user,
    audit_entries,
    grant_scenario,
    list_users,
    password_hashing,
    revoke_scenario,
    scenario_bindings,
    set_disabled,
)
from geo.services.audit import verify_audit
from geo.services.settings import get_setting, set_setting


def table(frame: pd.DataFrame) -> None:
    """A table of the page: headings, times and roles in the page's language."""
    if "role" in frame:
        frame = frame.assign(role=frame["role"].map(role_label))
    st.dataframe(frames.headed(frame), hide_index=True, width="stretch")


st.title(_("Users & audit"))
user = common.require_page("manage_users")
store = common.store()
common.flash()

st.subheader(_("Accounts"))
if password_hashing() == "test":
    st.warning(_(TEST_HASHING_WARNING), icon=":material/warning:")
accounts = pd.DataFrame(list_users(store, actor=user))
if len(accounts):
    accounts["name"] = accounts["name"].map(printable)
table(accounts)
with st.form("add_user"):
    c1, c2, c3 = st.columns(3)
    name = c1.text_input(_("User name"), key="a_new_name")
    role = c2.selectbox(_("Role"), ROLES, format_func=role_label, key="a_new_role")
    password = c3.text_input(_("Password (10+ characters)"), type="password", key="a_new_password")
    if st.form_submit_button(_("Create or update account")):
        try:
            add_user(store, name.strip(), role, password, actor=user)
        except (ValueError, InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            common.flash(
                _("Account {name} saved as {role}.").format(
                    name=common.md(name.strip()), role=role_label(role)
                )
            )
            st.rerun()
names = [u["name"] for u in list_users(store, actor=user) if u["name"] != user.name]
if names:
    c1, c2 = st.columns([2, 1])
    who = c1.selectbox(_("Account"), names, key="a_who")
    if c2.button(_("Disable"), key="a_disable"):
        set_disabled(store, who, True, actor=user)
        common.flash(_("Account {name} disabled.").format(name=common.md(who)))
        st.rerun()
    if c2.button(_("Enable"), key="a_enable"):
        set_disabled(store, who, False, actor=user)
        common.flash(_("Account {name} enabled.").format(name=common.md(who)))
        st.rerun()

st.subheader(_("Signed-in sessions"))
live = sessions.live_sessions(store, actor=user)
st.caption(
    _("{count} sessions: they last {minutes} minutes idle and {hours} hours at most.").format(
        count=number(len(live)),
        minutes=number(common.session_minutes()),
        hours=number(sessions.lifetime().total_seconds() / 3600),
    )
)
table(live)
signed_in = sorted(set(live["user_name"]))
if signed_in:
    c1, c2 = st.columns([2, 1])
    whose = c1.selectbox(_("Account"), signed_in, key="a_sessions_of")
    if c2.button(_("Sign out everywhere"), key="a_end_sessions"):
        ended = sessions.sign_out_everywhere(store, whose, actor=user)
        common.flash(
            _("{count} sessions of {name} ended.").format(count=number(ended), name=common.md(whose))
        )
        st.rerun()

scenarios = store.scenario_ids()
if scenarios:
    st.subheader(_("Access per ceasefire"))
    st.caption(
        _(
            "An account bound to one or more ceasefires sees only those, with the role given here; "
            "an account bound to none has its own role in every ceasefire."
        )
    )
    bindings = scenario_bindings(store, actor=user)
    if len(bindings):
        table(bindings)
    accounts = [u["name"] for u in list_users(store, actor=user)]
    c1, c2, c3 = st.columns(3)
    b_who = c1.selectbox(_("Account"), accounts, key="a_bind_who")
    b_scenario = c2.selectbox(_("Ceasefire"), scenarios, key="a_bind_scenario")
    b_role = c3.selectbox(_("Role there"), ROLES, format_func=role_label, key="a_bind_role")
    g1, g2 = st.columns(2)
    if g1.button(_("Grant"), key="a_bind_grant") and b_who:
        try:
            grant_scenario(store, b_who, b_scenario, b_role, actor=user)
        except (InputError, PermissionDeniedError) as err:
            st.error(common.md(err))
        else:
            common.flash(
                _("{name}: {role} in {ceasefire}.").format(
                    name=common.md(b_who), role=role_label(b_role), ceasefire=common.md(b_scenario)
                )
            )
            st.rerun()
    if g2.button(_("Revoke"), key="a_bind_revoke") and b_who:
        try:
            revoke_scenario(store, b_who, b_scenario, actor=user)
        except PermissionDeniedError as err:
            st.error(common.md(err))
        else:
            common.flash(
                _("{name}: no longer bound to {ceasefire}.").format(
                    name=common.md(b_who), ceasefire=common.md(b_scenario)
                )
            )
            st.rerun()

st.subheader(_("Settings"))
public = st.toggle(
    _("Public read-only viewing (anyone who can reach the dashboard sees the data)"),
    value=bool(get_setting(store, "public_read", default=False)),
    key="a_public",
)
if public != bool(get_setting(store, "public_read", default=False)):
    set_setting(store, "public_read", public, actor=user)
    st.rerun()
refresh = st.number_input(
    _("Live map refresh (seconds)"),
    min_value=10,
    max_value=3600,
    value=int(get_setting(store, "refresh_seconds", default=60)),
    key="a_refresh",
)
if refresh != int(get_setting(store, "refresh_seconds", default=60)):
    set_setting(store, "refresh_seconds", int(refresh), actor=user)

st.subheader(_("Audit log"))
st.caption(
    _(
        "Append-only and hash-chained: neither the dashboard nor the command line can change or delete an "
        "entry, and the check below finds any entry changed, removed or slipped in by other means."
    )
)
check = verify_audit(store, actor=user)
if check.ok:
    head = (
        _("last entry {entry} ({hash}…)").format(entry=number(check.head_id), hash=check.head_hash[:16])
        if check.head_id
        else _("no entry yet")
    )
    where = (
        _("; the head file {file} agrees").format(file=common.md(check.head_file)) if check.head_file else ""
    )
    st.success(
        _("Hash chain intact: {entries} entries, {head}{where}.").format(
            entries=number(check.entries), head=head, where=where
        ),
        icon=":material/verified:",
    )
else:
    st.error(
        _("Audit log broken: {problem}").format(problem=common.md(check.problems[0])),
        icon=":material/gpp_bad:",
    )
    for problem in check.problems[1:]:
        st.error(common.md(problem))
c1, c2 = st.columns(2)
action = c1.text_input(_("Action contains"), key="a_action")
who = c2.text_input(_("User"), key="a_user")
log = audit_entries(store, actor=user, action=action.strip(), user=who.strip())
st.caption(
    _("{count} entries shown (newest first, at most {limit}).").format(
        count=number(len(log)), limit=number(5000)
    )
)
for column in ("user_name", "action", "target", "before", "after"):
    log[column] = log[column].map(printable)  # control characters shown as escapes, never acted on
table(log)
