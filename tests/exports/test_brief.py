"""The PDF briefing: real text, KPI figures checked against the view, banner, scripts, fonts."""

from __future__ import annotations

import dataclasses
import io
import itertools
import re
import unicodedata

import pandas as pd
import pytest
from pypdf import PdfReader

from geo.core.filters import Filters
from geo.render.pdf import history_since, key_period, render_briefing_pdf
from tests.exports.conftest import AS_OF, incident_rows, mdl_point, to_view

SINCE = AS_OF - pd.Timedelta(days=14)
FILTERS = Filters(since=SINCE)
NAMES = {"korean": "판문점 공동경비구역", "arabic": "القنيطرة", "cyrillic": "Дебальцево"}


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    """Text without whitespace, in NFKC (Arabic presentation forms become letters).

    pypdf puts a NUL and a space between the glyphs of the (CFF) Hangul font, though the
    font's ToUnicode map is right (pdftotext reads "판문점"); both are dropped here.
    """
    return re.sub(r"[\s\x00]+", "", unicodedata.normalize("NFKC", text))


def numbers_in_row(text: str, label: str) -> list[int]:
    """The integers of the table row starting with ``label`` (percentages left out)."""
    rows = [ln for ln in text.splitlines() if ln.strip().startswith(label)]
    assert len(rows) == 1, (label, rows)
    row = re.sub(r"\((?:[+-]?\d+%|new)\)", " ", rows[0][len(label) :])
    row = re.sub(r"^[^\d+-]*\)", " ", row)  # the rest of a name in brackets, e.g. the Korean name
    return [int(n.replace(",", "")) for n in re.findall(r"[+-]?\d[\d,]*", row)]


def independent_counts(view: pd.DataFrame, mask: pd.Series) -> list[int]:
    """[breaches, previous, change, possible, previous, change], counted straight from the view."""
    t = pd.to_datetime(view["occurred_at"], utc=True)
    length = AS_OF - SINCE
    now = (t >= SINCE) & (t < AS_OF)
    before = (t >= SINCE - length) & (t < SINCE)
    verdict = view["verdict"].astype(str)
    out = []
    for v in ("breach", "possible_breach"):
        last = int((mask & now & (verdict == v)).sum())
        prev = int((mask & before & (verdict == v)).sum())
        out += [last, prev, last - prev]
    return out


@pytest.fixture(scope="module")
def demo_pdf(demo_full, scenario):
    view = FILTERS.apply(demo_full)
    history = FILTERS.with_(since=history_since(FILTERS, AS_OF)).apply(demo_full)
    return render_briefing_pdf(view, scenario, filters=FILTERS, as_of=AS_OF, history=history, dpi=150)


def test_pdf_has_map_figures_and_breach_pages(demo_pdf):
    reader = PdfReader(io.BytesIO(demo_pdf))
    assert len(reader.pages) >= 3
    assert reader.pages[0].images, "page 1 holds the map image"
    text = pages_text(demo_pdf)
    assert "Briefing: Korean Peninsula" in text[0]
    assert "Key figures" in text[1]
    assert "Spike alerts" in "".join(text[1:3])
    assert any("Breaches in the window" in t for t in text[2:])
    assert reader.metadata.title.startswith("Briefing:")


def test_every_page_has_banner_as_of_and_page_number(demo_pdf):
    text = pages_text(demo_pdf)
    for i, page in enumerate(text, start=1):
        assert "SYNTHETIC DEMO DATA" in page, i
        assert "Data as of 2025-07-01 00:00 UTC" in page, i
        assert f"Page {i} of {len(text)}" in page, i
        assert "2025-06-17 00:00 UTC to now" in page, i  # the window, in the footer


def test_party_kpis_match_the_view(demo_pdf, demo_full, scenario):
    text = pages_text(demo_pdf)[1]
    party = demo_full["attributed_party"].astype(str)
    for p in scenario.parties:
        expected = independent_counts(demo_full, party == p.id)
        assert expected[0] > 0 and expected[1] > 0 and expected[0] != expected[1]
        label = p.name.split("(")[0].strip()
        assert numbers_in_row(text, label) == expected, p.id
    total = independent_counts(demo_full, party != "")
    assert numbers_in_row(text, "All parties") == total


