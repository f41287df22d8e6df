"""Review of possible duplicates: pairs of linked reports side by side, confirmed or rejected, undoable."""

from __future__ import annotations

import pandas as pd
import streamlit as st
from streamlit_folium import st_folium

from dashboard import common
from geo import InputError, NotFoundError, PermissionDeniedError, StoreError
from geo.core.categories import vocabulary
from geo.core.duplicates import CROSS_SOURCE, LOOKALIKE
from geo.core.grading import grade_text, verdict_text
from geo.i18n import _
from geo.render.palette import VERDICT_LABELS
from geo.render.webmap import pair_map
from geo.services.review import REVIEW_STATUSES, decide, pair_history, review_queue, status_name, undo

PER_PAGE = 20
STATUS_LABELS = {
    "pending": _("Pending"),
    "confirmed": _("Confirmed: same event"),
    "rejected": _("Rejected: different events"),
}
KIND_LABELS = {
    "": _("All kinds"),
    CROSS_SOURCE: _("Two sources"),
    LOOKALIKE: _("One source, identical content"),
}
ERRORS = (PermissionDeniedError, InputError, NotFoundError, StoreError)

st.title(_("Review"))
user = common.require_page("verify")
store = common.store()
scen = common.loaded_scenario()
common.flash()
st.caption(
    _(
        "Pairs of reports that may be one event: another source's report of it, or one source's "
        "identical report under another id. Decide whether each pair is the same event. Nothing is "
        "deleted: a confirmed pair counts once wherever incidents are counted, a rejected one twice; "
        "every decision is audited and can be undone."
    )
)
st.caption(common.md(common.how_many(common.snapshot().frame, "stored")))

last = st.session_state.get("review_last")
if last:
    a, b, what = last
    c1, c2 = st.columns([3, 1])
    c1.info(_("Last decision: incidents {a} and {b}, {what}.").format(a=a, b=b, what=what))
    if c2.button(_("Undo"), key="review_undo_last"):
        try:
            restored = undo(store, a, b, actor=user)
        except ERRORS as err:
            st.error(common.md(err))
        else:
            st.session_state.pop("review_last", None)
            common.flash(
                _("Undone: incidents {a} and {b} are {status} again.").format(a=a, b=b, status=restored)
            )
            st.rerun()

# The queue's status and page live in the URL, so a reviewer can share where they are.
status_param = st.query_params.get("status", "pending")
if "r_status" not in st.session_state:
    st.session_state["r_status"] = status_param if status_param in REVIEW_STATUSES else "pending"
c1, c2, c3 = st.columns([2, 2, 1])
kind = c2.selectbox(_("Kind"), list(KIND_LABELS), format_func=lambda k: KIND_LABELS[k], key="r_kind")
try:
    counts = review_queue(store, actor=user, status="pending", kind=kind or None, per_page=1).counts
except ERRORS as err:
    st.error(common.md(err))
    st.stop()
status = c1.selectbox(
    _("Status"),
    list(REVIEW_STATUSES),
    format_func=lambda s: f"{STATUS_LABELS[s]} ({counts.get(s, 0):,})",
    key="r_status",
)
if st.query_params.get("status") != status:
    st.query_params["status"] = status
try:
    wanted = max(1, int(st.query_params.get("page", "1")))
except ValueError:
    wanted = 1
found = review_queue(store, actor=user, status=status, kind=kind or None, page=wanted, per_page=PER_PAGE)
page = int(
    c3.number_input(
        _("Page"), min_value=1, max_value=found.pages, value=found.page, step=1, key=f"r_page_{status}"
    )
)
if page != found.page:
    found = review_queue(store, actor=user, status=status, kind=kind or None, page=page, per_page=PER_PAGE)
if st.query_params.get("page") != str(found.page):
    st.query_params["page"] = str(found.page)

if not found.total:
    st.info(_("No {status} pairs.").format(status=STATUS_LABELS[status].lower()))
    st.stop()

pairs = found.pairs
labels = vocabulary().labels
st.caption(
    _("{total} pairs, page {page} of {pages}, newest first.").format(
        total=f"{found.total:,}", page=found.page, pages=found.pages
    )
)


def _gap(seconds: object) -> str:
    value = common.number(seconds)
    if value is None:
        return "—"
    return _("times overlap") if value == 0 else _("{minutes} min").format(minutes=f"{value / 60:,.0f}")


def _pair_name(i: int) -> str:
    row = pairs.iloc[i]
    return (
        f"{row['earlier_incident_id']} ~ {row['later_incident_id']} · {row['earlier_source']} / "
        f"{row['later_source']} · {common.number(row['distance_m']) or 0:,.0f} m"
    )


st.dataframe(
    pd.DataFrame(
        {
            _("A"): pairs["earlier_incident_id"].astype("int64"),
            _("B"): pairs["later_incident_id"].astype("int64"),
            _("Sources"): pairs["earlier_source"].astype(str) + " / " + pairs["later_source"].astype(str),
            _("Time of A (UTC)"): pd.to_datetime(pairs["earlier_occurred_at"], utc=True).dt.strftime(
                "%Y-%m-%d %H:%M"
            ),
            _("Distance"): [f"{common.number(d) or 0:,.0f} m" for d in pairs["distance_m"]],
            _("Gap"): [_gap(g) for g in pairs["gap_s"]],
            _("Kind"): [KIND_LABELS.get(str(k), str(k)) for k in pairs["kind"]],
        }
    ),
    hide_index=True,
    width="stretch",
)

