"""Acceptance 1 (issue 3): every row of any upload ends in exactly one bucket, and nothing doubles.

Hypothesis writes house-template CSVs that mix good rows, bad rows, duplicates and
look-alikes (the same content under another event id: another event, kept and flagged),
and uploads each through :func:`geo.services.ingest.ingest_file` into a real SQLite store (a copy
of one holding the demo scenario). Every generated row knows the bucket it belongs in.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo.core.categories import vocabulary
from geo.services.ingest import ingest_file
from geo.store import open_store
from tests.ingest.helpers import NOW, TEMPLATE_COLUMNS, template_text

CATEGORIES = sorted(vocabulary().labels)
TEXT = st.text(
    alphabet=st.sampled_from(list("abcxyz XYZ019.,'\"\n-()") + list("조선인민군포격Київ العربية")),
    max_size=40,
)
SOURCES = st.sampled_from(["", "team-a", "team-b"])


@dataclass
class Row:
    """One generated record and the bucket it must end in."""

    record: dict[str, str] | str
    bucket: str  # accepted, rejected, duplicate
    reason: str = ""  # for rejected rows: the column the reason must name
    lookalike: bool = False  # accepted, and flagged as looking like an earlier report of its source


@st.composite
def good_rows(draw: st.DrawFn, i: int) -> dict[str, str]:
    day = draw(st.dates(min_value=date(2020, 1, 1), max_value=date(2026, 6, 29)))  # NOW is 2026-07-01
    when = day.isoformat()
    if draw(st.booleans()):
        when += f"T{draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}:00Z"
    fatalities = draw(st.one_of(st.just(""), st.integers(0, 40).map(str)))
    return {
        "event_id": draw(st.sampled_from(["", f"EV-{i}"])),
        "occurred_at": when,
        "lat": f"{draw(st.floats(37.6, 38.6)):.5f}",
        "lon": f"{draw(st.floats(126.3, 128.4)):.5f}",
        "category": draw(st.sampled_from(CATEGORIES)),
        "actor": draw(st.sampled_from(["", "KPA", "ROK Army", "조선인민군 제2군단"])),
        "fatalities": fatalities,
        "source": draw(SOURCES),
        # The row number makes each good row's content unique.
        "description": f"#{i} " + draw(TEXT),
    }


def _raw(record: dict[str, str]) -> list[str]:
    """The record's values as written unquoted (only for quote-free, newline-free values)."""
    return [
        record.get(c, "").replace(",", " ").replace('"', " ").replace("\n", " ") for c in TEMPLATE_COLUMNS
    ]


BAD_VALUES: dict[str, tuple[dict[str, list[str]], str]] = {
    # kind: (column -> values to pick from, the column the reason names)
    "lat_range": ({"lat": ["95.5", "-91", "150.25"]}, "lat"),  # lon > 90: no swap is possible
    "lon_range": ({"lon": ["181", "-180.5", "270"]}, "lon"),
    "zero": ({"lat": ["0"], "lon": ["0"]}, "lat/lon"),
    "no_lat": ({"lat": [""]}, "lat"),
    "bad_date": ({"occurred_at": ["yesterday", "2024-13-45", "31/31/2024x"]}, "occurred_at"),
    "future": ({"occurred_at": ["2026-07-03", "2027-01-01T00:00:00Z", "2031-05-05"]}, "occurred_at"),
    "negative": ({"fatalities": ["-1", "-12", "-30"]}, "fatalities"),
}


@st.composite
def bad_row(draw: st.DrawFn, i: int) -> Row:
    record = draw(good_rows(i))
    kind = draw(st.sampled_from([*BAD_VALUES, "fields"]))
    if kind in BAD_VALUES:
        values, column = BAD_VALUES[kind]
        record.update({c: draw(st.sampled_from(v)) for c, v in values.items()})
        return Row(record, "rejected", column)
    raw = _raw(record)
    raw = [*raw, "stray"] if draw(st.booleans()) else raw[: draw(st.integers(3, len(raw) - 1))]
    return Row(",".join(raw), "rejected", "row")


@st.composite
def uploads(draw: st.DrawFn) -> list[Row]:
    rows: list[Row] = []
    good: list[dict[str, str]] = []
    for i in range(draw(st.integers(1, 30))):
        kind = draw(st.sampled_from(["good", "good", "bad", "dup"] if good else ["good", "bad"]))
        if kind == "good":
            record = draw(good_rows(i))
            good.append(record)
            rows.append(Row(record, "accepted"))
        elif kind == "bad":
            rows.append(draw(bad_row(i)))
        else:
            original = draw(st.sampled_from(good))
            ways = ["same", "key", "content"] if original["event_id"] else ["same", "status"]
            how = draw(st.sampled_from(ways))
            copy = dict(original)
            if how == "key":  # same source and event id, other content
                copy["description"] = original["description"] + " (corrected)"
                copy["fatalities"] = "7"
            elif how == "status":  # no event id: the same content (the status is not content) is a duplicate
                copy["verification"] = "verified"
            elif how == "content":  # the same content under another id: another event, flagged
                copy["event_id"] = f"OTHER-{i}"
                copy["verification"] = "verified"
                rows.append(Row(copy, "accepted", lookalike=True))
                continue
            rows.append(Row(copy, "duplicate"))
    return rows


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=uploads())
def test_every_row_is_accounted_for_and_nothing_doubles(rows: list[Row], scenario_db: Path) -> None:
    text, lines = template_text([r.record for r in rows])
    with tempfile.TemporaryDirectory() as tmp:
        db, csv = Path(tmp) / "store.db", Path(tmp) / "upload.csv"
        shutil.copyfile(scenario_db, db)
        csv.write_text(text, encoding="utf-8")
        store = open_store(f"sqlite:///{db}")
        try:
            before = store.count()
            first = ingest_file(store, csv, now=NOW)

            expected = {b: sum(r.bucket == b for r in rows) for b in ("accepted", "rejected", "duplicate")}
            assert first.rows_read == len(rows)
            assert first.accepted + first.rejected + first.duplicate == first.rows_read
            assert (first.accepted, first.rejected, first.duplicate) == (
                expected["accepted"],
                expected["rejected"],
                expected["duplicate"],
            ), text
            assert store.count() == before + first.accepted
            assert first.lookalikes == sum(r.lookalike for r in rows)
            assert len(store.links(kind="same_source_lookalike")) == first.lookalikes

            rejected = store.rejected_rows(first.batch_id)
            bad = [(line, r) for line, r in zip(lines, rows, strict=True) if r.bucket == "rejected"]
            assert rejected["line_no"].tolist() == [line for line, _ in bad]
            for reason, (_, row) in zip(rejected["reason"], bad, strict=True):
                assert reason.startswith(f"{row.reason}:"), (reason, row)
            assert rejected["raw"].str.len().gt(0).all()

            batch = store.batch(first.batch_id)
            assert (batch.rows_read, batch.accepted, batch.rejected, batch.duplicate) == (
                first.rows_read,
                first.accepted,
                first.rejected,
                first.duplicate,
            )

            again = ingest_file(store, csv, now=NOW)
            assert again.accepted == 0
            assert (again.rows_read, again.rejected) == (first.rows_read, first.rejected)
            assert again.duplicate == first.accepted + first.duplicate
            assert store.count() == before + first.accepted
        finally:
            store.close()
