"""KoboToolbox and ODK Central submissions: stored form mappings, the push receiver, and pulls.

A form's mapping (stored per scenario and form id) says which form field fills which
house-template field, which geopoint field gives the place (default: Kobo's
``_geolocation``, ODK's first geopoint), which field gives the time (default: the
submission time) and the source recorded. A submission becomes one template record:
its id is the event id, so a submission received twice (Kobo retries its REST posts)
or pulled again is a duplicate, never a second incident.

Kobo's REST service posts a submission once, on creation; edits reach Truceline only by
a pull (``python -m geo pull kobo|odk``), which compares each submission with the digest
kept when it was last seen: new submissions are uploaded as one batch, edited ones update
their incident (reclassified, audited as ``incident_edit`` with the fields before and after).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from geo import clock
from geo._errors import BatchError, InputError, NotFoundError, ReaderError
from geo.core.auth import OPERATOR, Principal, require
from geo.core.names import check_name
from geo.services.intake import FIELDS, Intake, Problem, post_incidents, template_csv
from geo.store import Store

SERVERS = ("kobo", "odk")
_FORM = re.compile(r"[A-Za-z0-9._:-]{1,128}")
PAGE = 1000
"""Submissions asked for per request of a pull."""
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class FormMapping:
    """How one form's submissions become template records."""

    form: str
    fields: dict[str, str] = field(default_factory=dict)
    """Template field -> form field (its name, or its path ``group/name``)."""
    geopoint: str = ""
    """The geopoint field; empty: ``_geolocation`` (Kobo) or the first geopoint (ODK)."""
    time: str = ""
    """The field holding when it happened; empty: the submission time."""
    source: str = ""
    """The source recorded; empty: ``kobo:FORM`` or ``odk:FORM``."""

    def source_for(self, server: str) -> str:
        """The source recorded for submissions from ``server``."""
        return self.source or f"{server}:{self.form}"


def check_mapping(mapping: FormMapping) -> FormMapping:
    """The mapping, checked: a plain form id, template fields only, no field for id, place or time."""
    if not _FORM.fullmatch(mapping.form):
        msg = f"form {mapping.form[:60]!r}: use 1-128 letters, digits, '.', '_', ':' or '-'"
        raise InputError(msg)
    reserved = {"event_id", "lat", "lon"}
    for key, value in mapping.fields.items():
        if key not in FIELDS or key in reserved:
            allowed = ", ".join(f for f in FIELDS if f not in reserved)
            msg = f"form {mapping.form}: mapping: {key!r}: not a template field it can fill ({allowed})"
            raise InputError(msg)
        if not value or len(value) > 256:
            msg = f"form {mapping.form}: mapping: {key}: name a form field"
            raise InputError(msg)
    if mapping.source:
        check_name("source", mapping.source, limit=64)
    return mapping


def set_mapping(store: Store, mapping: FormMapping, *, actor: Principal = OPERATOR) -> None:
    """Store (or replace) a form's mapping in the store's scenario; audited."""
    require(actor, "edit_scenario")
    check_mapping(mapping)
    before = get_mapping(store, mapping.form, missing_ok=True)
    with store.write() as tx:
        tx.execute(
            "DELETE FROM form_mappings WHERE scenario_id = ? AND form = ?", (store.scenario_id, mapping.form)
        )
        tx.bulk_insert(
            "form_mappings",
            pd.DataFrame(
                [
                    {
                        "scenario_id": store.scenario_id,
                        "form": mapping.form,
                        "mapping": json.dumps(asdict(mapping), sort_keys=True),
                        "updated_at": clock.now(),
                    }
                ]
            ),
        )
        tx.audit(actor, "form_mapping", mapping.form, asdict(before) if before else {}, asdict(mapping))


def get_mapping(store: Store, form: str, *, missing_ok: bool = False) -> FormMapping | None:
    """A form's stored mapping in the store's scenario."""
    raw = store.scalar(
        "SELECT mapping FROM form_mappings WHERE scenario_id = ? AND form = ?", (store.scenario_id, form)
    )
    if raw is None:
        if missing_ok:
            return None
        msg = f"form {form!r}: no mapping stored in scenario {store.scenario_id!r} (python -m geo forms map)"
        raise NotFoundError(msg)
    return FormMapping(**json.loads(raw))


