"""Export (briefing officers): the current view as PNG, PDF briefing, standalone HTML, or data."""

from __future__ import annotations

import streamlit as st

from dashboard import common
from geo import PermissionDeniedError, StoreError, clock
from geo.services.exports import MEDIA_TYPES, export_view, file_name

st.title("Export")
user = common.require_page("export")
store = common.store()
scen = common.loaded_scenario()
snap = common.snapshot()
filters = common.sidebar_filters(scen, snap, page="export")
view = common.apply(filters, snap)
matching = len(view)
st.caption(
    f"{common.how_many(view, 'in this view')} · {common.describe(filters)} · {common.data_as_of(snap)}"
)

KINDS = {
    "pdf": "PDF briefing (map, KPIs, trend, spike alerts, breach table)",
    "png": "Map snapshot (PNG)",
    "html": "Interactive map, one offline HTML file",
    "csv": "Incidents with classification (CSV, safe to open in a spreadsheet)",
    "geojson": "Incidents (GeoJSON)",
    "gpkg": "Incidents, lines and zones (GeoPackage)",
}
kind = st.radio("What", list(KINDS), format_func=KINDS.get, key="e_kind")
c1, c2, c3 = st.columns(3)
size = c1.selectbox(
    "Page",
    ["a4", "16:9"],
    format_func={"a4": "A4 landscape", "16:9": "16:9 slide"}.get,
    key="e_size",
    disabled=kind not in ("png", "pdf"),
)
dpi = c2.select_slider(
    "Resolution (dpi)", [150, 200, 250, 300], value=200, key="e_dpi", disabled=kind not in ("png", "pdf")
)
title = c3.text_input("Title", value="", placeholder=scen.name, key="e_title") or None

view_key = repr(sorted(st.session_state.get("f_synced", {}).items()))
if st.button("Prepare the file", type="primary", key="e_go"):
    as_of = clock.now()
    st.session_state.pop("e_file", None)
    with st.status(f"Preparing {kind.upper()} of {matching:,} incidents…", expanded=False) as status:
        try:
            result = export_view(
                store, kind, filters, actor=user, as_of=as_of, size=size, dpi=int(dpi), title=title
            )
        except (PermissionDeniedError, StoreError, ValueError) as err:
            status.update(label=f"Failed: {common.md(err)}", state="error")
        else:
            data = result.data
            st.session_state["e_file"] = (kind, file_name(kind, filters, as_of), data, view_key)
            status.update(label=f"Ready: {len(data) / 1e6:.2f} MB", state="complete")
ready = st.session_state.get("e_file")
if ready is not None and ready[3] != view_key:
    st.session_state.pop("e_file")  # prepared for another view: never hand out a file for the wrong filters
    ready = None
if ready is not None:
    kind_ready, name, data, _ = ready
    st.download_button(f"Download {name}", data, name, MEDIA_TYPES[kind_ready], type="primary", key="e_dl")
    if kind_ready == "png":
        st.image(data, caption=name)
