"""Data exports of an incident view with its classification: CSV, GeoJSON, GeoPackage.

Every format has the same columns in the same order (:func:`export_columns`). Times
are ISO 8601 in UTC. See ``docs/exports.md`` for the layers and columns.

CSV cells are safe to open in a spreadsheet: a *text* cell whose first non-blank
character is ``=``, ``+``, ``-`` or ``@`` (or their full-width forms U+FF1D, U+FF0B,
U+FF0D, U+FF20), or that starts with a tab, a carriage return or a NUL, gets a leading
single quote, the OWASP recommendation, so it is shown, not evaluated. Blank means
whitespace, control characters and zero-width characters, which spreadsheets skip. Numeric
columns (``lon``, ``lat``, ``distance_m``, ``fatalities``, ids) are written as plain
numbers and never prefixed: a negative distance stays a number. Only columns whose
dtype is numeric count as numeric, so a text column holding "-2+3" is neutralised.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from geo.core.model import CLASSIFICATION_COLUMNS, INCIDENT_COLUMNS, Scenario

Format = Literal["csv", "geojson", "gpkg"]
FORMATS: dict[str, str] = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".gpkg": "gpkg"}

LEADING_COLUMNS: tuple[str, ...] = (
    "event_id",
    "occurred_at",
    "lon",
    "lat",
    "category",
    "party",
    "attribution",
    "verdict",
    "rules",
    "zones",
    "nearest_line",
    "distance_m",
    "side",
    "incident_id",
    "source",
    "source_event_id",
    "location_precision",
    "verification",
    "batch_id",
)
"""The first columns of every export (those of ``python -m geo classify``, then the store's);
the rest follow in schema order. ``party`` is the party involved (reported, else inferred:
see ``attribution``); ``reported_party`` is the party as the source gave it."""

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\x00", "\uff1d", "\uff0b", "\uff0d", "\uff20")
"""Leading characters a spreadsheet may read as the start of a formula (with full-width forms)."""

_BLANK = r"\s\x00-\x1f\x7f-\x9f\u200b-\u200f\u2060\ufeff"
_RISKY = re.compile(rf"^(?:[\t\r\x00]|[{_BLANK}]*[=+\-@\uff1d\uff0b\uff0d\uff20])")
"""A cell starting with a tab, CR or NUL, or whose first non-blank character is a trigger."""

GPKG_LAYERS = ("incidents", "lines", "zones", "parties", "rules", "provenance")


def export_columns(view: pd.DataFrame) -> list[str]:
    """
    The columns of an export, in order.

    Parameters
    ----------
    view
        An incident view.

    Returns
    -------
    list of str
        :data:`LEADING_COLUMNS`, then the other normalised and classification columns
        in schema order, then ``ingested_at`` and any other column, as present.
    """
    schema = [
        *LEADING_COLUMNS,
        *INCIDENT_COLUMNS,
        "reported_party",
        *CLASSIFICATION_COLUMNS,
        "ingested_at",
        "data_origin",
    ]
    ordered = [c for c in dict.fromkeys(schema) if c in view.columns]
    return ordered + [c for c in view.columns if c not in ordered]


def export_frame(view: pd.DataFrame) -> pd.DataFrame:
    """
    An incident view with the export's column names, in export order.

    ``party`` becomes the party involved (the view's ``attributed_party``), the party as
    reported moves to ``reported_party``, and ``event_id`` repeats ``source_event_id``.
    """
    out = view.rename(columns={"party": "reported_party", "attributed_party": "party"})
    if "source_event_id" in out and "event_id" not in out:
        out = out.assign(event_id=out["source_event_id"])
    if ("source" in out or "description" in out) and "data_origin" not in out:
        out = out.assign(data_origin=data_origin(out))
    return out[export_columns(out)]


def data_origin(view: pd.DataFrame) -> np.ndarray:
    """
    ``synthetic`` for generated records, ``reported`` for the others, row by row.

    A record is synthetic when its source starts with ``synthetic`` or its description with
    ``[SYNTHETIC]``: how every generator in Truceline marks what it makes.
    """
    synthetic = np.zeros(len(view), dtype=bool)
    if "source" in view:
        synthetic |= view["source"].astype(str).str.startswith("synthetic").to_numpy(dtype=bool)
    if "description" in view:
        synthetic |= view["description"].astype(str).str.startswith("[SYNTHETIC]").to_numpy(dtype=bool)
    return np.where(synthetic, "synthetic", "reported").astype(object)


def provenance(scenario: Scenario) -> dict[str, object]:
    """What an export says about where its data comes from: data kind, attribution, caveats."""
    return {
        "scenario": scenario.name,
        "data": scenario.data_kind,
        "attribution": scenario.attribution,
        "caveats": list(scenario.caveats),
    }


def _is_numeric(series: pd.Series) -> bool:
    return (
        pd.api.types.is_numeric_dtype(series.dtype)
        and not pd.api.types.is_bool_dtype(series.dtype)
        and not isinstance(series.dtype, pd.CategoricalDtype)
    )


def _iso(series: pd.Series) -> pd.Series:
    """ISO 8601 UTC text of a datetime column, with microseconds only where a time has them."""
    t = pd.to_datetime(series, utc=True)
    base = t.dt.strftime("%Y-%m-%dT%H:%M:%S").astype(object)
    micro = t.dt.microsecond.fillna(0).astype("int64")
    text = base.where(micro == 0, base + "." + micro.astype(str).str.zfill(6)) + "Z"
    return text.where(t.notna(), "")


def neutralise(values: pd.Series) -> pd.Series:
    """
    Prefix text cells that a spreadsheet could evaluate with a single quote.

    Parameters
    ----------
    values
        Text cells (missing values become empty strings).

    Returns
    -------
    pandas.Series
        The cells, those starting with a tab, a carriage return or a NUL, or whose first
        non-blank character (past whitespace, control and zero-width characters) is one
        of ``= + - @`` or their full-width forms, prefixed with ``'``.
    """
    text = values.astype(object).where(values.notna(), "").astype(str)
    risky = text.str.match(_RISKY).fillna(False).astype(bool)
    return text.where(~risky, "'" + text)


def _csv_frame(frame: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[col] = _iso(series)
        elif _is_numeric(series):
            out[col] = series
        elif pd.api.types.is_bool_dtype(series.dtype):
            out[col] = series.map({True: "true", False: "false"}).astype(object).where(series.notna(), "")
        else:
            out[col] = neutralise(series)
    return pd.DataFrame(out, index=frame.index)


def csv_bytes(frame: pd.DataFrame, *, bom: bool = False) -> bytes:
    """
    Any frame as formula-safe CSV, its columns in their order.

    Parameters
    ----------
    frame
        The rows to write (an incident view, rejected rows, a classified file, ...).
    bom
        Start with a UTF-8 byte order mark (see :func:`to_csv`).

    Returns
    -------
    bytes
        RFC 4180 CSV in UTF-8, with a header row and CRLF line ends.
    """
    text = _csv_frame(frame).to_csv(index=False, lineterminator="\r\n", na_rep="")
    return ("\ufeff" if bom else "").encode("utf-8") + str(text).encode("utf-8")


def to_csv(view: pd.DataFrame, *, bom: bool = False) -> bytes:
    """
    The view as CSV (RFC 4180, UTF-8), in export column order, safe from formula injection.

    Parameters
    ----------
    view
        The filtered incident view.
    bom
        Start with a UTF-8 byte order mark, so Excel reads the file as UTF-8 (Korean,
        Arabic and Cyrillic names stay readable). Off by default: other tools,
        including our own readers, take the file as plain UTF-8.

    Returns
    -------
    bytes
        The CSV file, with a header row and CRLF line ends.
    """
    return csv_bytes(export_frame(view), bom=bom)


def write_csv(frame: pd.DataFrame, path: str | os.PathLike[str], *, bom: bool = False) -> Path:
    """
    Write any frame as formula-safe CSV (see :func:`csv_bytes`), columns in their order.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    out = Path(path)
    out.write_bytes(csv_bytes(frame, bom=bom))
    return out


def _json_frame(view: pd.DataFrame) -> pd.DataFrame:
    out = {}
    view = export_frame(view)
    for col in view.columns:
        series = view[col]
        if isinstance(series.dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(series.dtype):
            out[col] = _iso(series).replace("", None)
        elif isinstance(series.dtype, pd.CategoricalDtype):
            out[col] = series.astype(object)
        else:
            out[col] = series
    return pd.DataFrame(out, index=view.index)


def to_geojson(view: pd.DataFrame, scenario: Scenario | None = None) -> bytes:
    """
    The view as an RFC 7946 GeoJSON FeatureCollection of points.

    Parameters
    ----------
    view
        The filtered incident view.

    Returns
    -------
    bytes
        UTF-8 GeoJSON: one Point feature per incident (lon, lat in WGS84), every column
        as a property, times as ISO 8601 UTC text, missing values as ``null``; with a
        scenario, a ``truceline_provenance`` member (see :func:`provenance`).
    """
    props = _json_frame(view)
    lines = props.to_json(orient="records", lines=True, force_ascii=False, double_precision=15)
    records = lines.splitlines() if len(props) else []
    lon = view["lon"].to_numpy(dtype=float)
    lat = view["lat"].to_numpy(dtype=float)
    features = []
    finite = np.isfinite(lon) & np.isfinite(lat)
    for x, y, ok, rec in zip(lon.tolist(), lat.tolist(), finite.tolist(), records, strict=True):
        geom = f'{{"type":"Point","coordinates":[{x!r},{y!r}]}}' if ok else "null"
        features.append(f'{{"type":"Feature","geometry":{geom},"properties":{rec}}}')
    head = '{"type":"FeatureCollection",'
    if scenario is not None:
        head += '"truceline_provenance":' + json.dumps(provenance(scenario), ensure_ascii=False) + ","
    return (head + '"features":[' + ",\n".join(features) + "]}\n").encode("utf-8")


def _gpkg_incidents(view: pd.DataFrame) -> gpd.GeoDataFrame:
    frame = export_frame(view).reset_index(drop=True)
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.CategoricalDtype):
            frame[col] = frame[col].astype(object).where(frame[col].notna(), None)
        elif isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            frame[col] = pd.to_datetime(frame[col], utc=True)
    geometry = shapely.points(view["lon"].to_numpy(dtype=float), view["lat"].to_numpy(dtype=float))
    return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


def _day(value: object) -> str | None:
    return None if value is None else str(value)


def _gpkg_lines(scenario: Scenario) -> gpd.GeoDataFrame:
    rows = [
        {
            "id": ln.id,
            "name": ln.name,
            "agreement": ln.agreement,
            "left_party": ln.left_party,
            "right_party": ln.right_party,
            "valid_from": _day(ln.valid_from),
            "valid_to": _day(ln.valid_to),
            "source": ln.source,
        }
        for ln in scenario.lines
    ]
    geoms = [ln.geometry for ln in scenario.lines]
    return gpd.GeoDataFrame(pd.DataFrame(rows, columns=_LINE_FIELDS), geometry=geoms, crs="EPSG:4326")


_LINE_FIELDS = ["id", "name", "agreement", "left_party", "right_party", "valid_from", "valid_to", "source"]
_ZONE_FIELDS = [
    "id",
    "name",
    "kind",
    "derived",
    "line",
    "width_m",
    "side",
    "valid_from",
    "valid_to",
    "rules",
    "source",
]
_PARTY_FIELDS = ["id", "name", "short_name", "colour"]
_RULE_FIELDS = [
    "id",
    "zone",
    "prohibits",
    "weapon_classes",
    "parties",
    "severity",
    "valid_from",
    "valid_to",
    "deadline",
    "text",
]


def _gpkg_zones(scenario: Scenario) -> gpd.GeoDataFrame:
    rows = [
        {
            "id": z.id,
            "name": z.name,
            "kind": z.kind,
            "derived": z.derived,
            "line": z.line,
            "width_m": z.width_m,
            "side": z.side,
            "valid_from": _day(z.valid_from),
            "valid_to": _day(z.valid_to),
            "rules": ";".join(r.id for r in scenario.rules if r.zone == z.id),
            "source": z.source,
        }
        for z in scenario.zones
    ]
    frame = pd.DataFrame(rows, columns=_ZONE_FIELDS).astype({"width_m": "float64", "derived": "bool"})
    return gpd.GeoDataFrame(frame, geometry=[z.geometry for z in scenario.zones], crs="EPSG:4326")


def _tables(scenario: Scenario) -> dict[str, pd.DataFrame]:
    parties = pd.DataFrame(
        [
            {"id": p.id, "name": p.name, "short_name": p.short_name, "colour": p.colour}
            for p in scenario.parties
        ],
        columns=_PARTY_FIELDS,
    )
    rules = pd.DataFrame(
        [
            {
                "id": r.id,
                "zone": r.zone,
                "prohibits": ";".join(r.prohibits),
                "weapon_classes": ";".join(r.weapon_classes),
                "parties": ";".join(r.parties),
                "severity": r.severity,
                "valid_from": _day(r.valid_from),
                "valid_to": _day(r.valid_to),
                "deadline": _day(r.deadline),
                "text": r.text,
            }
            for r in scenario.rules
        ],
        columns=_RULE_FIELDS,
    )
    about = provenance(scenario)
    facts = pd.DataFrame(
        [{"key": k, "value": "; ".join(v) if isinstance(v, list) else str(v)} for k, v in about.items()],
        columns=["key", "value"],
    )
    return {"parties": parties, "rules": rules, "provenance": facts}


def write_gpkg(view: pd.DataFrame, scenario: Scenario, path: str | os.PathLike[str]) -> Path:
    """
    Write the view and the scenario to a GeoPackage.

    Parameters
    ----------
    view
        The filtered incident view.
    scenario
        Its lines, zones, parties and rules become layers.
    path
        The ``.gpkg`` file to write; an existing file is replaced.

    Returns
    -------
    pathlib.Path
        ``path``, holding the layers ``incidents`` (points), ``lines``
        (MultiLineString), ``zones`` (MultiPolygon), and the attribute tables
        ``parties`` and ``rules``, all in EPSG:4326.
    """
    out = Path(path)
    out.unlink(missing_ok=True)
    pyogrio.write_dataframe(
        _gpkg_incidents(view), out, layer="incidents", geometry_type="Point", driver="GPKG"
    )
    pyogrio.write_dataframe(
        _gpkg_lines(scenario),
        out,
        layer="lines",
        geometry_type="MultiLineString",
        promote_to_multi=True,
        driver="GPKG",
    )
    pyogrio.write_dataframe(
        _gpkg_zones(scenario),
        out,
        layer="zones",
        geometry_type="MultiPolygon",
        promote_to_multi=True,
        driver="GPKG",
    )
    for name, table in _tables(scenario).items():
        pyogrio.write_dataframe(table, out, layer=name, driver="GPKG")
    return out


def to_gpkg(view: pd.DataFrame, scenario: Scenario) -> bytes:
    """The GeoPackage of :func:`write_gpkg`, as bytes (written through a temporary file)."""
    with tempfile.TemporaryDirectory(prefix="truceline-") as tmp:
        path = write_gpkg(view, scenario, Path(tmp) / "export.gpkg")
        return path.read_bytes()


def export_bytes(view: pd.DataFrame, scenario: Scenario | None, fmt: Format, *, bom: bool = False) -> bytes:
    """
    One export as bytes, for a download button.

    Parameters
    ----------
    view
        The filtered incident view.
    scenario
        Required by ``gpkg`` for its lines and zones layers.
    fmt
        ``csv``, ``geojson`` or ``gpkg``.
    bom
        CSV only: see :func:`to_csv`.

    Returns
    -------
    bytes
    """
    if fmt == "csv":
        return to_csv(view, bom=bom)
    if fmt == "geojson":
        return to_geojson(view, scenario)
    if fmt == "gpkg" and scenario is not None:
        return to_gpkg(view, scenario)
    if fmt == "gpkg":
        msg = "export: gpkg: a GeoPackage needs the scenario for its lines and zones layers"
        raise ValueError(msg)
    msg = f"export: format: must be csv, geojson or gpkg, got {fmt!r}"
    raise ValueError(msg)


def export_view(
    view: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    fmt: Format | None = None,
    scenario: Scenario | None = None,
    bom: bool = False,
) -> Path:
    """
    Write one export of a view to a file, the format taken from ``fmt`` or the file's suffix.

    Parameters
    ----------
    view
        The filtered incident view.
    path
        Where to write.
    fmt
        ``csv``, ``geojson`` or ``gpkg``; default: from the suffix (``.csv``,
        ``.geojson``/``.json``, ``.gpkg``).
    scenario
        Required by ``gpkg`` (its lines and zones layers).
    bom
        CSV only: see :func:`to_csv`.

    Returns
    -------
    pathlib.Path
    """
    out = Path(path)
    kind = fmt or FORMATS.get(out.suffix.lower())
    if kind not in ("csv", "geojson", "gpkg"):
        msg = f"{out}: export: cannot tell the format; use csv, geojson or gpkg (or that file suffix)"
        raise ValueError(msg)
    if kind == "gpkg":
        if scenario is None:
            msg = f"{out}: export: a GeoPackage needs the scenario for its lines and zones layers"
            raise ValueError(msg)
        return write_gpkg(view, scenario, out)
    out.write_bytes(to_csv(view, bom=bom) if kind == "csv" else to_geojson(view))
    return out


def scenario_geojson(scenario: Scenario, *, scenario_id: str = "") -> dict[str, object]:
    """
    A scenario's lines and zones as one RFC 7946 FeatureCollection, for other GIS tools.

    Each feature's ``layer`` property is ``line`` or ``zone`` (with the fields of the
    GeoPackage export's layers); the collection also carries the scenario's ``rules``
    and ``parties`` and its provenance (``truceline_provenance``).
    """
    features: list[dict[str, object]] = []
    for layer, frame in (("line", _gpkg_lines(scenario)), ("zone", _gpkg_zones(scenario))):
        if len(frame):
            doc = json.loads(frame.to_json(na="null", drop_id=True))
            for feature in doc["features"]:
                feature["properties"] = {"layer": layer, **feature["properties"]}
                features.append(feature)
    tables = _tables(scenario)
    return {
        "type": "FeatureCollection",
        "id": scenario_id,
        "name": scenario.name,
        "truceline_provenance": provenance(scenario),
        "parties": json.loads(tables["parties"].to_json(orient="records", force_ascii=False)),
        "rules": json.loads(tables["rules"].to_json(orient="records", force_ascii=False)),
        "features": features,
    }
