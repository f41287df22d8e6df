"""docs/incident-formats.md documents every column of every format, and every mapping key."""

from __future__ import annotations

import re

import pytest

from geo.io.readers import acled, header, mapped, template, ucdp
from tests.readers.readers_support import ROOT

DOC = (ROOT / "docs" / "incident-formats.md").read_text(encoding="utf-8")
DOCUMENTED = set(re.findall(r"`([a-z_0-9]+)`", DOC))


@pytest.mark.parametrize(("what", "names"), [
    ("template", template.COLUMNS + template.EXTRA_COLUMNS),
    ("ACLED 2023", acled.COLUMNS_2023),
    ("ACLED before 2023", acled.COLUMNS_PRE_2023),
    ("UCDP GED", ucdp.COLUMNS),
    ("mapping options", mapped.OPTIONS),
])
def test_every_column_is_documented(what, names):
    missing = sorted(set(names) - DOCUMENTED)
    assert not missing, f"{what}: not in docs/incident-formats.md: {missing}"


def test_mapping_tables_are_documented():
    for table in ("[columns]", "[options]", "[defaults]", "[values.<field>]"):
        assert f"`{table}`" in DOC


def test_the_documented_column_orders_match_the_code():
    flat = re.sub(r"\s+", " ", DOC)
    for names in (acled.COLUMNS_2023, acled.COLUMNS_PRE_2023, ucdp.COLUMNS):
        assert ", ".join(f"`{n}`" for n in names) in flat


def test_header_of_an_unknown_layout():
    assert header(b"\xef\xbb\xbfReport No; Date ;Lat\n1;2;3\n") == ["Report No", "Date", "Lat"]
