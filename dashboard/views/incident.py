"""One incident's full story, and its verification status (analysts can change it)."""

from __future__ import annotations

import streamlit as st

from dashboard import common
from geo._errors import NotFoundError, PermissionDeniedError
from geo.categories import vocabulary
from geo.ingest import set_verification
from geo.model import VERIFICATION_STATUSES

st.title("Incident")
scen = common.scenario()
store = common.store()
user = common.principal()
if scen is None or user is None:
    st.info("No scenario is loaded yet.")
    st.stop()
common.synthetic_banner(scen)

default = int(st.query_params.get("id", store.max_incident_id() or 1))
incident_id = st.number_input("Incident id", min_value=1, value=max(default, 1), step=1, key="i_id")
if str(incident_id) != st.query_params.get("id"):
    st.query_params["id"] = str(incident_id)
try:
    row = store.incident(int(incident_id))
except NotFoundError:
    st.warning(f"No incident {incident_id}.")
    st.stop()

rules = {r.id: r for r in scen.rules}
zones = {z.id: z.name for z in scen.zones}
parties = {p.id: p.name for p in scen.parties}
verdict = common.VERDICT_LABELS.get(row["verdict"], row["verdict"])
st.subheader(f"{verdict}: {common.md(vocabulary().labels.get(row['category'], row['category']))}")
left, right = st.columns(2)
with left:
    st.markdown(f"**When** {row['occurred_at']:%Y-%m-%d %H:%M} UTC ({row['date_precision']})")
    if row["occurred_from"] != row["occurred_to"]:
        st.markdown(
            f"**Window** {row['occurred_from']:%Y-%m-%d %H:%M} to {row['occurred_to']:%Y-%m-%d %H:%M} UTC"
        )
    st.markdown(
        f"**Where** {row['lat']:.5f}, {row['lon']:.5f} · {common.md(row['location_name'] or '—')} · "
        "precision "
        f"{row['location_precision']}"
        + (
            f" (±{row['location_uncertainty_m']:.0f} m)"
            if row["location_uncertainty_m"] == row["location_uncertainty_m"]
            and row["location_uncertainty_m"]
            else ""
        )
    )
    attributed = parties.get(row["attributed_party"], "unattributed")
    basis = {
        "reported": "reported by the source",
        "inferred_from_side": "INFERRED from the side of the line",
        "unattributed": "no party",
    }.get(row["attribution"], row["attribution"])
    st.markdown(
        f"**Party** {common.md(attributed)} ({basis}) · reported actor: {common.md(row['actor'] or '—')}"
    )
    if row["distance_m"] == row["distance_m"]:
        st.markdown(
            f"**Line** {common.md(row['nearest_line'])}: {abs(row['distance_m']):,.0f} m "
            f"on the {row['side']} "
            f"side (signed {row['distance_m']:+,.0f} m)"
        )
    in_zones = [zones.get(z, z) for z in str(row["zones"]).split(";") if z]
    st.markdown(f"**Zones** {common.md(', '.join(in_zones) or 'none')}")
with right:
    st.markdown(
        f"**Source** {common.md(row['source'])} · event {common.md(row['source_event_id'])} · "
        f"batch {row['batch_id']}"
    )
    st.markdown(f"**Verification** {row['verification']}")
    st.markdown(f"**Fatalities** {row['fatalities'] if row['fatalities'] == row['fatalities'] else '—'}")
    if row["near_duplicate_of"] == row["near_duplicate_of"] and row["near_duplicate_of"] is not None:
        st.markdown(f"**Possible duplicate of** incident {int(row['near_duplicate_of'])} (another source)")
    if row["verdict_reason"]:
        st.markdown(f"**Why not a definite breach** {common.md(row['verdict_reason'])}")
st.markdown("**Description**")
st.text(row["description"] or "—")
for rule_id in [r for r in str(row["rules"]).split(";") if r]:
    rule = rules.get(rule_id)
    if rule:
        st.info(
            f"Rule **{common.md(rule.id)}** ({rule.severity}) in "
            f"{common.md(zones.get(rule.zone, rule.zone))}: "
            f"{common.md(rule.text)}"
        )

st.subheader("Verification")
if user.can("verify"):
    with st.form("verify"):
        status = st.selectbox(
            "Status", VERIFICATION_STATUSES, index=VERIFICATION_STATUSES.index(row["verification"])
        )
        note = st.text_input("Note (why)")
        if st.form_submit_button("Save"):
            try:
                set_verification(store, int(incident_id), status, actor=user, note=note)
            except (PermissionDeniedError, ValueError) as err:
                st.error(str(err))
            else:
                st.success(f"Verification set to {status}.")
                st.rerun()
history = store.verification_history(int(incident_id))
if history.empty:
    st.caption("No verification changes yet.")
else:
    st.dataframe(history, hide_index=True, use_container_width=True)