def test_zone_kpis_match_the_view(demo_pdf, demo_full):
    text = pages_text(demo_pdf)[1]
    in_dmz = demo_full["zones"].astype(str).str.split(";").apply(lambda z: "dmz" in z)
    expected = independent_counts(demo_full, in_dmz)
    assert expected[0] > 0
    assert numbers_in_row(text, "Demilitarized Zone") == expected


def test_breach_count_is_stated(demo_pdf, demo_full):
    t = pd.to_datetime(demo_full["occurred_at"], utc=True)
    n = int(((t >= SINCE) & (t < AS_OF) & (demo_full["verdict"].astype(str) == "breach")).sum())
    assert n > 10
    text = " ".join(pages_text(demo_pdf)[2:])
    assert f"All {n:,} breaches, most recent first." in text


def test_breach_table_is_capped_and_says_so(demo_full, scenario):
    view = FILTERS.apply(demo_full)
    n = int((view["verdict"].astype(str) == "breach").sum())
    pdf = render_briefing_pdf(view, scenario, filters=FILTERS, as_of=AS_OF, max_rows=3, dpi=150)
    text = " ".join(pages_text(pdf))
    assert f"The 3 most recent of {n:,} breaches" in text
    newest = view[view["verdict"].astype(str) == "breach"].sort_values("occurred_at").iloc[-1]
    assert newest["source_event_id"] in squash(text)


