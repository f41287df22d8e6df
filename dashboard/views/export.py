"""Export (briefing officers): the view as PNG, PDF briefing, standalone HTML, data, or an animation."""

from __future__ import annotations

import streamlit as st

from dashboard import common, filter_panel
from geo import NotFoundError, PermissionDeniedError, StoreError, clock
from geo.i18n import N_, _, number
from geo.services.evidence import images_of
from geo.services.exports import ANIMATION_TYPES, MEDIA_TYPES, export_animation, export_view, file_name

st.title(_("Export"))
user = common.require_page("export")
store = common.store()
scen = common.loaded_scenario()
snap = common.snapshot()
filters = filter_panel.sidebar_filters(scen, snap, page="export")
view = filter_panel.apply(filters, snap)
matching = len(view)
summary = filter_panel.describe(filters, scen)
st.caption(f"{common.how_many(view, 'in this view')} · {summary} · {common.data_as_of(snap)}")

KINDS = {
    "pdf": N_("PDF briefing (map, KPIs, trend, spike alerts, breach table)"),
    "png": N_("Map snapshot (PNG)"),
    "html": N_("Interactive map, one offline HTML file"),
    "csv": N_("Incidents with classification (CSV, safe to open in a spreadsheet)"),
    "geojson": N_("Incidents (GeoJSON)"),
    "gpkg": N_("Incidents, lines and zones (GeoPackage)"),
    "gif": N_("Animation over time (GIF), one map per day or week"),
    "mp4": N_("Animation over time (MP4 video), one map per day or week"),
}
animated = (
    st.radio(_("What"), list(KINDS), format_func=lambda k: _(KINDS[k]), key="e_kind") in ANIMATION_TYPES
)
kind = st.session_state["e_kind"]
c1, c2, c3 = st.columns(3)
size = c1.selectbox(
    _("Page"),
    ["a4", "16:9"],
    format_func={"a4": _("A4 landscape"), "16:9": _("16:9 slide")}.get,
    key="e_size",
    disabled=kind not in ("png", "pdf", *ANIMATION_TYPES),
)
if animated:
    dpi = c2.select_slider(_("Resolution (dpi)"), [100, 120, 150], value=120, key="e_anim_dpi")
else:
    dpi = c2.select_slider(
        _("Resolution (dpi)"),
        [150, 200, 250, 300],
        value=200,
        key="e_dpi",
        disabled=kind not in ("png", "pdf"),
    )
title = c3.text_input(_("Title"), value="", placeholder=scen.name, key="e_title") or None
if animated:
    a1, a2, a3, a4 = st.columns(4)
    step = a1.selectbox(
        _("One frame per"),
        ["week", "day"],
        format_func={"week": _("week"), "day": _("day")}.get,
        key="e_step",
    )
    window = a2.selectbox(
        _("Each frame shows"),
        [0, 7, 30, 90],
        format_func=lambda d: (
            _("its own step") if d == 0 else _("the {days} days to its end").format(days=number(d))
        ),
        key="e_window",
    )
    cumulative = a3.toggle(_("Cumulative (everything since the first frame)"), key="e_cumulative")
    seconds = a4.select_slider(_("Seconds per frame"), [0.5, 1.0, 1.5, 2.0, 3.0], value=1.0, key="e_seconds")
    st.caption(
        _(
            "Frames step through the time window chosen in the sidebar, a day or a week at a time (with "
            '"All time", from the first incident). Each frame is the map image of its days, with its '
            "dates, the legend, the scale bar and, for synthetic data, the banner."
        )
    )

view_key = repr(sorted(st.session_state.get("f_synced", {}).items()))
chosen: list[str] = []
if kind == "pdf" and "incident_id" in view:
    listed = st.session_state.get("e_evidence")
    if listed is None or listed[0] != view_key:  # listed (and audited) once per view
        try:
            found = images_of(store, view["incident_id"].tolist(), actor=user)
        except PermissionDeniedError:
            found = None  # this account may not see evidence here: nothing to choose
        st.session_state["e_evidence"] = listed = (view_key, found)
    found = listed[1]
    if found is not None and len(found):
        labels = {
            row.sha256: _("{name} · incident {incident} · SHA-256 {short}…").format(
                name=row.file_name, incident=row.incident_id, short=row.sha256[:12]
            )
            for row in found.drop_duplicates("sha256").itertuples()
        }
        chosen = st.multiselect(
            _("Evidence images to print (each with its SHA-256, without EXIF)"),
            list(labels),
            format_func=labels.get,
            key="e_evidence_pick",
            placeholder=_(common.CHOOSE),
        )
    elif found is not None:
        st.caption(_("No evidence images are attached to the incidents of this view."))
view_key += repr(chosen)
if animated:  # a file made with other frames is not this one either
    view_key += repr((step, window, cumulative))
if st.button(_("Prepare the file"), type="primary", key="e_go"):
    as_of = clock.now()
    st.session_state.pop("e_file", None)
    with st.status(
        _("Preparing {kind} of {count} incidents…").format(kind=kind.upper(), count=number(matching)),
        expanded=animated,
    ) as status:
        try:
            if animated:
                bar = st.progress(0.0, text=_("Drawing the frames…"))

                def progress(done: int, total: int) -> None:
                    text = _("Frame {done} of {total} drawn").format(done=number(done), total=number(total))
                    bar.progress(done / total, text=text)

                result = export_animation(
                    store,
                    kind,
                    filters,
                    actor=user,
                    as_of=as_of,
                    step=step,
                    window_days=window or None,
                    cumulative=cumulative,
                    size=size,
                    dpi=int(dpi),
                    title=title,
                    seconds=float(seconds),
                    progress=progress,
                )
            else:
                result = export_view(
                    store,
                    kind,
                    filters,
                    actor=user,
                    as_of=as_of,
                    size=size,
                    dpi=int(dpi),
                    title=title,
                    evidence=chosen,
                )
        except (PermissionDeniedError, StoreError, ValueError, NotFoundError) as err:
            status.update(label=_("Failed: {error}").format(error=common.md(err)), state="error")
        else:
            data = result.data
            st.session_state["e_file"] = (kind, file_name(kind, filters, as_of), data, view_key)
            status.update(
                label=_("Ready: {size} MB").format(size=number(len(data) / 1e6, decimals=2)), state="complete"
            )
ready = st.session_state.get("e_file")
if ready is not None and ready[3] != view_key:
    st.session_state.pop("e_file")  # prepared for another view: never hand out a file for the wrong filters
    ready = None
if ready is not None:
    kind_ready, name, data, _key = ready
    media = {**MEDIA_TYPES, **ANIMATION_TYPES}[kind_ready]
    st.download_button(_("Download {name}").format(name=name), data, name, media, type="primary", key="e_dl")
    if kind_ready in ("png", "gif"):
        st.image(data, caption=name)
    elif kind_ready == "mp4":
        st.video(data, format="video/mp4")