def list_mappings(store: Store) -> list[FormMapping]:
    """The forms mapped in the store's scenario."""
    frame = store.frame(
        "SELECT mapping FROM form_mappings WHERE scenario_id = ? ORDER BY form", (store.scenario_id,)
    )
    return [FormMapping(**json.loads(raw)) for raw in frame["mapping"]]


# -- submissions -> template records ------------------------------------------------------


def _lookup(submission: dict[str, Any], path: str) -> Any:
    """A field of a submission by name or path: Kobo's flat ``group/name`` keys, ODK's nested groups."""
    if path in submission:
        return submission[path]
    node: Any = submission
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            node = None
            break
        node = node[part]
    if node is not None:
        return node
    suffix = "/" + path.rsplit("/", 1)[-1]
    matches = [k for k in submission if isinstance(k, str) and k.endswith(suffix)]
    return submission[matches[0]] if len(matches) == 1 else None


def _geopoint(value: Any) -> tuple[Any, Any, Any]:
    """(lat, lon, accuracy in m) of a geopoint: ``"lat lon alt acc"`` text, ``[lat, lon]``, or GeoJSON."""
    if isinstance(value, str):
        parts = value.split()
        if len(parts) >= 2:
            return parts[0], parts[1], parts[3] if len(parts) >= 4 else None
    if isinstance(value, list) and len(value) >= 2 and value[0] is not None:
        return value[0], value[1], None
    if isinstance(value, dict) and value.get("type") == "Point":
        coords = value.get("coordinates") or []
        props = value.get("properties") or {}
        if isinstance(coords, list) and len(coords) >= 2:
            return coords[1], coords[0], props.get("accuracy") if isinstance(props, dict) else None
    return None, None, None