def test_without_history_previous_period_is_not_invented(demo_full, scenario):
    view = FILTERS.apply(demo_full)
    pdf = render_briefing_pdf(view, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    text = " ".join(pages_text(pdf)[1:])
    assert "previous period is not available" in text
    assert "n/a" in text
    assert "Not computed" in text


def test_not_synthetic_means_no_banner(one_breach, scenario):
    real = dataclasses.replace(scenario, synthetic=False)
    pdf = render_briefing_pdf(one_breach, real, filters=FILTERS, as_of=AS_OF, dpi=150)
    assert "SYNTHETIC" not in " ".join(pages_text(pdf))
    assert "Cheorwon" in " ".join(pages_text(pdf))


def scripts_view(scenario):
    rows = []
    for i, (key, name) in enumerate(NAMES.items()):
        lon, lat = mdl_point(scenario, 0.2 + 0.2 * i, north_m=800.0)
        rows.append({"lon": lon, "lat": lat, "location_name": name, "source_event_id": f"S-{key}"})
    view = to_view(incident_rows(rows), scenario)
    assert (view["verdict"].astype(str) == "breach").all()
    return view


def test_korean_arabic_cyrillic_names_come_back_as_text(scenario):
    pdf = render_briefing_pdf(scripts_view(scenario), scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    text = squash(" ".join(pages_text(pdf)))
    for key, name in NAMES.items():
        assert squash(name) in text, key
    assert squash("조선인민군") in text  # a party name, in the key figures


def test_fonts_for_the_scripts_are_embedded(scenario):
    pdf = render_briefing_pdf(scripts_view(scenario), scenario, filters=FILTERS, as_of=AS_OF, dpi=150)
    fonts = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        for font in page["/Resources"]["/Font"].values():
            obj = font.get_object()
            descendants = obj.get("/DescendantFonts")
            desc = (descendants[0].get_object() if descendants else obj).get("/FontDescriptor")
            assert desc is not None and any(k in desc.get_object() for k in ("/FontFile2", "/FontFile3")), obj
            fonts.add(str(obj["/BaseFont"]))
    families = {f.split("+")[-1] for f in fonts}
    assert families == {"NotoSans", "NotoSansBold", "NotoSansCJKKR", "NotoSansArabic"}


def test_key_period_and_history_window():
    period = key_period(FILTERS, AS_OF)
    assert (period.start, period.end) == (SINCE, AS_OF)
    assert period.previous_start == SINCE - pd.Timedelta(days=14)
    assert history_since(FILTERS, AS_OF) == AS_OF - pd.Timedelta(days=35)
    assert key_period(Filters(), AS_OF).start == AS_OF - pd.Timedelta(days=7)
    capped = key_period(Filters(since=SINCE, until=AS_OF + pd.Timedelta(days=3)), AS_OF)
    assert capped.end == AS_OF
    with pytest.raises(ValueError, match="empty"):
        key_period(Filters(since=AS_OF + pd.Timedelta(days=1)), AS_OF)


def test_empty_view_still_makes_a_briefing(one_breach, scenario):
    empty = one_breach.iloc[:0]
    pdf = render_briefing_pdf(empty, scenario, filters=FILTERS, as_of=AS_OF, history=empty, dpi=150)
    text = " ".join(pages_text(pdf))
    assert "No breaches in the window." in text
    assert "0 incidents: 0 breaches" in text
    assert numbers_in_row(pages_text(pdf)[1], "All parties") == [0, 0, 0, 0, 0, 0]


def test_spike_alerts_list_a_rising_zone(scenario):
    lon, lat = mdl_point(scenario, 0.5, north_m=700.0)
    weeks = [AS_OF - pd.Timedelta(days=7 * k + 3) for k in range(1, 5)]  # one a week, 4 weeks before
    burst = [AS_OF - pd.Timedelta(hours=6 * k + 1) for k in range(10)]  # ten in the last 7 days
    rows = [{"lon": lon, "lat": lat, "occurred_at": t} for t in weeks + burst]
    history = to_view(incident_rows(rows), scenario)
    assert (history["verdict"].astype(str) == "breach").all()
    view = FILTERS.apply(history)
    pdf = render_briefing_pdf(view, scenario, filters=FILTERS, as_of=AS_OF, history=history, dpi=150)
    text = " ".join(pages_text(pdf)[1:3])
    spike_rows = [ln for ln in text.splitlines() if ln.startswith("SPIKE Demilitarized Zone")]
    assert len(spike_rows) == 1, text
    assert re.search(r"\b10 1\.0 \+900%", spike_rows[0]), spike_rows[0]
    assert "No spikes" not in text


def test_two_sources_reporting_one_breach_count_once(one_breach, scenario):
    """Linked reports of one event (the store's duplicate group) are one breach in the briefing."""
    first = one_breach.assign(duplicate_group=1, duplicate_unit=1, source="team-a")
    second = first.assign(incident_id=2, duplicate_unit=2, source="team-b", source_event_id="B-1")
    view = pd.concat([first, second], ignore_index=True)
    text = " ".join(pages_text(render_briefing_pdf(view, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)))
    assert "All 1 breaches, most recent first." in text
    apart = view.assign(duplicate_group=[1, 2])  # not linked: two events
    text = " ".join(pages_text(render_briefing_pdf(apart, scenario, filters=FILTERS, as_of=AS_OF, dpi=150)))
    assert "All 2 breaches, most recent first." in text


@pytest.mark.parametrize(
    ("start", "end", "first", "step", "label"),
    [  # over a month's end; over years (labelled by month and year)
        ("2026-10-28", "2026-12-02 07:57", "2026-10-29", pd.Timedelta(days=4), "29 oct."),
        ("2024-01-01", "2026-12-02", "2024-01-01", pd.DateOffset(months=4), "janv. 2024"),
    ],
)
def test_the_trend_axis_ticks_are_evenly_spaced_and_say_enough(start, end, first, step, label) -> None:
    """No tick on a month's first day two days after the 29th; over years, each label has its year."""
    from matplotlib import dates as mdates

    from geo.i18n import use_language
    from geo.render.pdf.chart import MOST_TICKS, date_ticks

    lo, hi = pd.Timestamp(start, tz="UTC"), pd.Timestamp(end, tz="UTC")
    locator, name = date_ticks(lo, hi)
    values = locator.tick_values(lo.to_pydatetime(), hi.to_pydatetime())
    ticks = [t for t in (pd.Timestamp(mdates.num2date(x)) for x in values) if lo <= t <= hi]
    assert 4 <= len(ticks) <= MOST_TICKS
    assert ticks[0] == pd.Timestamp(first, tz="UTC")
    assert all(b == a + step for a, b in itertools.pairwise(ticks))
    with use_language("fr"):
        assert name(ticks[0]) == label
