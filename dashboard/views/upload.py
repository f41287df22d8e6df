"""Upload (analysts): detect, map columns, check parties, validate, commit, and undo.

The file is checked and committed by a worker process (geo.services.upload_jobs), never
parsed in the server, with its progress and a Cancel button here. Nothing is stored
until "Commit". Every row read ends up accepted, rejected (kept, with
its reason, and downloadable) or duplicate, and the summary says how many of each.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import common, frames, upload_spool
from geo import InputError, NotFoundError, PermissionDeniedError, ReaderError, StoreError
from geo.core.names import printable
from geo.i18n import N_, _, number
from geo.io import readers
from geo.io.writers import csv_bytes
from geo.labels import batch_status
from geo.services.ingest import delete_batch, stage_words
from geo.services.settings import save_mapping, saved_mappings
from geo.services.upload_jobs import (
    CheckResult,
    JobStatus,
    UploadJob,
    save_upload,
    start_check,
    start_commit,
)

MAX_UPLOAD_MB = common.max_upload_mb()
POLL_S = 0.8  # at most this long between two views of a running upload job's progress
DETECT = N_("Detect from the file")
ORDERS = {
    N_("Decide from the file's dates"): None,
    N_("Day first: 09/05/2014 is 9 May"): True,
    N_("Month first: 09/05/2014 is 5 September"): False,
}
FROM_HEADER, NEW_MAPPING = N_("Detect from the header"), N_("New mapping…")
ORDER_OF = {value: label for label, value in ORDERS.items()}

st.title(_("Upload incidents"))
user = common.require_page("upload")
store = common.store()
scen = common.loaded_scenario(_("No scenario is loaded yet: load one before uploading incidents."))
flashed = st.session_state.get("flash")
common.flash()
saved = saved_mappings(store)

# 1. The file -----------------------------------------------------------------------------------
st.subheader(_("1. File"))
st.caption(
    _(
        "The house template, an ACLED export, a UCDP GED export (with or without header), or any CSV "
        "through a column mapping. See docs/incident-formats.md."
    )
)
upload = st.file_uploader(
    _("Incident CSV"), type=["csv", "txt", "tsv"], key="u_file", max_upload_size=max(1, int(MAX_UPLOAD_MB))
)


def drop_jobs(*keys: str) -> None:
    """Stop and remove the named jobs of this session (a new file, a new mapping, or none)."""
    for key in keys:
        job = st.session_state.pop(key, None)
        if job is not None:
            job[1].close()


def saved_file(spooled: upload_spool.Spooled | None) -> Path:
    """The upload in a private folder for the worker (never parsed here): spooled there, or copied."""
    saved = st.session_state.get("u_saved")
    if saved is None or saved[0] != upload.file_id:
        drop_jobs("u_check", "u_commit_job")
        if saved is not None:
            shutil.rmtree(saved[1].parent, ignore_errors=True)
        if spooled is not None:
            path = spooled.path
        else:
            upload.seek(0)
            path = save_upload(upload, upload.name)
        st.session_state["u_saved"] = (upload.file_id, path)
        st.session_state.pop("u_needs_mapping", None)
    return st.session_state["u_saved"][1]


def follow(job: UploadJob, label: str, rows: int | None, key: str) -> JobStatus:
    """Show a running job's progress with a Cancel button, and rerun until it ends."""
    status = job.status()
    if status.state != "running":
        return status
    done = (
        _("{done} of {rows} rows").format(done=number(status.done), rows=number(rows))
        if rows
        else _("{done} rows").format(done=number(status.done))
    )
    fraction = min(status.done / rows, 1.0) if rows else 0.0
    stage = common.md(stage_words(status.stage or "starting"))
    st.progress(fraction, text=f"{common.md(label)}: {stage}, {done}")
    if not status.cancellable:  # every row is written: the commit ends whatever is pressed
        st.caption(
            _("Every row is written and the upload is being committed: it can no longer be cancelled.")
        )
    elif st.button(_("Cancel"), key=f"{key}_cancel"):
        job.cancel()
        return job.status()
    job.wait(POLL_S)  # a quick job's result shows as soon as it ends
    if flashed:
        common.flash(flashed)  # still shown while the job runs
    st.rerun()
    return status  # not reached: st.rerun ends this run


