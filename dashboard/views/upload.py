"""Upload (analysts): detect, map columns, check parties, validate, commit, and undo.

Nothing is stored until "Commit". Every row read ends up accepted, rejected (kept, with
its reason, and downloadable) or duplicate, and the summary says how many of each.
"""

from __future__ import annotations

import os

import pandas as pd
import streamlit as st

from dashboard import common
from geo import DateOrderError, NotFoundError, PermissionDeniedError, ReaderError, StoreError
from geo.core.names import printable
from geo.io import readers
from geo.io.writers import csv_bytes
from geo.services.ingest import delete_batch, ingest_file
from geo.services.settings import save_mapping, saved_mappings

MAX_UPLOAD_MB = float(os.environ.get("TRUCELINE_MAX_UPLOAD_MB", "200"))
PREVIEW_ROWS = 20
DETECT = "Detect from the file"
ORDERS = {
    "Decide from the file's dates": None,
    "Day first: 09/05/2014 is 9 May": True,
    "Month first: 09/05/2014 is 5 September": False,
}
ORDER_OF = {value: label for label, value in ORDERS.items()}

st.title("Upload incidents")
user = common.require_page("upload")
store = common.store()
scen = common.loaded_scenario("No scenario is loaded yet: load one before uploading incidents.")
common.flash()
saved = saved_mappings(store)

# 1. The file -----------------------------------------------------------------------------------
st.subheader("1. File")
st.caption(
    "The house template, an ACLED export, a UCDP GED export (with or without header), or any CSV "
    "through a column mapping. See docs/incident-formats.md."
)
upload = st.file_uploader("Incident CSV", type=["csv", "txt", "tsv"], key="u_file")
if upload is None:
    st.session_state.pop("u_summary", None)
