"""The dashboard's own helpers: markdown-inert text, missing values, zero-filled series, the frozen heap."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from dashboard.common import md, number, text
from dashboard.frames import zero_filled
from tests.dashboard.support import REPO


@pytest.mark.parametrize(
    "raw",
    [
        "[link](https://evil.example)",
        "**bold** _it_ `code` $x^2$ ~~strike~~",
        "<script>alert(1)</script> <img src=x onerror=alert(1)>",
        "# heading\n- item\n> quote | table |",
        ":red[colour] :material/warning: &amp; &#60;",
        "a\\b\\\\c",
    ],
)
def test_md_escapes_every_markdown_construct_and_round_trips(raw: str) -> None:
    out = md(raw)
    assert "\n" not in out
    assert re.sub(r"\\(.)", r"\1", out) == raw.replace("\n", " ")  # what a reader sees
    for special in "[]()*_`$<>#|~:&":
        assert all(out[i - 1] == "\\" for i, ch in enumerate(out) if ch == special), (special, out)


def test_text_and_number_treat_every_missing_value_alike() -> None:
    for missing in (None, np.nan, pd.NA, pd.NaT, float("nan")):
        assert text(missing) == "—"
        assert number(missing) is None
    assert text("") == "—"
    assert text("", "") == ""
    assert text("x") == "x"
    assert number(pd.array([3], dtype="Int64")[0]) == 3.0


def test_zero_filled_puts_empty_periods_back() -> None:
    series = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-01-01", "2026-01-04", "2026-01-02"], utc=True),
            "series": ["a", "a", "b"],
            "count": [1, 2, 3],
        }
    )
    out = zero_filled(series, "day").set_index(["series", "period"])["count"]
    assert len(out) == 8  # 2 series x 4 days
    assert out[("a", pd.Timestamp("2026-01-02", tz="UTC"))] == 0
    assert out[("a", pd.Timestamp("2026-01-04", tz="UTC"))] == 2
    assert out.sum() == 6
    weekly = pd.DataFrame(
        {
            "period": pd.to_datetime(["2026-01-05", "2026-01-26"], utc=True),
            "series": ["a", "a"],
            "count": [4, 1],
        }
    )
    assert zero_filled(weekly, "week")["count"].tolist() == [4, 0, 0, 1]


FREEZES = """
import gc, json, sys, types
from dashboard.common import freeze_imports
freeze_imports()  # what this process loaded so far
frozen = [gc.get_freeze_count()]
kept = [[] for _ in range(1000)]  # objects made by the next "page run"
freeze_imports()  # no module loaded since
frozen.append(gc.get_freeze_count())
sys.modules["truceline_test_page"] = types.ModuleType("truceline_test_page")
freeze_imports()  # a module loaded since
frozen.append(gc.get_freeze_count())
print(json.dumps(frozen))
"""


def test_the_heap_is_frozen_after_a_run_that_loaded_modules_and_only_then() -> None:
    # In a process of its own: a test worker's other threads import and free as they go.
    done = subprocess.run(
        [sys.executable, "-c", FREEZES], cwd=REPO, capture_output=True, text=True, check=True, timeout=120
    )
    first, unchanged, loaded = json.loads(done.stdout)
    assert unchanged == first  # no module loaded: nothing more is frozen
    assert loaded >= first + 1000  # a module loaded: what exists now, the 1,000 lists too, is frozen
