"""Incident files written the way a spreadsheet saves them, in every format, encoding and date style.

A spreadsheet that opens a CSV turns its dates into date cells and writes them back in
the display format of its locale; it ends records with CRLF, keeps line breaks inside a
cell as LF inside quotes, quotes only the values that need it, and saves in the code
page of the machine ("CSV") or as UTF-16 with tabs ("Unicode text").
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from geo.io.readers.acled import COLUMNS_2023
from geo.io.readers.template import COLUMNS as TEMPLATE_COLUMNS
from geo.io.readers.ucdp import COLUMNS as UCDP_COLUMNS

ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "cp1252", "cp1250", "cp1251", "cp1256", "cp949")
STYLES = ("m/d/Y h:mm AM/PM", "d/m/Y HH:MM", "d-Mon-yy", "serial", "ISO")
FORMATS = ("template", "acled", "ucdp", "mapped")

ACTORS: dict[str, tuple[str, ...]] = {
    "cp1252": ("Forces armées françaises", "Ejército de Liberación Nacional"),
    "cp1250": ("Siły Zbrojne Rzeczypospolitej Polskiej", "Oružane snage Republike Hrvatske"),
    "cp1251": ("Вооружённые силы", "Збройні сили України"),
    "cp1256": ("حزب الله", "الجيش الإسرائيلي"),
    "cp949": ("조선인민군", "대한민국 국군"),
}
"""Actor names in each legacy code page's script; the Unicode encodings get Arabic, Korean and Cyrillic."""
UNICODE_ACTORS = ("حزب الله", "조선인민군", "Вооружённые силы")
NOTES: dict[str, str] = {
    "cp1252": "Tir de mortier près de la ligne, « deux obus »",
    "cp1250": "Ostrzał artyleryjski w pobliżu Łodzi; žádné oběti",
    "cp1251": "Обстрел позиций у села Пески, «два снаряда»",
    "cp1256": "قصف مدفعي على الموقع قرب الخط الأزرق",
    "cp949": "포격 소리 2회, 비무장지대 인근",
}
UNICODE_NOTE = "قصف مدفعي / 포격 소리 / Обстрел позиций"

EVENTS: tuple[tuple[str, str], ...] = (
    ("101", "2014-05-09 00:00"),  # 09/05/2014 day first, 5/9/2014 month first: 9 May either way
    ("102", "2014-09-05 14:30"),
    ("103", "2014-08-29 06:15"),  # the day above 12 that settles the order
    ("104", "2014-12-01 23:59"),
    ("105", "2014-01-12 09:05"),
)
"""Source event id and when it happened (UTC)."""
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def write_date(when: pd.Timestamp, style: str, *, timed: bool) -> str:
    """A date (and time) as a spreadsheet of that locale writes its cell."""
    if style == "m/d/Y h:mm AM/PM":
        hour, half = when.hour % 12 or 12, "AM" if when.hour < 12 else "PM"
        return f"{when.month}/{when.day}/{when.year} {hour}:{when.minute:02d}:00 {half}"
    if style == "d/m/Y HH:MM":
        return f"{when.day:02d}/{when.month:02d}/{when.year} {when.hour:02d}:{when.minute:02d}"
    if style == "d-Mon-yy":
        return f"{when.day}-{MONTHS[when.month - 1]}-{when.year % 100:02d}"
    if style == "serial":
        days = (when.normalize() - pd.Timestamp("1899-12-30")).days
        fraction = (when.hour * 60 + when.minute) / 1440
        return repr(days + fraction) if timed and fraction else str(days)
    return when.strftime("%Y-%m-%d %H:%M:%S") if timed else when.strftime("%Y-%m-%d")


def keeps_time(style: str) -> bool:
    """Whether the style writes the time of day (``d-Mon-yy`` shows the date only)."""
    return style != "d-Mon-yy"


@dataclass(frozen=True)
class Saved:
    """A saved file and what reading it must give."""

    data: bytes
    format: str
    encoding: str
    """The encoding the reader must report."""
    actors: dict[str, str]
    """Source event id -> actor name."""
    notes: dict[str, str]
    """Source event id -> the text with a line break, as the reader must keep it."""
    at: dict[str, pd.Timestamp]
    """Source event id -> ``occurred_at``."""
    mapping: object = None