def _utc_text(value: Any) -> Any:
    """Kobo's ``_submission_time`` is UTC without an offset: say so."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?", value):
        return value + "Z"
    return value


def _first_geopoint(submission: dict[str, Any]) -> Any:
    for value in submission.values():
        if isinstance(value, dict):
            if value.get("type") == "Point":
                return value
            found = _first_geopoint(value)
            if found is not None:
                return found
    return None


def submission_record(server: str, submission: Any, mapping: FormMapping) -> tuple[str, dict[str, Any]]:
    """
    A submission's id and its template record.

    Raises
    ------
    BatchError
        When the submission has no id.
    """
    if not isinstance(submission, dict):
        raise BatchError([Problem(None, "", "expected a submission object")])
    if server == "kobo":
        sid, when = submission.get("_id"), submission.get("_submission_time")
        place = _lookup(submission, mapping.geopoint) if mapping.geopoint else submission.get("_geolocation")
    else:
        found = submission.get("__system")
        system: dict[str, Any] = found if isinstance(found, dict) else {}
        sid, when = submission.get("__id"), system.get("submissionDate")
        place = _lookup(submission, mapping.geopoint) if mapping.geopoint else _first_geopoint(submission)
    key = "_id" if server == "kobo" else "__id"
    if sid is None or isinstance(sid, bool) or not isinstance(sid, str | int) or str(sid).strip() == "":
        raise BatchError([Problem(None, key, "missing: a submission needs its id")])
    lat, lon, accuracy = _geopoint(place)
    record: dict[str, Any] = {
        "event_id": str(sid),
        "source": mapping.source_for(server),
        "occurred_at": _utc_text(_lookup(submission, mapping.time) if mapping.time else when),
        "lat": lat,
        "lon": lon,
    }
    if accuracy not in (None, ""):
        record["location_uncertainty_m"] = accuracy
    for target, path in mapping.fields.items():
        value = _lookup(submission, path)
        if isinstance(value, list | dict):
            value = " ".join(str(v) for v in value) if isinstance(value, list) else json.dumps(value)
        record[target] = value
    return str(sid), record


def digest(record: dict[str, Any]) -> str:
    """
    The digest of what a submission says about its incident (its template record), to see an edit.

    Only the mapped fields count: a review note or a validation status changed on the
    server is not an edit of the incident, and the same submission pushed by Kobo's REST
    service and read again by a pull has the same digest.
    """
    text = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# -- the Kobo REST-service receiver -------------------------------------------------------


def receive_kobo(store: Store, payload: Any, *, actor: Principal) -> Intake:
    """
    Upload one Kobo REST-service submission through its form's mapping (``_xform_id_string``).

    Raises
    ------
    BatchError
        When the form has no mapping here, or the submission has no id or the wrong shape.
    """
    require(actor, "upload")
    if not isinstance(payload, dict):
        raise BatchError([Problem(None, "", "expected a KoboToolbox submission object")])
    form = payload.get("_xform_id_string")
    if not isinstance(form, str) or not _FORM.fullmatch(form):
        raise BatchError([Problem(None, "_xform_id_string", "missing: the submission must name its form")])
    mapping = get_mapping(store, form, missing_ok=True)
    if mapping is None:
        problem = f"form {form!r} has no mapping in scenario {store.scenario_id!r}"
        raise BatchError([Problem(None, "_xform_id_string", problem)])
    sid, record = submission_record("kobo", payload, mapping)
    result = post_incidents(store, [record], actor=actor, name=f"kobo:{form}")
    _remember(store, "kobo", form, [(sid, digest(record), record)])
    return result


# -- pulls --------------------------------------------------------------------------------


@dataclass
class PullSummary:
    """What a pull did: submissions read, new (uploaded as one batch), edited (incidents updated)."""

    server: str
    form: str
    read: int = 0
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    upload: dict[str, Any] | None = None
    edit_problems: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """The summary as ``pull --json`` prints it."""
        return asdict(self)


Fetch = Callable[[str, dict[str, str]], Any]
"""``fetch(url, headers)``: the decoded JSON answer of a GET."""


def http_fetch(url: str, headers: dict[str, str]) -> Any:
    """GET ``url`` (http or https only) and decode its JSON."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        msg = f"{url}: only http and https URLs can be pulled"
        raise InputError(msg)
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:  # noqa: S310 - checked above
            return json.loads(answer.read().decode("utf-8"))
    except (OSError, ValueError) as err:
        msg = f"{_safe(url)}: {err}"
        raise ReaderError(msg) from err