chosen = st.selectbox(
    _("Pair"), range(len(pairs)), format_func=_pair_name, key=f"r_pair_{status}_{found.page}"
)
pair = pairs.iloc[int(chosen or 0)]
earlier = pair.filter(like="earlier_").rename(lambda c: c.removeprefix("earlier_"))
later = pair.filter(like="later_").rename(lambda c: c.removeprefix("later_"))
a, b = int(earlier["incident_id"]), int(later["incident_id"])

st.subheader(_("Incidents {a} and {b}").format(a=a, b=b))
how = KIND_LABELS.get(str(pair["kind"]), str(pair["kind"]))
review = STATUS_LABELS[status_name(str(pair["status"]))]
if common.text(pair["reviewed_by"], ""):
    review += _(" by {who}").format(who=pair["reviewed_by"])
    if not pd.isna(pair["reviewed_at"]):
        review += f" ({pd.Timestamp(pair['reviewed_at']):%Y-%m-%d %H:%M} UTC)"
st.markdown(
    common.md(
        _("{how} · {distance} m apart · gap {gap} · {review}").format(
            how=how,
            distance=f"{common.number(pair['distance_m']) or 0:,.0f}",
            gap=_gap(pair["gap_s"]),
            review=review,
        )
    )
)
if common.text(pair["note"], ""):
    st.caption(common.md(_("Note: {note}").format(note=pair["note"])))

for column, report, label in zip(st.columns(2), (earlier, later), ("A", "B"), strict=True):
    with column:
        st.markdown(
            f"**{label}: " + common.md(_("incident {id}").format(id=int(report["incident_id"]))) + "**"
        )
        radius = common.number(report["location_uncertainty_m"])
        fatalities = common.number(report["fatalities"])
        facts = [
            (_("Source"), f"{common.text(report['source'])} · {common.text(report['source_event_id'])}"),
            (_("Time"), f"{pd.Timestamp(report['occurred_at']):%Y-%m-%d %H:%M} UTC"),
            (
                _("Place"),
                f"{float(report['lat']):.5f}, {float(report['lon']):.5f} · "
                f"{common.text(report['location_name'])} · {common.text(report['location_precision'])}"
                + (f" (±{radius:,.0f} m)" if radius else ""),
            ),
            (_("Category"), labels.get(str(report["category"]), str(report["category"]))),
            (_("Actor"), common.text(report["actor"])),
            (_("Fatalities"), "—" if fatalities is None else f"{fatalities:,.0f}"),
            (
                _("Verdict"),
                verdict_text(
                    VERDICT_LABELS.get(str(report["verdict"]), str(report["verdict"])),
                    report["verdict_note"],
                ),
            ),
            (_("Verification"), common.text(report["verification"])),
            (
                _("Source grade"),
                grade_text(report["source_reliability"], report["info_credibility"]) or _("ungraded"),
            ),
        ]
        st.markdown("  \n".join(f"**{common.md(k)}** {common.md(v)}" for k, v in facts))
        st.text(common.text(report["description"]))
        st.page_link(
            "views/incident.py",
            label=_("Open incident {id}").format(id=int(report["incident_id"])),
            icon=":material/search:",
            query_params={"id": str(int(report["incident_id"]))},
        )

st_folium(
    pair_map(earlier, later, scen),
    key=f"review_map_{a}_{b}",
    height=360,
    use_container_width=True,
    returned_objects=[],
)

note = st.text_input(_("Note (why)"), key=f"r_note_{a}_{b}", max_chars=500)
current = status_name(str(pair["status"]))
b1, b2, b3, _rest = st.columns([1, 1, 1, 3])
choice = None
if b1.button(_("Same event"), key="r_same", type="primary", disabled=current == "confirmed"):
    choice = "same"
if b2.button(_("Different events"), key="r_different", disabled=current == "rejected"):
    choice = "different"
if choice is not None:
    try:
        decide(store, a, b, choice, actor=user, note=note)
    except ERRORS as err:
        st.error(common.md(err))
    else:
        what = _("the same event") if choice == "same" else _("different events")
        st.session_state["review_last"] = (a, b, what)
        common.flash(_("Incidents {a} and {b}: {what}.").format(a=a, b=b, what=what))
        st.rerun()
history = pair_history(store, a, b, actor=user)
if b3.button(_("Undo"), key="r_undo", disabled=history.empty):
    try:
        restored = undo(store, a, b, actor=user)
    except ERRORS as err:
        st.error(common.md(err))
    else:
        st.session_state.pop("review_last", None)
        common.flash(_("Undone: incidents {a} and {b} are {status} again.").format(a=a, b=b, status=restored))
        st.rerun()
if not history.empty:
    with st.expander(_("History of this pair")):
        st.dataframe(history, hide_index=True, width="stretch")