def _save(rows: list[list[str]], encoding: str, delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t" if encoding == "utf-16" else delimiter, lineterminator="\r\n")
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def saved(fmt: str, encoding: str, style: str) -> Saved:
    """One small file of :data:`EVENTS` in a format, saved in an encoding with a date style."""
    actors = ACTORS.get(encoding, UNICODE_ACTORS)
    note = NOTES.get(encoding, UNICODE_NOTE)
    # ACLED and UCDP dates are days; a locale's date-and-time format still writes them with midnight.
    timed = fmt in ("template", "mapped") and keeps_time(style)
    by_id = {eid: actors[i % len(actors)] for i, (eid, _) in enumerate(EVENTS)}
    notes = {eid: f"{note}\nline two of {eid}" for eid, _ in EVENTS}
    at = {eid: pd.Timestamp(when if timed else when[:10], tz="UTC") for eid, when in EVENTS}
    with_time = timed or style in ("m/d/Y h:mm AM/PM", "d/m/Y HH:MM")
    dates = {eid: write_date(pd.Timestamp(at[eid].tz_localize(None)), style, timed=with_time) for eid in at}
    rows, mapping = _rows(fmt, by_id, notes, dates)
    data = _save(rows, encoding, ";" if fmt == "mapped" else ",")
    return Saved(data, fmt, encoding, by_id, notes, at, mapping)


def _rows(fmt: str, actors: dict[str, str], notes: dict[str, str], dates: dict[str, str],
          ) -> tuple[list[list[str]], object]:
    from geo.io.readers import mapping_from_pairs

    ids = [eid for eid, _ in EVENTS]
    if fmt in ("template", "mapped"):
        header = list(TEMPLATE_COLUMNS)
        rows = [header]
        for i, eid in enumerate(ids):
            value = dict.fromkeys(header, "")
            value |= {"event_id": eid, "occurred_at": dates[eid], "lat": f"38.{100 + i}", "lon": "127.1",
                      "category": "artillery_fire", "actor": actors[eid], "description": notes[eid]}
            rows.append([value[c] for c in header])
        if fmt == "template":
            return rows, None
        names = {"event_id": "Report No", "occurred_at": "Date/Time", "lat": "Latitude", "lon": "Longitude",
                 "category": "Type", "actor": "Unit", "description": "Notes"}
        rows = [[names[c] for c in header if c in names]] + [
            [v for c, v in zip(header, row, strict=True) if c in names] for row in rows[1:]]
        # Excel in a comma-decimal locale writes the coordinates with decimal commas too.
        rows = [rows[0], *([v.replace(".", ",") if j in (2, 3) else v for j, v in enumerate(r)]
                           for r in rows[1:])]
        return rows, mapping_from_pairs([f"{k}={v}" for k, v in names.items()])
    if fmt == "acled":
        header = list(COLUMNS_2023)
        rows = [header]
        for i, eid in enumerate(ids):
            value = dict.fromkeys(header, "")
            value |= {"event_id_cnty": eid, "event_date": dates[eid], "year": "2014", "time_precision": "1",
                      "event_type": "Battles", "sub_event_type": "Armed clash", "actor1": actors[eid],
                      "latitude": f"38.{100 + i}", "longitude": "127.1", "geo_precision": "1",
                      "notes": notes[eid], "fatalities": "0"}
            rows.append([value[c] for c in header])
        return rows, None
    header = list(UCDP_COLUMNS)
    rows = [header]
    for i, eid in enumerate(ids):
        value = dict.fromkeys(header, "")
        value |= {"id": eid, "year": "2014", "type_of_violence": "3", "side_a": actors[eid],
                  "side_b": "Civilians", "where_prec": "1", "where_description": notes[eid],
                  "latitude": f"38.{100 + i}", "longitude": "127.1", "date_prec": "1",
                  "date_start": dates[eid], "date_end": dates[eid], "best": "2"}
        rows.append([value[c] for c in header])
    return rows, None