if upload is None:
    st.session_state.pop("u_summary", None)
    drop_jobs("u_check", "u_commit_job")
    gone = st.session_state.pop("u_saved", None)
    if gone is not None:
        shutil.rmtree(gone[1].parent, ignore_errors=True)
else:
    spooled = upload_spool.saved(upload)  # the server kept the file on disk (a browser upload)
    size = upload.size if spooled is None else spooled.size
    if size > MAX_UPLOAD_MB * 1024 * 1024:
        st.error(
            _("{name}: {size} MB is over the {limit} MB upload limit (`TRUCELINE_MAX_UPLOAD_MB`).").format(
                name=common.md(upload.name),
                size=number(size / 1e6, decimals=1),
                limit=f"{MAX_UPLOAD_MB:g}",
            )
        )
        st.stop()
    path = saved_file(spooled)

    # 2. Detection and mapping -----------------------------------------------------------------
    st.subheader(_("2. Format"))
    mapping = None
    choice = st.selectbox(
        _("Column mapping"),
        [FROM_HEADER, NEW_MAPPING, *saved],
        format_func=lambda m: _(m) if m in (FROM_HEADER, NEW_MAPPING) else m,
        key="u_mapping",
    )
    chosen = saved.get(choice, {})
    if st.session_state.get("u_order_loaded") != choice:
        # Another saved mapping: its day/month order, if it has one.
        st.session_state["u_order"] = ORDER_OF.get(chosen.get("dayfirst"), ORDER_OF[None])
        st.session_state["u_order_loaded"] = choice
    o1, o2 = st.columns(2)
    picked_encoding = o1.selectbox(
        _("Encoding"),
        [DETECT, *readers.ENCODINGS],
        format_func=lambda e: _(e) if e == DETECT else e,
        key="u_encoding",
        help=_("Detected from the file's text; choose one if the preview's text reads wrong."),
    )
    order = o2.selectbox(
        _("Day/month order"),
        list(ORDERS),
        format_func=_,
        key="u_order",
        help=_("How dates like 09/05/2014 are read. Decided from the file's other dates when they tell."),
    )
    encoding = None if picked_encoding == DETECT else picked_encoding
    dayfirst = ORDERS[order]
    needs_mapping = st.session_state.get("u_needs_mapping")
    if needs_mapping is not None and choice == FROM_HEADER:
        st.warning(common.md(needs_mapping))
        st.info(_("Map the file's columns below."))
    if choice != FROM_HEADER or needs_mapping is not None:
        try:
            header = readers.header(path, name=upload.name, encoding=encoding)  # the first record only
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
        st.caption(_("For each Truceline field, the file's column that holds it (leave unmapped to skip)."))
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
        date_format = c1.text_input(_("Date format (strptime, optional)"), key="u_datefmt") or None
        source_default = c3.text_input(_("Source name"), key="u_source")
        mapping = readers.ColumnMapping(
            columns=columns,
            date_format=date_format,
            dayfirst=dayfirst,
            source=source_default or None,
            origin="dashboard mapping",
        )
        m1, m2 = st.columns([2, 1])
        mapping_name = m1.text_input(_("Save this mapping as"), key="u_map_name")
        if m2.button(_("Save mapping"), disabled=not mapping_name.strip(), key="u_map_save"):
            try:
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
            except InputError as err:
                st.error(common.md(err))
            else:
                st.success(_("Mapping {md} saved.").format(md=common.md(mapping_name.strip())))
        missing = [f for f in readers.mapped.REQUIRED if f not in columns]
        if missing:
            st.info(_("Map at least {join} to go on.").format(join=", ".join(missing)))
            st.stop()

    # 3. Dry run in the worker: preview, parties, validation ------------------------------------------
    fmt = "mapped" if mapping is not None else "auto"
    key = (upload.file_id, repr(mapping), encoding, dayfirst, store.meta("scenario"))
    committing = st.session_state.get("u_commit_job")
    if committing is not None and committing[0] != key[:4]:
        drop_jobs("u_commit_job")
        committing = None
    if committing is not None and committing[1].status().state == "running":
        # While the worker commits, this page only shows its progress: the server stays idle.
        st.subheader(_("6. Commit"))
        follow(committing[1], _("Uploading"), committing[2], "u_commit")
    check = st.session_state.get("u_check")
    if check is None or check[0] != key:
        drop_jobs("u_check")
        job = start_check(
            path,
            name=upload.name,
            store_url=store.dsn,
            actor=user,
            format=fmt,
            mapping=mapping,
            encoding=encoding,
            dayfirst=dayfirst,
        )
        check = st.session_state["u_check"] = (key, job)
    job = check[1]
    status = follow(job, _("Checking the file"), None, "u_check")
    if status.state == "cancelled":
        st.info(
            _("{md}: check cancelled. Change an option above to check it again.").format(
                md=common.md(upload.name)
            )
        )
        st.stop()
    if status.state == "failed":
        if status.kind == "layout" and mapping is None:
            st.session_state["u_needs_mapping"] = status.message
            st.rerun()
        st.error(common.md(status.message))
        if status.kind == "date_order":
            st.info(_("Choose the day/month order above."))
        st.stop()
    result: CheckResult = status.result
    st.markdown(
        _(
            "**Format** {format} ({layout}) · **encoding** {encoding} · "
            "**delimiter** {delimiter} · **header** {header}"
        ).format(
            format=result.format,
            layout="standard" if result.layout == result.format else result.layout,
            encoding=result.encoding,
            delimiter=repr(result.delimiter),
            header=_("yes") if result.has_header else _("no"),
        )
    )
    if result.dates:
        st.caption(_("Dates read {md}").format(md=common.md(result.dates)))
    for warning in result.detect_warnings:
        st.warning(common.md(warning))
    if result.rows_read == 0:
        st.error(
            _("{md}: the file holds no rows (a header at most): nothing to store.").format(
                md=common.md(upload.name)
            )
        )
        st.stop()
    st.subheader(_("3. Preview"))
    st.dataframe(frames.headed(result.preview), hide_index=True, width="stretch")

    st.subheader(_("4. Parties"))
    actors = result.actors.copy()
    names = {p.id: p.name for p in scen.parties}
    actors["maps to"] = actors["party"].map(names).fillna(_("— (side of the line will be inferred)"))
    st.dataframe(
        frames.headed(
            actors.sort_values("rows", ascending=False).head(200),
            {"actor": N_("Actor"), "party": N_("Party"), "rows": N_("Rows"), "maps to": N_("Maps to")},
        ),
        hide_index=True,
        width="stretch",
    )
    unmapped = actors[actors["party"].fillna("") == ""]
    if len(unmapped):
        st.caption(
            _(
                "{count} actor name(s) map to no party; edit the scenario's party mapping to fix that. "
                "Their party will be inferred from the side of the line, and shown as inferred."
            ).format(count=number(len(unmapped)))
        )

    st.subheader(_("5. Validation"))
    v1, v2, v3 = st.columns(3)
    v1.metric(_("Rows read"), number(result.rows_read))
    v2.metric(_("Valid"), number(result.valid))
    v3.metric(_("Rejected"), number(result.rejected))
    rejected_csv = job.rejected_csv()
    if result.rejected and rejected_csv is not None:
        st.dataframe(frames.headed(result.rejected_rows), hide_index=True, width="stretch")
        st.download_button(
            _("Download rejected rows (CSV)"),
            rejected_csv.read_bytes(),
            f"{upload.name.rsplit('.', 1)[0]}-rejected.csv",
            "text/csv",
            key="u_rej_pre",
        )
    if result.warnings:
        with st.expander(_("{warning_count:,} warning(s)").format(warning_count=result.warning_count)):
            st.text("\n".join(printable(w) for w in result.warnings))

    # 6. Commit, in the worker ------------------------------------------------------------------------
    st.subheader(_("6. Commit"))
    if result.valid == 0:
        st.warning(
            _(
                "No row of this file is valid, so there is nothing to store. Fix the rows listed above "
                "(or the column mapping) and upload the file again."
            )
        )
    if committing is None and st.button(
        _("Commit {md}").format(md=common.md(upload.name)),
        type="primary",
        key="u_commit",
        disabled=result.valid == 0,
    ):
        st.session_state["u_commit_job"] = (
            key[:4],
            start_commit(
                path,
                name=upload.name,
                store_url=store.dsn,
                actor=user,
                format=result.format,
                mapping=mapping,
                encoding=result.encoding,
                dayfirst=result.dayfirst,
            ),
            result.rows_read,
        )
        st.rerun()
    if committing is not None:
        status = committing[1].status()
        drop_jobs("u_commit_job")
        if status.state == "cancelled":
            st.info(_("{md}: upload cancelled; nothing was stored.").format(md=common.md(upload.name)))
        elif status.state == "failed":
            st.error(_("Nothing was stored: {md}").format(md=common.md(status.message)))
        else:
            st.session_state["u_summary"] = (upload.file_id, status.result)
            common.invalidate()
    done = st.session_state.get("u_summary")
    summary = (
        done[1] if done is not None and done[0] == upload.file_id else None
    )  # this file's, not another's
    if summary is not None:
        st.success(
            _(
                "Batch {batch}: {accepted} accepted, {rejected} rejected, "
                "{duplicate} duplicates of {rows} rows; {breaches} new breaches. Read as {encoding}."
            ).format(
                batch=summary.batch_id,
                accepted=number(summary.accepted),
                rejected=number(summary.rejected),
                duplicate=number(summary.duplicate),
                rows=number(summary.rows_read),
                breaches=number(summary.new_breaches),
                encoding=summary.encoding,
            )
        )
        s1, s2, s3, s4 = st.columns(4)
        s1.metric(_("Accepted"), number(summary.accepted))
        s2.metric(_("Rejected"), number(summary.rejected))
        s3.metric(_("Duplicates"), number(summary.duplicate))
        s4.metric(_("New breaches"), number(summary.new_breaches))
        if summary.near_duplicates:
            st.info(
                _("{count} incident(s) flagged as possible duplicates of another source's.").format(
                    count=number(summary.near_duplicates)
                )
            )

