"""One incident's full story, its possible duplicates, and its verification (analysts can change it)."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import common, frames, upload_spool
from geo import InputError, NotFoundError, PermissionDeniedError, StoreError
from geo.core.categories import vocabulary
from geo.core.duplicates import CROSS_SOURCE, DIFFERENT_EVENTS, SAME_EVENT, UNREVIEWED, count_events
from geo.core.grading import (
    CREDIBILITY,
    CREDIBILITY_NAMES,
    RELIABILITY,
    RELIABILITY_NAMES,
    UNCONFIRMED,
    grade_text,
)
from geo.core.model import VERIFICATION_STATUSES
from geo.core.names import printable
from geo.i18n import N_, _, ngettext, number, when
from geo.labels import category as category_label
from geo.labels import precision, severity, status, verdict_noted
from geo.render.webmap import surroundings_map
from geo.services.evidence import IMAGE_TYPES, add_evidence, list_evidence, record_download, shareable_copy
from geo.services.ingest import set_grading, set_verification
from geo.services.surroundings import incident_place

RADII_KM = [2, 5, 10, 25, 50]
SPANS = {
    1: N_("Within a day of it"),
    3: N_("Within 3 days of it"),
    7: N_("Within a week of it"),
    30: N_("Within 30 days of it"),
    0: N_("At any time"),
}

st.title(_("Incident"))
user = common.require_page("view")
store = common.store()
scen = common.loaded_scenario()
common.flash()

# The id comes from the link that opened the page (?id=…) or from the box; they stay in step.
linked = common.incident_id_param(0)
box, _rest = st.columns([1, 3])
if "i_id" not in st.session_state or (linked and linked != st.session_state.get("i_linked")):
    st.session_state["i_id"] = linked or max(store.max_incident_id(), 1)
st.session_state["i_linked"] = linked
incident_id = int(box.number_input(_("Incident id"), min_value=1, step=1, key="i_id"))
if str(incident_id) != st.query_params.get("id"):
    st.query_params["id"] = str(incident_id)
    st.session_state["i_linked"] = incident_id
try:
    row = store.incident(incident_id)
except NotFoundError:
    st.warning(_("No incident {incident_id}.").format(incident_id=incident_id))
    st.stop()

rules = {r.id: r for r in scen.rules}
zones = {z.id: z.name for z in scen.zones}
parties = {p.id: p.name for p in scen.parties}
verdict = verdict_noted(row["verdict"], row["verdict_note"])
st.subheader(
    _("{verdict}: {category}").format(verdict=verdict, category=common.md(category_label(row["category"])))
)
left, right = st.columns(2)
with left:
    st.markdown(
        _("**When** {time} ({precision})").format(
            time=when(row["occurred_at"], style="iso"), precision=common.md(precision(row["date_precision"]))
        )
    )
    if row["occurred_from"] != row["occurred_to"]:
        st.markdown(
            _("**Window** {start} to {end}").format(
                start=when(row["occurred_from"], style="iso"), end=when(row["occurred_to"], style="iso")
            )
        )
    radius = common.number(row["location_uncertainty_m"])
    where_text = _("**Where** {lat}, {lon} · {place} · precision {precision}").format(
        lat=number(row["lat"], decimals=5),
        lon=number(row["lon"], decimals=5),
        place=common.md(common.text(row["location_name"])),
        precision=common.md(precision(row["location_precision"])),
    )
    if radius:
        where_text += " " + _("(±{radius} m)").format(radius=number(radius, decimals=0))
    st.markdown(where_text)
    attributed = parties.get(common.text(row["attributed_party"], ""), _("unattributed"))
    basis = {
        "reported": _("reported by the source"),
        "inferred_from_side": _("INFERRED from the side of the line"),
        "unattributed": _("no party"),
    }.get(row["attribution"], row["attribution"])
    st.markdown(
        _("**Party** {party} ({basis}) · reported actor: {actor}").format(
            party=common.md(attributed), basis=common.md(basis), actor=common.md(common.text(row["actor"]))
        )
    )
    distance = common.number(row["distance_m"])
    if distance is not None:
        lines = {ln.id: ln.name for ln in scen.lines}
        line = common.text(row["nearest_line"])
        side = common.text(row["side"], "")
        holder = parties.get(common.text(row["side_party"], ""))
        sides = {"left": _("on its left side"), "right": _("on its right side"), "on_line": _("on the line")}
        held = holder and side != "on_line"
        line_text = (
            _("**Line** {line}: {distance} m {where}, held by {party} (signed distance {signed} m)")
            if held
            else _("**Line** {line}: {distance} m {where} (signed distance {signed} m)")
        )
        st.markdown(
            line_text.format(
                line=common.md(lines.get(line, line)),
                distance=number(abs(distance), decimals=0),
                where=sides.get(side, common.md(side)),
                party=common.md(holder),
                signed=("+" if distance > 0 else "") + number(distance, decimals=0),
            )
        )
    in_zones = [zones.get(z, z) for z in common.text(row["zones"], "").split(";") if z]
    st.markdown(_("**Zones** {zones}").format(zones=common.md(", ".join(in_zones) or _("none"))))
with right:
    st.markdown(
        _("**Source** {source} · event {event} · batch {batch}").format(
            source=common.md(common.text(row["source"])),
            event=common.md(common.text(row["source_event_id"])),
            batch=row["batch_id"],
        )
    )
    st.markdown(_("**Verification** {status}").format(status=common.md(status(str(row["verification"])))))
    graded = grade_text(row["source_reliability"], row["info_credibility"])
    names = [
        n
        for n in (
            _(RELIABILITY_NAMES.get(str(row["source_reliability"]), "")),
            _(CREDIBILITY_NAMES.get(str(row["info_credibility"]), "")),
        )
        if n
    ]
    st.markdown(
        _("**Source grade** {grade}").format(
            grade=common.md(f"{graded} ({'; '.join(names)})") if graded else _("ungraded")
        )
    )
    if common.text(row["verdict_note"], "") == UNCONFIRMED:
        st.warning(
            _(
                "Breach (unconfirmed source): every report of this event is graded E/F (source unreliable or "
                "not judged) or 5/6 (information improbable or not judged). The verdict stands on the place, "
                "time and rules; the reports behind it cannot carry it alone."
            ),
            icon=":material/help:",
        )
    fatalities = common.number(row["fatalities"])
    st.markdown(
        _("**Fatalities** {value}").format(
            value="—" if fatalities is None else number(fatalities, decimals=0)
        )
    )
    reason = common.text(row["verdict_reason"], "")
    if reason:
        st.markdown(_("**Why not a definite breach** {reason}").format(reason=common.md(reason)))
st.markdown(_("**Description**"))
st.text(printable(common.text(row["description"]), keep_newlines=True))
for rule_id in [r for r in common.text(row["rules"], "").split(";") if r]:
    rule = rules.get(rule_id)
    if rule:
        st.info(
            _("Rule **{rule}** ({severity}) in {zone}: {text}").format(
                rule=common.md(rule.id),
                severity=severity(rule.severity),
                zone=common.md(zones.get(rule.zone, rule.zone)),
                text=common.md(rule.text),
            )
        )

st.subheader(_("Where it happened"))
c1, c2, _rest = st.columns([1, 1, 2])
radius_km = c1.selectbox(
    _("Other incidents within"),
    RADII_KM,
    index=RADII_KM.index(10),
    format_func=lambda km: _("{km} km").format(km=number(km)),
    key="i_radius",
)
days = c2.selectbox(_("Of its time"), list(SPANS), index=2, format_func=lambda d: _(SPANS[d]), key="i_days")
try:
    place = incident_place(store, incident_id, actor=user, radius_m=radius_km * 1000.0, days=days or None)
except (PermissionDeniedError, InputError, StoreError) as err:
    st.error(common.md(err))
else:
    st_folium(
        surroundings_map(place, scen),
        key="incident_map",
        height=440,
        use_container_width=True,
        returned_objects=[],
    )
    shown = len(place.others)
    near = [zones.get(z.id, z.id) for z in place.zones]
    st.caption(
        common.md(
            ngettext(
                "The incident is ringed in black; its location uncertainty is the shaded disk (±{radius} m), "
                "the nearest line is drawn with the distance to it; {count} other incident within {km} km "
                "({when}); zones that reach that far: {zones}.",
                "The incident is ringed in black; its location uncertainty is the shaded disk (±{radius} m), "
                "the nearest line is drawn with the distance to it; {count} other incidents within {km} km "
                "({when}); zones that reach that far: {zones}.",
                shown,
            ).format(
                radius=number(place.uncertainty_m, decimals=0),
                count=number(shown),
                km=number(radius_km),
                when=_(SPANS[days]).lower(),
                zones=", ".join(near) or _("none"),
            )
        )
    )
    if shown:
        labels = vocabulary().labels
        nearest = place.others.head(10)
        st.dataframe(
            pd.DataFrame(
                {
                    _("Incident"): nearest["incident_id"].astype("int64"),
                    _("Time (UTC)"): [
                        when(t, style="iso").removesuffix(" UTC")
                        for t in pd.to_datetime(nearest["occurred_at"], utc=True)
                    ],
                    _("Distance"): [
                        _("{km} km").format(km=number(d / 1000, decimals=1))
                        for d in nearest["distance_from_m"]
                    ],
                    _("Category"): [category_label(str(c)) for c in nearest["category"]],
                    _("Verdict"): [
                        verdict_noted(str(v), n)
                        for v, n in zip(
                            nearest["verdict"],
                            nearest.get("verdict_note", pd.Series("", index=nearest.index)),
                            strict=True,
                        )
                    ],
                }
            ),
            hide_index=True,
            width="stretch",
        )

linked = store.linked(incident_id)
if len(linked):
    st.subheader(_("Possible duplicates"))
    group = store.group_of(incident_id)
    if len(group) > 1:
        others = ", ".join(str(i) for i in group["incident_id"] if i != incident_id)
        events = count_events(group)
        st.caption(
            ngettext(
                "Where pages count incidents, this report and incident(s) {others} count as {events} "
                "incident: linked reports of one event count once.",
                "Where pages count incidents, this report and incident(s) {others} count as {events} "
                "incidents: linked reports of one event count once.",
                events,
            ).format(others=others, events=number(events))
        )
    labels = vocabulary().labels
    for link in linked.itertuples():
        if link.kind == CROSS_SOURCE:
            distance, gap = common.number(link.distance_m), common.number(link.gap_s)
            how = _("another source's report")
            if distance is not None:
                how += _(", {distance} m away").format(distance=number(distance, decimals=0))
            if gap is not None:
                how += (
                    _(", times overlap")
                    if gap == 0
                    else _(", {minutes} min apart").format(minutes=number(gap / 60, decimals=0))
                )
        else:
            how = _("the same source and content under another event id (a separate event unless confirmed)")
        by = common.text(link.reviewed_by, _("someone"))
        on = (
            " " + _("on {date}").format(date=when(pd.Timestamp(link.reviewed_at).date()))
            if not pd.isna(link.reviewed_at)
            else ""
        )
        review = {
            UNREVIEWED: _("not reviewed"),
            SAME_EVENT: _("confirmed the same event by {who}").format(who=by) + on,
            DIFFERENT_EVENTS: _("found to be different events by {who}").format(who=by) + on,
        }.get(link.status, str(link.status))
        category = category_label(str(link.category))
        st.page_link(
            "views/incident.py",
            label=(
                _("Incident {id} · {source} event {event} · {time} · {category} · {how} · {review}").format(
                    id=link.other_id,
                    source=common.md(link.source),
                    event=common.md(link.source_event_id),
                    time=when(link.occurred_at, style="iso"),
                    category=common.md(category),
                    how=common.md(how),
                    review=common.md(review),
                )
            ),
            icon=":material/content_copy:",
            query_params={"id": str(link.other_id)},
        )
    if user.can("verify"):
        st.page_link(
            "views/review.py",
            label=_("Review possible duplicates: decide same event or different events"),
            icon=":material/rule:",
        )

st.subheader(_("Evidence"))
try:
    files = list_evidence(store, incident_id, actor=user, audit=False)
except PermissionDeniedError:
    files = None
    st.caption(_("Evidence is shown to analysts and admins; viewers see it only where the store allows it."))
if files is not None:
    seen = st.session_state.setdefault("i_evidence_seen", set())
    if incident_id not in seen and len(files):
        list_evidence(store, incident_id, actor=user)  # the first view of this incident's evidence: audited
        seen.add(incident_id)
    if not len(files):
        st.caption(_("No evidence attached."))
    for item in files.itertuples():
        left_col, right_col = st.columns([1, 3])
        try:
            data, kind = shareable_copy(store, item.sha256, actor=user, audit=False)
        except StoreError as err:
            right_col.error(common.md(err))
            continue
        if kind in IMAGE_TYPES:
            left_col.image(data, width=160)
        right_col.markdown(
            _("**{name}** · {kind} · {size} bytes · {added}").format(
                name=common.md(item.file_name),
                kind=common.md(kind),
                size=number(int(item.size)),
                added=common.md(
                    _("added by {who} on {when}").format(
                        who=item.added_by, when=when(item.added_at, style="iso")
                    )
                ),
            )
        )
        right_col.caption(common.md(f"SHA-256 {item.sha256}" + (f" · {item.note}" if item.note else "")))
        if item.flags:
            right_col.warning(
                common.md(_("Check this file: {flags}").format(flags=item.flags)), icon=":material/flag:"
            )
        right_col.download_button(
            _("Download (EXIF removed)"),
            data,
            file_name=item.file_name,
            mime=kind,
            key=f"i_ev_get_{incident_id}_{item.sha256}",
            on_click=record_download,
            args=(store, item.sha256),
            kwargs={"actor": user},
        )
    if user.can("verify"):
        with st.form(f"evidence_{incident_id}", clear_on_submit=True):
            upload = st.file_uploader(
                _("Attach a file (image, video, PDF or text)"), key=f"i_ev_file_{incident_id}"
            )
            ev_note = st.text_input(_("What it shows"), key=f"i_ev_note_{incident_id}", max_chars=500)
            if st.form_submit_button(_("Attach")) and upload is not None:
                try:
                    data, name = upload_spool.contents(upload), upload.name
                    done = add_evidence(store, incident_id, data, file_name=name, actor=user, note=ev_note)
                except (PermissionDeniedError, InputError, NotFoundError, StoreError) as err:
                    st.error(common.md(err))
                else:
                    message = _("Attached {name} (SHA-256 {sha}).").format(
                        name=upload.name, sha=done.sha256[:16]
                    )
                    if done.flags:
                        message += " " + _("Flagged: {flags}").format(flags="; ".join(done.flags))
                    common.flash(message)
                    st.rerun()

st.subheader(_("Verification"))
if user.can("verify"):
    with st.form(f"verify_{incident_id}"):
        current = str(row["verification"])
        picked = st.selectbox(
            _("Status"),
            VERIFICATION_STATUSES,
            format_func=status,
            index=VERIFICATION_STATUSES.index(current) if current in VERIFICATION_STATUSES else 0,
            key=f"i_status_{incident_id}",
        )
        note = st.text_input(_("Note (why)"), key=f"i_note_{incident_id}", max_chars=500)
        if st.form_submit_button(_("Save")):
            try:
                set_verification(store, incident_id, picked, actor=user, note=note)
            except (PermissionDeniedError, ValueError, InputError, NotFoundError, StoreError) as err:
                st.error(common.md(err))
            else:
                common.invalidate()
                common.flash(
                    _("Verification of incident {id} set to {status}.").format(
                        id=incident_id, status=status(picked)
                    )
                )
                st.rerun()
else:
    st.caption(_("Changing the verification status needs an analyst or admin account."))
st.subheader(_("Source grade"))
if user.can("verify"):
    with st.form(f"grade_{incident_id}"):
        g1, g2 = st.columns(2)
        reliability_now = str(row["source_reliability"])
        credibility_now = str(row["info_credibility"])
        reliability = g1.selectbox(
            _("Source reliability"),
            ["", *RELIABILITY],
            index=["", *RELIABILITY].index(reliability_now) if reliability_now in RELIABILITY else 0,
            format_func=lambda g: f"{g}: {_(RELIABILITY_NAMES[g])}" if g else _("ungraded"),
            key=f"i_reliability_{incident_id}",
        )
        credibility = g2.selectbox(
            _("Information credibility"),
            ["", *CREDIBILITY],
            index=["", *CREDIBILITY].index(credibility_now) if credibility_now in CREDIBILITY else 0,
            format_func=lambda g: f"{g}: {_(CREDIBILITY_NAMES[g])}" if g else _("ungraded"),
            key=f"i_credibility_{incident_id}",
        )
        grade_note = st.text_input(_("Note (why)"), key=f"i_grade_note_{incident_id}", max_chars=500)
        if st.form_submit_button(_("Save grade")):
            try:
                set_grading(
                    store, incident_id, reliability or "", credibility or "", actor=user, note=grade_note
                )
            except (PermissionDeniedError, InputError, NotFoundError, StoreError) as err:
                st.error(common.md(err))
            else:
                common.invalidate()
                shown = grade_text(reliability, credibility) or _("ungraded")
                common.flash(_("Grade of incident {id} set to {grade}.").format(id=incident_id, grade=shown))
                st.rerun()
else:
    st.caption(_("Grading a report needs an analyst or admin account."))

history = store.verification_history(incident_id)
if history.empty:
    st.caption(_("No verification changes yet."))
else:
    st.dataframe(frames.headed(history), hide_index=True, width="stretch")