else:
    data = upload.getvalue()
    if len(data) > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(
            f"{common.md(upload.name)}: {len(data) / 1e6:.1f} MB is over the {MAX_UPLOAD_MB:g} MB upload "
            "limit (`TRUCELINE_MAX_UPLOAD_MB`)."
        )
        st.stop()

    # 2. Detection and mapping -----------------------------------------------------------------
    st.subheader("2. Format")
    mapping = None
    choice = st.selectbox(
        "Column mapping", ["Detect from the header", "New mapping…", *saved], key="u_mapping"
    )
    chosen = saved.get(choice, {})
    if st.session_state.get("u_order_loaded") != choice:
        # Another saved mapping: its day/month order, if it has one.
        st.session_state["u_order"] = ORDER_OF.get(chosen.get("dayfirst"), ORDER_OF[None])
        st.session_state["u_order_loaded"] = choice
    o1, o2 = st.columns(2)
    picked_encoding = o1.selectbox(
        "Encoding",
        [DETECT, *readers.ENCODINGS],
        key="u_encoding",
        help="Detected from the file's text; choose one if the preview's text reads wrong.",
    )
    order = o2.selectbox(
        "Day/month order",
        list(ORDERS),
        key="u_order",
        help="How dates like 09/05/2014 are read. Decided from the file's other dates when they tell.",
    )
    encoding = None if picked_encoding == DETECT else picked_encoding
    dayfirst = ORDERS[order]

    def refuse_dates(err: DateOrderError) -> None:
        st.error(common.md(err))
        st.info("Choose the day/month order above.")
        st.stop()

    try:
        detected = readers.detect(data, name=upload.name, encoding=encoding, dayfirst=dayfirst)
        layout_ok = True
    except DateOrderError as err:
        refuse_dates(err)
    except ReaderError as err:
        detected, layout_ok = None, False
        if choice == "Detect from the header":
            st.warning(common.md(err))
            st.info("Map the file's columns below.")
    if choice != "Detect from the header" or not layout_ok:
        try:
            header = (
                detected.columns
                if detected is not None
                else readers.header(data, name=upload.name, encoding=encoding)
            )
        except ReaderError as err:
            st.error(common.md(err))
            st.stop()
        base = chosen.get("columns", {})
        loaded = (choice, tuple(header))
        if st.session_state.get("u_mapping_loaded") != loaded:
            # A new file or another saved mapping: fill every field in from it.
            for target in readers.mapped.FIELDS:
                pre = base.get(target, target if target in header else "—")
                st.session_state[f"u_m_{target}"] = pre if pre in header else "—"
            st.session_state["u_datefmt"] = chosen.get("date_format") or ""
            st.session_state["u_source"] = chosen.get("source") or upload.name.rsplit(".", 1)[0]
            st.session_state["u_mapping_loaded"] = loaded
        st.caption("For each Truceline field, the file's column that holds it (leave unmapped to skip).")
        cols = st.columns(3)
        columns: dict[str, str] = {}
        for i, target in enumerate(readers.mapped.FIELDS):
            picked = cols[i % 3].selectbox(
                target + (" *" if target in readers.mapped.REQUIRED else ""),
                ["—", *header],
                key=f"u_m_{target}",
            )
            if picked != "—":
                columns[target] = picked
        c1, c3 = st.columns(2)
        date_format = c1.text_input("Date format (strptime, optional)", key="u_datefmt") or None
        source_default = c3.text_input("Source name", key="u_source")
        mapping = readers.ColumnMapping(
            columns=columns,
            date_format=date_format,
            dayfirst=dayfirst,
            source=source_default or None,
            origin="dashboard mapping",
        )
        m1, m2 = st.columns([2, 1])
        mapping_name = m1.text_input("Save this mapping as", key="u_map_name")
        if m2.button("Save mapping", disabled=not mapping_name.strip(), key="u_map_save"):
            save_mapping(
                store,
                mapping_name.strip(),
                {
                    "columns": columns,
                    "date_format": date_format,
                    "dayfirst": dayfirst,
                    "source": source_default,
                },
                actor=user,
            )
            st.success(f"Mapping {common.md(mapping_name.strip())} saved.")
        missing = [f for f in readers.mapped.REQUIRED if f not in columns]
        if missing:
            st.info(f"Map at least {', '.join(missing)} to go on.")
            st.stop()
        try:
            detected = readers.detect(
                data, mapping=mapping, name=upload.name, encoding=encoding, dayfirst=dayfirst
            )
        except DateOrderError as err:
            refuse_dates(err)
        except ReaderError as err:
            st.error(common.md(err))
            st.stop()
    if detected is None:
        st.stop()
    st.markdown(
        f"**Format** {detected.format} ({detected.layout or 'standard'}) · **encoding** "
        f"{detected.encoding} · **delimiter** {detected.delimiter!r} · "
        f"**header** {'yes' if detected.has_header else 'no'}"
    )
    if detected.dates:
        st.caption(f"Dates read {common.md(detected.dates)}")
    for warning in detected.warnings:
        st.warning(common.md(warning))

    # 3. Dry run: preview, parties, validation ------------------------------------------------------
    try:
        frame, rejected, warnings, rows = common.dry_run(
            data,
            upload.name,
            detected.format,
            mapping,
            scen,
            repr(mapping),
            common.store().generation(),
            encoding=detected.encoding,
            dayfirst=detected.dayfirst,
        )
    except DateOrderError as err:
        refuse_dates(err)
    except ReaderError as err:
        st.error(common.md(err))
        st.stop()
    if rows == 0:
        st.error(f"{common.md(upload.name)}: the file holds no rows (a header at most): nothing to store.")
        st.stop()
    st.subheader("3. Preview")
    st.dataframe(frame.head(PREVIEW_ROWS), hide_index=True, width="stretch")

    st.subheader("4. Parties")
    actors = frame.groupby(["actor", "party"], dropna=False).size().rename("rows").reset_index()
    names = {p.id: p.name for p in scen.parties}
    actors["maps to"] = actors["party"].map(names).fillna("— (side of the line will be inferred)")
    st.dataframe(actors.sort_values("rows", ascending=False).head(200), hide_index=True, width="stretch")
    unmapped = actors[actors["party"].fillna("") == ""]
    if len(unmapped):
        st.caption(
            f"{len(unmapped)} actor name(s) map to no party; edit the scenario's party mapping to fix "
            "that. Their party will be inferred from the side of the line, and shown as inferred."
        )

    st.subheader("5. Validation")
    v1, v2, v3 = st.columns(3)
    v1.metric("Rows read", f"{rows:,}")
    v2.metric("Valid", f"{len(frame):,}")
    v3.metric("Rejected", f"{len(rejected):,}")
    if len(rejected):
        st.dataframe(rejected.head(500), hide_index=True, width="stretch")
        st.download_button(
            "Download rejected rows (CSV)",
            csv_bytes(rejected),
            f"{upload.name.rsplit('.', 1)[0]}-rejected.csv",
            "text/csv",
            key="u_rej_pre",
        )
    if warnings:
        with st.expander(f"{len(warnings):,} warning(s)"):
            st.text("\n".join(printable(w) for w in warnings[:1000]))

    # 6. Commit ---------------------------------------------------------------------------------------
    st.subheader("6. Commit")
    if frame.empty:
        st.warning(
            "No row of this file is valid, so there is nothing to store. Fix the rows listed above "
            "(or the column mapping) and upload the file again."
        )
    if st.button(f"Commit {common.md(upload.name)}", type="primary", key="u_commit", disabled=frame.empty):
        bar = st.progress(0.0, text="Uploading…")

        def progress(done: int, _total: int | None, stage: str) -> None:
            bar.progress(min(done / max(rows, 1), 1.0), text=f"{stage}: {done:,} of {rows:,} rows")

        try:
            summary = ingest_file(
                store,
                data,
                file_name=upload.name,
                format=detected.format,
                mapping=mapping,
                actor=user,
                progress=progress,
                encoding=detected.encoding,
                dayfirst=detected.dayfirst,
            )
        except (ReaderError, StoreError, PermissionDeniedError) as err:
            bar.empty()
            st.error(f"Nothing was stored: {common.md(err)}")
        else:
            bar.progress(1.0, text="Done")
            st.session_state["u_summary"] = (upload.file_id, summary)
            common.invalidate()
    done = st.session_state.get("u_summary")
    summary = (
        done[1] if done is not None and done[0] == upload.file_id else None
    )  # this file's, not another's
    if summary is not None:
        st.success(
            f"Batch {summary.batch_id}: {summary.accepted:,} accepted, {summary.rejected:,} rejected, "
            f"{summary.duplicate:,} duplicates of {summary.rows_read:,} rows; "
            f"{summary.new_breaches:,} new breaches. Read as {summary.encoding}."
        )
        s1, s2, s3, s4 = st.columns(4)
        s1.metric("Accepted", f"{summary.accepted:,}")
        s2.metric("Rejected", f"{summary.rejected:,}")
        s3.metric("Duplicates", f"{summary.duplicate:,}")
        s4.metric("New breaches", f"{summary.new_breaches:,}")
        if summary.near_duplicates:
            st.info(
                f"{summary.near_duplicates} incident(s) flagged as possible duplicates of another source's."
            )

