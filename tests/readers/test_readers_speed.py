"""Reading a large house-template file: every row, in chunks, and how fast, with ISO 8601 dates
and with a spreadsheet's.

The timing test is a ``benchmark`` (left out of the default run); to measure the 1M-row
figure::

    TRUCELINE_READER_ROWS=1000000 python -m pytest -m benchmark tests/readers/test_readers_speed.py -s
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geo.io.readers import read_incidents
from tests.readers.readers_support import NOW

ROWS = int(os.environ.get("TRUCELINE_READER_ROWS", "200000"))
BUDGET_S_PER_MILLION = 8.0


DATE_STYLES = {"ISO 8601": "%Y-%m-%dT%H:%M:%SZ", "m/d/Y h:mm:ss AM/PM": "%-m/%-d/%Y %-I:%M:%S %p"}


def write_template(path: Path, n: int, dates: str = "%Y-%m-%dT%H:%M:%SZ") -> None:
    """A realistic template file: multilingual text, quoted commas, some line breaks in quotes."""
    rng = np.random.default_rng(0)
    when = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 300 * 86400, n), unit="s")
    texts = np.array(["Shots heard near guard post, two bursts", "Shelling reported; 3 rounds",
                      "Drone sighted over the line", "Патруль замечен у линии",
                      "دورية شوهدت قرب الخط",
                      "포격 소리 2회", "Line one\nline two"], dtype=object)
    pd.DataFrame({
        "event_id": np.char.mod("MON-%07d", np.arange(n)),
        "occurred_at": when.strftime(dates),
        "lat": np.round(rng.uniform(37.8, 38.7, n), 5),
        "lon": np.round(rng.uniform(126.7, 128.4, n), 5),
        "category": rng.choice(np.array(["small_arms_fire", "artillery_fire", "drone_activity",
                                         "construction"]), n),
        "actor": rng.choice(np.array(["KPA", "ROK Army", "Unknown", "조선인민군 제2군단"]), n),
        "party": rng.choice(np.array(["north", "south", ""]), n),
        "location_precision": rng.choice(np.array(["exact", "near", "area"]), n),
        "location_uncertainty_m": np.where(rng.random(n) < 0.3, "250", ""),
        "fatalities": rng.poisson(0.3, n),
        "verification": rng.choice(np.array(["reported", "verified", "disputed"]), n),
        "source": "monitor-team-a",
        "description": texts[rng.choice(len(texts), n, p=[0.2, 0.2, 0.2, 0.15, 0.15, 0.09, 0.01])],
    }).to_csv(path, index=False)


def test_a_realistic_template_file_reads_every_row_across_chunks(tmp_path):
    path = tmp_path / "realistic.csv"
    write_template(path, 3000)
    party_mapping = [("KPA", "iexact", "north"), ("ROK Army", "iexact", "south")]
    chunks = list(read_incidents(path, now=NOW, party_mapping=party_mapping, chunk_rows=1000))
    assert [c.rows_read for c in chunks] == [1000, 1000, 1000]
    assert sum(len(c.frame) for c in chunks) == 3000
    assert all(c.rejected.empty for c in chunks)
    ids = pd.concat([c.frame["source_event_id"] for c in chunks])
    assert ids.tolist() == [f"MON-{i:07d}" for i in range(3000)]


@pytest.mark.benchmark
@pytest.mark.parametrize("style", list(DATE_STYLES))
def test_large_template_file_reads_within_budget(tmp_path, style):
    path = tmp_path / "large.csv"
    write_template(path, ROWS, DATE_STYLES[style])
    party_mapping = [("KPA", "iexact", "north"), ("ROK Army", "iexact", "south")]
    start = time.perf_counter()
    accepted = rows = chunks = 0
    for chunk in read_incidents(path, now=NOW, party_mapping=party_mapping):
        accepted += len(chunk.frame)
        rows += chunk.rows_read
        chunks += 1
    elapsed = time.perf_counter() - start
    budget = BUDGET_S_PER_MILLION * ROWS / 1e6 + 2.0
    size = path.stat().st_size / 1e6
    print(f"\n{ROWS} rows ({size:.0f} MB, {style} dates) in {elapsed:.2f} s, {chunks} chunks")
    assert rows == accepted == ROWS
    assert elapsed < budget, f"{ROWS} rows took {elapsed:.1f} s (budget {budget:.1f} s)"
