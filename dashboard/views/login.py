"""Sign in: local accounts, OIDC when configured, and first-run setup."""

from __future__ import annotations

import streamlit as st

from dashboard import common
from geo import AuthenticationError, InputError
from geo.i18n import _
from geo.services.accounts import authenticate, create_first_admin, has_users

st.title(_("Truceline"))
st.caption(_("Ceasefire monitoring: incidents joined to the lines, zones and rules the parties agreed."))
store = common.store()
ended = common.ended_message()
if ended:
    st.info(ended)
if (
    common.public_read()
    and st.session_state.get("want_login")
    and st.button(_("← Back to the public map"), key="login_back")
):
    st.session_state.pop("want_login", None)
    st.rerun()

if common.oidc_configured():
    if not getattr(st.user, "is_logged_in", False):
        st.button(_("Sign in with your organisation"), on_click=st.login, type="primary")
    else:  # signed in with the provider, but common.principal() found no role for the identity
        st.error(_("Your account has no Truceline role. Ask an administrator."))

if not has_users(store):
    st.subheader(_("First-run setup"))
    st.write(
        _(
            "No account exists yet. Create the first administrator with the setup token the server "
            "printed on its console when it started (or run `python -m geo users add NAME --role admin` "
            "on the server)."
        )
    )
    with st.form("setup"):
        token = st.text_input(_("Setup token"), type="password", key="setup_token")
        name = st.text_input(_("User name"), key="setup_name")
        password = st.text_input(
            _("Password (at least 10 characters)"), type="password", key="setup_password"
        )
        again = st.text_input(_("Password again"), type="password", key="setup_again")
        if st.form_submit_button(_("Create administrator"), type="primary"):
            if password != again:
                st.error(_("The passwords differ."))
            else:
                try:
                    admin = create_first_admin(store, name.strip(), password, token=token.strip())
                    common.sign_in(admin)
                except (ValueError, InputError, AuthenticationError) as err:
                    st.error(common.md(err))
                else:
                    st.rerun()
else:
    with st.form("login"):
        name = st.text_input(_("User name"), key="login_name")
        password = st.text_input(_("Password"), type="password", key="login_password")
        if st.form_submit_button(_("Sign in"), type="primary"):
            try:
                common.sign_in(authenticate(store, name.strip(), password, client=common.client()))
            except AuthenticationError as err:
                st.error(common.md(err))
            else:
                st.rerun()