def _safe(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit(parts._replace(netloc=parts.hostname or "", query=""))


def _next(base: str, current: str, link: Any) -> str | None:
    """
    The next page's URL, which must be on the server asked (its credentials go with it).

    Raises
    ------
    ReaderError
        When the answer links to another server.
    """
    if not isinstance(link, str) or not link:
        return None
    target = urllib.parse.urljoin(current, link)
    here, there = urllib.parse.urlsplit(base), urllib.parse.urlsplit(target)
    if (here.scheme, here.netloc) != (there.scheme, there.netloc):
        msg = f"{_safe(current)}: the next page is on another server ({_safe(target)}); not followed"
        raise ReaderError(msg)
    return target


def odk_submissions(
    url: str, project: str, form: str, *, user: str = "", password: str = "", fetch: Fetch = http_fetch
) -> Iterator[dict[str, Any]]:
    """Every submission of an ODK Central form, over OData (``Submissions``), page by page."""
    headers = {}
    if user:
        headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    base = url.rstrip("/")
    path = (
        f"/v1/projects/{urllib.parse.quote(project, safe='')}/forms/{urllib.parse.quote(form, safe='')}.svc"
    )
    next_url: str | None = f"{base}{path}/Submissions?%24top={PAGE}&%24count=true"
    while next_url:
        page = fetch(next_url, headers)
        values = page.get("value") if isinstance(page, dict) else None
        if not isinstance(values, list):
            msg = f"{_safe(next_url)}: not an OData answer (no 'value' array)"
            raise ReaderError(msg)
        yield from values
        link = page.get("@odata.nextLink")
        next_url = _next(base, next_url, link)


def kobo_submissions(
    url: str, asset: str, *, token: str = "", fetch: Fetch = http_fetch
) -> Iterator[dict[str, Any]]:
    """Every submission of a KoboToolbox form (asset uid), from the v2 data API, page by page."""
    headers = {"Authorization": f"Token {token}"} if token else {}
    base = url.rstrip("/")
    next_url: str | None = (
        f"{base}/api/v2/assets/{urllib.parse.quote(asset, safe='')}/data/?format=json&limit={PAGE}"
    )
    while next_url:
        page = fetch(next_url, headers)
        results = page.get("results") if isinstance(page, dict) else None
        if not isinstance(results, list):
            msg = f"{_safe(next_url)}: not a Kobo data answer (no 'results' array)"
            raise ReaderError(msg)
        yield from results
        link = page.get("next")
        next_url = _next(base, next_url, link)


def pull(
    store: Store,
    server: str,
    form: str,
    submissions: Iterator[dict[str, Any]],
    *,
    actor: Principal = OPERATOR,
) -> PullSummary:
    """
    Reconcile a form's submissions with the store: upload the new, update the edited.

    Parameters
    ----------
    store
        The store, on the scenario the form is mapped in.
    server
        ``kobo`` or ``odk``.
    form
        The form id the mapping is stored under.
    submissions
        The server's submissions (:func:`kobo_submissions`, :func:`odk_submissions`).
    actor
        Who pulls (needs ``upload``).
    """
    require(actor, "upload")
    mapping = get_mapping(store, form)
    assert mapping is not None  # noqa: S101 - get_mapping raises when missing
    seen = _seen(store, server, form)
    summary = PullSummary(server, form)
    new: list[tuple[str, str, dict[str, Any]]] = []
    edited: list[tuple[str, str, dict[str, Any]]] = []
    for submission in submissions:
        summary.read += 1
        sid, record = submission_record(server, submission, mapping)
        stamp = digest(record)
        if sid not in seen:
            new.append((sid, stamp, record))
        elif seen[sid] != stamp:
            edited.append((sid, stamp, record))
        else:
            summary.unchanged += 1
    if new:
        result = post_incidents(store, [r for _, _, r in new], actor=actor, name=f"{server}:{form}")
        summary.upload = result.as_json()
        summary.new = len(new)
        _remember(store, server, form, new)
    if edited:
        done, problems = update_incidents(store, [r for _, _, r in edited], actor=actor)
        summary.edited = done
        summary.edit_problems = problems
        _remember(store, server, form, [e for e, ok in zip(edited, _ok(edited, problems), strict=True) if ok])
    return summary


def _ok(edited: list[tuple[str, str, dict[str, Any]]], problems: list[str]) -> list[bool]:
    bad = {p.split(":", 1)[0] for p in problems}
    return [sid not in bad for sid, _, _ in edited]


def _seen(store: Store, server: str, form: str) -> dict[str, str]:
    frame = store.frame(
        "SELECT submission_id, digest FROM submissions WHERE scenario_id = ? AND server = ? AND form = ?",
        (store.scenario_id, server, form),
    )
    return dict(zip(frame["submission_id"].astype(str), frame["digest"].astype(str), strict=True))


def _remember(store: Store, server: str, form: str, items: list[tuple[str, str, dict[str, Any]]]) -> None:
    if not items:
        return
    now = clock.now()
    with store.write() as tx:
        for sid, _stamp, _record in items:
            tx.execute(
                "DELETE FROM submissions "
                "WHERE scenario_id = ? AND server = ? AND form = ? AND submission_id = ?",
                (store.scenario_id, server, form, sid),
            )
        tx.bulk_insert(
            "submissions",
            pd.DataFrame(
                [
                    {
                        "scenario_id": store.scenario_id,
                        "server": server,
                        "form": form,
                        "submission_id": sid,
                        "digest": stamp,
                        "source": str(record["source"]),
                        "event_id": str(record["event_id"]),
                        "seen_at": now,
                    }
                    for sid, stamp, record in items
                ]
            ),
        )


# -- edits ----------------------------------------------------------------------------------

_EDITABLE_SKIP = frozenset(
    {"incident_id", "batch_id", "ingested_at", "scenario_id", "source", "source_event_id"}
)


def update_incidents(
    store: Store, records: list[dict[str, Any]], *, actor: Principal
) -> tuple[int, list[str]]:
    """
    Replace stored incidents with edited reports of them (same source and event id), in one transaction.

    Each record is read and classified as an upload would; the incident keeps its id and
    batch, its other fields and its verdict are replaced, and each change is audited
    (``incident_edit``: the fields before and after). A record the reader rejects, or
    whose incident is not stored, is left out and said in the problems (``EVENT_ID: why``).

    Returns
    -------
    tuple
        How many incidents were updated, and the problems.
    """
    from geo.core.classify import classify, prepare
    from geo.io import readers
    from geo.services.ingest import scenario_bounds
    from geo.services.ingest._common import require_scenario, zone_links
    from geo.services.ingest._hashing import hashed
    from geo.services.ingest._staging import STORED
    from geo.services.intake import check_records

    require(actor, "upload")
    shape = check_records(records) if records else []
    bad = {p.row for p in shape}
    problems = [f"{records[p.row]['event_id'] if p.row is not None else '?'}: {p}" for p in shape]
    records = [r for i, r in enumerate(records) if i not in bad]
    if not records or None in bad:
        return 0, problems
    scenario = require_scenario(store)
    data, rows = template_csv(records)
    chunks = list(
        readers.read_incidents(
            data,
            format="template",
            encoding="utf-8",
            party_mapping=scenario.party_mapping,
            parties={p.id for p in scenario.parties},
            bbox=scenario_bounds(scenario),
            name="edit.json",
        )
    )
    for chunk in chunks:
        for item in chunk.rejected.itertuples():
            row = rows.get(int(item.line_no))
            event = records[row]["event_id"] if row is not None else "?"
            problems.append(f"{event}: {item.reason}")
    frames = [c.frame for c in chunks if len(c.frame)]
    if not frames:
        return 0, problems
    frame = hashed(pd.concat(frames, ignore_index=True))
    frame = frame.join(classify(frame, prepare(scenario)))
    columns = [c for c in STORED if c not in _EDITABLE_SKIP and c in frame.columns]
    updated = 0
    with store.write() as tx:
        store.lock_for_ingest(tx)
        for i in range(len(frame)):
            one = frame.iloc[[i]]
            source, event = str(one["source"].iloc[0]), str(one["source_event_id"].iloc[0])
            before = tx.frame(
                f"SELECT incident_id, {', '.join(columns)} FROM incidents "
                "WHERE scenario_id = ? AND source = ? AND source_event_id = ?",
                (store.scenario_id, source, event),
            )
            if before.empty:
                problems.append(f"{event}: no stored incident of source {source!r} with this id")
                continue
            incident_id = int(before["incident_id"].iloc[0])
            encoded = store.encode(one[columns])
            sets = ", ".join(f"{c} = ?" for c in columns)
            tx.execute(
                f"UPDATE incidents SET {sets} WHERE incident_id = ?",
                [encoded[c][0] for c in columns] + [incident_id],
            )
            tx.execute("DELETE FROM incident_zones WHERE incident_id = ?", (incident_id,))
            links = zone_links(np.array([incident_id], dtype=np.int64), one["zones"].reset_index(drop=True))
            if links:
                tx.insert_columns("incident_zones", links)
            was = before.iloc[0].to_dict()
            now = one.iloc[0].to_dict()
            changed = sorted(
                c for c in columns if not c.endswith("_folded") and str(was.get(c)) != str(now.get(c))
            )
            tx.audit(
                actor,
                "incident_edit",
                f"incident {incident_id}",
                {c: was.get(c) for c in changed},
                {c: now.get(c) for c in changed},
            )
            updated += 1
        tx.touch(rewrite=True)
    return updated, problems