# History -------------------------------------------------------------------------------------------
st.subheader(_("Upload history"))
history = pd.DataFrame([b.__dict__ for b in store.batches()])
if history.empty:
    st.caption(_("No uploads yet."))
else:
    shown = history.assign(status=history["status"].map(batch_status))
    st.dataframe(
        frames.headed(
            shown[
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
            {
                "batch_id": N_("Batch"),
                "status": N_("Status"),
                "started_at": N_("Started"),
                "file_name": N_("File"),
                "format": N_("Format"),
                "rows_read": N_("Rows read"),
                "accepted": N_("Accepted"),
                "rejected": N_("Rejected"),
                "duplicate": N_("Duplicates"),
                "new_breaches": N_("New breaches"),
            },
        ),
        hide_index=True,
        width="stretch",
    )
    live = history[history["status"] == "committed"]
    mine = live if user.can("undo_any_batch") else live[live["user_name"] == user.name]
    c1, c2, c3 = st.columns([2, 1, 1])
    pick = (
        c1.selectbox(
            _("Batch"),
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
            _("Rejected rows"),
            csv_bytes(rej),
            f"batch-{pick}-rejected.csv",
            "text/csv",
            disabled=rej.empty,
            key="u_rej_hist",
        )
        if c3.button(_("Undo this upload"), key="u_undo"):
            try:
                removed = delete_batch(store, int(pick), actor=user)
            except (PermissionDeniedError, NotFoundError, StoreError) as err:
                st.error(common.md(err))
            else:
                common.invalidate()
                done = st.session_state.get("u_summary")
                if done is not None and done[1].batch_id == int(pick):
                    st.session_state.pop("u_summary")
                common.flash(
                    _("Batch {batch} undone: {count} incidents removed.").format(
                        batch=pick, count=number(removed)
                    )
                )
                st.rerun()