# History -------------------------------------------------------------------------------------------
st.subheader("Upload history")
history = pd.DataFrame([b.__dict__ for b in store.batches()])
if history.empty:
    st.caption("No uploads yet.")
else:
    st.dataframe(
        history[
            [
                "batch_id",
                "status",
                "started_at",
                "user_name",
                "file_name",
                "format",
                "rows_read",
                "accepted",
                "rejected",
                "duplicate",
                "new_breaches",
            ]
        ],
        hide_index=True,
        width="stretch",
    )
    live = history[history["status"] == "committed"]
    mine = live if user.can("undo_any_batch") else live[live["user_name"] == user.name]
    c1, c2, c3 = st.columns([2, 1, 1])
    pick = (
        c1.selectbox(
            "Batch",
            mine["batch_id"].tolist(),
            format_func=lambda b: f"{b}: " + str(history.set_index("batch_id").loc[b, "file_name"]),
            key="u_batch",
        )
        if len(mine)
        else None
    )
    if pick is not None:
        rej = store.rejected_rows(int(pick))
        c2.download_button(
            "Rejected rows",
            csv_bytes(rej),
            f"batch-{pick}-rejected.csv",
            "text/csv",
            disabled=rej.empty,
            key="u_rej_hist",
        )
        if c3.button("Undo this upload", key="u_undo"):
            try:
                removed = delete_batch(store, int(pick), actor=user)
            except (PermissionDeniedError, NotFoundError, StoreError) as err:
                st.error(common.md(err))
            else:
                common.invalidate()
                done = st.session_state.get("u_summary")
                if done is not None and done[1].batch_id == int(pick):
                    st.session_state.pop("u_summary")
                common.flash(f"Batch {pick} undone: {removed:,} incidents removed.")
                st.rerun()
