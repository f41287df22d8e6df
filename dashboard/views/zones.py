"""Zones & rules (admins): view the scenario, add lines and zones, derive buffers, edit rules.

Every save reclassifies all incidents in one transaction and says how many verdicts changed.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import common, upload_spool
from geo import ManifestError, PermissionDeniedError, StoreError
from geo.core.categories import vocabulary
from geo.core.model import SEVERITIES, ZONE_KINDS, Rule, Scenario
from geo.i18n import _, number
from geo.labels import category, severity, zone_kind
from geo.services.ingest import load_scenario_into_store, stage_words
from geo.services.scenarios import (
    add_drawn_zone,
    add_line,
    derive_zone,
    remove_rule,
    remove_zone,
    upsert_rule,
    write_manifest,
)

# Agreements and their lines go back decades (Korea, 1953): no date picker stops ten years ago.
DATES = {"min_value": date(1900, 1, 1), "max_value": date(2100, 12, 31)}

st.title(_("Zones & rules"))
user = common.require_page("edit_scenario")
store = common.store()
scen = common.loaded_scenario(
    _("No scenario is loaded. Load one from the command line: `python -m geo scenario load PATH`."),
    as_written=True,  # edited and saved as the manifest writes it, not as translated
)


def save(new: Scenario, what: str) -> None:
    """Store the edited scenario and reclassify, with a progress bar."""
    bar = st.progress(0.0, text=_("Reclassifying incidents…"))

    def progress(done: int, total: int | None, stage: str) -> None:
        bar.progress(
            min(done / max(total or 1, 1), 1.0),
            text=_("{stage}: {done} of {total}").format(
                stage=stage_words(stage), done=number(done), total=number(total or 0)
            ),
        )

    try:
        result = load_scenario_into_store(
            store, new, manifest="edited in the dashboard", actor=user, progress=progress
        )
    except (ManifestError, PermissionDeniedError, StoreError) as err:
        bar.empty()
        st.error(_("Nothing was saved: {md}").format(md=common.md(err)))
        return
    bar.empty()
    common.invalidate()
    common.flash(
        _("{what}: saved. {total} incidents reclassified, {changed} verdicts changed.").format(
            what=common.md(what), total=number(result.total), changed=number(result.changed)
        )
    )
    st.rerun()


# A validity without a start or an end: in force since, or until, whenever (no English "None").
OPEN = "—"


def headers() -> dict[str, str]:
    """The tables' column headings in the page's language."""
    return {
        "id": _("Id"),
        "name": _("Name"),
        "colour": _("Colour"),
        "left": _("Left"),
        "right": _("Right"),
        "valid_from": _("Valid from"),
        "valid_to": _("Valid to"),
        "agreement": _("Agreement"),
        "kind": _("Kind"),
        "shape": _("Shape"),
        "zone": _("Zone"),
        "prohibits": _("Prohibits"),
        "parties": _("Parties"),
        "severity": _("Severity"),
        "text": _("Text"),
    }


def _side(side: str | None) -> str:
    return {"left": _("left"), "right": _("right"), "both": _("both sides")}.get(str(side), str(side))


def show_errors(err: ManifestError) -> None:
    for line in err.problems:
        st.error(common.md(line))


common.flash()
st.markdown(f"**{common.md(scen.name)}**")
st.caption(common.md(scen.description))
parties = pd.DataFrame([{"id": p.id, "name": p.name, "colour": p.colour} for p in scen.parties])
lines = pd.DataFrame(
    [
        {
            "id": ln.id,
            "name": ln.name,
            "left": ln.left_party,
            "right": ln.right_party,
            "valid_from": ln.valid_from or OPEN,
            "valid_to": ln.valid_to or OPEN,
            "agreement": ln.agreement,
        }
        for ln in scen.lines
    ]
)
zones = pd.DataFrame(
    [
        {
            "id": z.id,
            "name": z.name,
            "kind": zone_kind(z.kind),
            "shape": (
                _("{width} m {side} of {line}").format(
                    width=number(z.width_m or 0), side=_side(z.side), line=z.line
                )
                if z.derived
                else _("drawn ({source})").format(source=z.source)
            ),
            "valid_from": z.valid_from or OPEN,
            "valid_to": z.valid_to or OPEN,
        }
        for z in scen.zones
    ]
)
rules = pd.DataFrame(
    [
        {
            "id": r.id,
            "zone": r.zone,
            "prohibits": ", ".join(category(c) for c in r.prohibits),
            "parties": ", ".join(r.parties),
            "severity": severity(r.severity),
            "text": r.text,
        }
        for r in scen.rules
    ]
)
tabs = st.tabs([_("Scenario"), _("Add a zone"), _("Derive a buffer zone"), _("Add a line"), _("Rules")])
with tabs[0]:
    st.subheader(_("Parties"))
    st.dataframe(parties.rename(columns=headers()), hide_index=True, width="stretch")
    st.subheader(_("Lines"))
    st.dataframe(lines.rename(columns=headers()), hide_index=True, width="stretch")
    st.subheader(_("Zones"))
    st.dataframe(zones.rename(columns=headers()), hide_index=True, width="stretch")
    if scen.repairs:
        repaired = "\n".join(f"- {common.md(r)}" for r in scen.repairs)
        st.warning(_("Geometries repaired on load:") + "\n\n" + repaired)
    with tempfile.TemporaryDirectory() as folder:
        write_manifest(scen, Path(folder))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for file in sorted(Path(folder).iterdir()):
                archive.write(file, file.name)
    st.download_button(
        _("Download this scenario as a manifest (zip)"),
        buffer.getvalue(),
        "scenario.zip",
        "application/zip",
        key="z_manifest",
    )
    remove = st.selectbox(
        _("Remove a zone (and its rules)"), ["—", *[z.id for z in scen.zones]], key="z_remove"
    )
    if remove != "—" and st.button(
        _("Remove zone {md}").format(md=common.md(remove)), type="secondary", key="z_remove_go"
    ):
        save(remove_zone(scen, remove), _("zone {id} removed").format(id=remove))

with tabs[1], st.form("drawn_zone"):
    upload = st.file_uploader(
        _("Zone geometry (GeoJSON, GeoPackage, zipped Shapefile, KML/KMZ)"),
        type=["geojson", "json", "gpkg", "zip", "kml", "kmz"],
        key="dz_file",
        max_upload_size=max(1, int(common.max_upload_mb())),
    )
    c1, c2, c3 = st.columns(3)
    zone_id = c1.text_input(_("Id"), key="dz_id")
    name = c2.text_input(_("Name"), key="dz_name")
    kind = c3.selectbox(_("Kind"), ZONE_KINDS, format_func=zone_kind, key="dz_kind")
    d1, d2, d3 = st.columns(3)
    valid_from = d1.date_input(_("In force from"), value=None, key="dz_from", **DATES)
    valid_to = d2.date_input(_("In force until (last day)"), value=None, key="dz_to", **DATES)
    repair = d3.checkbox(_("Repair invalid geometry (make_valid) and report it"), key="dz_repair")
    if st.form_submit_button(_("Add zone and reclassify"), type="primary"):
        if upload is None:
            st.error(_("Choose a geometry file."))
        else:
            try:
                new = add_drawn_zone(
                    scen,
                    zone_id=zone_id.strip(),
                    name=name,
                    kind=kind,
                    data=upload_spool.contents(upload),
                    file_name=upload.name,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    repair=repair,
                )
            except ManifestError as err:
                show_errors(err)
            else:
                save(new, _("zone {id}").format(id=zone_id))

with tabs[2]:
    st.caption(
        _(
            "A derived zone holds every point within its width of the line (round ends), on the side named. "
            "Sides are relative to the line's direction. It is in force while its line is: dates given here "
            "can narrow that, not widen it."
        )
    )
    if not scen.lines:
        st.info(_("This scenario has no line yet: add one first (tab “Add a line”)."))
    with st.form("derived_zone"):
        c1, c2, c3 = st.columns(3)
        zone_id = c1.text_input(_("Id"), key="bz_id")
        name = c2.text_input(_("Name"), key="bz_name")
        kind = c3.selectbox(_("Kind"), ZONE_KINDS, format_func=zone_kind, key="bz_kind")
        c4, c5, c6 = st.columns(3)
        line = c4.selectbox(_("Line"), [ln.id for ln in scen.lines], key="bz_line")
        width_km = c5.number_input(
            _("Width (km) on each side named"), min_value=0.0, value=5.0, step=0.5, key="bz_width"
        )
        side_names = {"both": _("Both sides")}
        if line:
            for s in ("left", "right"):
                holder = getattr(scen.line(line), f"{s}_party") or _("no party")
                worded = _("Left side ({party})") if s == "left" else _("Right side ({party})")
                side_names[s] = worded.format(party=holder)
        side = c6.selectbox(_("Side"), list(side_names), format_func=side_names.get, key="bz_side")
        d1, d2 = st.columns(2)
        valid_from = d1.date_input(_("In force from"), value=None, key="bz_from", **DATES)
        valid_to = d2.date_input(_("In force until (last day)"), value=None, key="bz_to", **DATES)
        if st.form_submit_button(_("Derive zone and reclassify"), type="primary"):
            try:
                new = derive_zone(
                    scen,
                    zone_id=zone_id.strip(),
                    name=name,
                    kind=kind,
                    line=line,
                    width_m=width_km * 1000.0,
                    side=side,
                    valid_from=valid_from,
                    valid_to=valid_to,
                )
            except ManifestError as err:
                show_errors(err)
            else:
                save(new, _("zone {id}").format(id=zone_id))

with tabs[3], st.form("line"):
    upload = st.file_uploader(
        _("Line geometry"),
        type=["geojson", "json", "gpkg", "zip", "kml", "kmz"],
        key="l_file",
        max_upload_size=max(1, int(common.max_upload_mb())),
    )
    c1, c2, c3 = st.columns(3)
    line_id = c1.text_input(_("Id"), key="l_id")
    name = c2.text_input(_("Name"), key="l_name")
    agreement = c3.text_input(_("Agreement"), key="l_agreement")
    party_ids = ["", *[p.id for p in scen.parties]]
    c4, c5 = st.columns(2)
    left = c4.selectbox(_("Party on the left of the line's direction"), party_ids, key="l_left")
    right = c5.selectbox(_("Party on the right"), party_ids, key="l_right")
    d1, d2 = st.columns(2)
    line_from = d1.date_input(_("In force from"), value=None, key="l_from", **DATES)
    line_to = d2.date_input(_("In force until (last day)"), value=None, key="l_to", **DATES)
    st.caption(
        _(
            "A line in several parts is joined into one, running the way its first part does; "
            "parts drawn the other way are reversed and reported."
        )
    )
    if st.form_submit_button(_("Add line and reclassify"), type="primary"):
        if upload is None:
            st.error(_("Choose a geometry file."))
        else:
            try:
                new = add_line(
                    scen,
                    line_id=line_id.strip(),
                    name=name,
                    data=upload_spool.contents(upload),
                    file_name=upload.name,
                    left_party=left or None,
                    right_party=right or None,
                    agreement=agreement,
                    valid_from=line_from,
                    valid_to=line_to,
                )
            except ManifestError as err:
                show_errors(err)
            else:
                save(new, _("line {id}").format(id=line_id))

with tabs[4]:
    st.dataframe(rules.rename(columns=headers()), hide_index=True, width="stretch")
    existing = {r.id: r for r in scen.rules}
    pick = st.selectbox(
        _("Edit rule"), ["", *existing], format_func=lambda r: r or _("(new rule)"), key="r_pick"
    )
    base = existing.get(pick)
    labels = vocabulary().labels
    with st.form("rule"):
        c1, c2, c3 = st.columns(3)
        rule_id = c1.text_input(
            _("Id"), value=base.id if base else "", disabled=base is not None, key=f"r_id_{pick}"
        )
        zone = c2.selectbox(
            _("Zone"),
            [z.id for z in scen.zones],
            index=[z.id for z in scen.zones].index(base.zone) if base else 0,
            key=f"r_zone_{pick}",
        )
        severity = c3.selectbox(
            _("Severity"),
            SEVERITIES,
            format_func=severity,
            index=SEVERITIES.index(base.severity) if base and base.severity in SEVERITIES else 2,
            key=f"r_sev_{pick}",
        )
        prohibits = st.multiselect(
            _("Prohibited categories"),
            sorted(labels),
            default=list(base.prohibits) if base else [],
            format_func=category,
            key=f"r_cats_{pick}",
            placeholder=_(common.CHOOSE),
        )
        everyone = st.checkbox(
            _("Binds every party"), value=base.binds_all if base else True, key=f"r_all_{pick}"
        )
        bound = st.multiselect(
            _("Binds these parties"),
            [p.id for p in scen.parties],
            default=[p for p in base.parties if p != "*"] if base else [],
            key=f"r_parties_{pick}",
            placeholder=_(common.CHOOSE),
        )
        text = st.text_area(_("Text of the agreement"), value=base.text if base else "", key=f"r_text_{pick}")
        d1, d2 = st.columns(2)
        valid_from = d1.date_input(
            _("In force from"), value=base.valid_from if base else None, key=f"r_from_{pick}", **DATES
        )
        valid_to = d2.date_input(
            _("In force until"), value=base.valid_to if base else None, key=f"r_to_{pick}", **DATES
        )
        b1, b2 = st.columns(2)
        submitted = b1.form_submit_button(_("Save rule and reclassify"), type="primary")
        deleted = b2.form_submit_button(_("Delete this rule"), disabled=base is None)
    if submitted:
        rule = Rule(
            rule_id.strip(),
            zone,
            tuple(prohibits),
            ("*",) if everyone else tuple(bound),
            severity,
            text,
            valid_from if isinstance(valid_from, date) else None,
            valid_to if isinstance(valid_to, date) else None,
            base.weapon_classes if base else (),
        )
        try:
            new = upsert_rule(scen, rule)
        except ManifestError as err:
            show_errors(err)
        else:
            save(new, _("rule {id}").format(id=rule.id))
    if deleted and base is not None:
        save(remove_rule(scen, base.id), _("rule {id} deleted").format(id=base.id))
