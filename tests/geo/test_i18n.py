"""Issue 11: the language of a page (URL, saved preference, browser), locale formatting, translated names."""

from __future__ import annotations

import runpy
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from geo import load_scenario
from geo.core.auth import Principal
from geo.core.localized import localized
from geo.i18n import _, accepted, choose, digits, is_rtl, number, set_digits, use_language, when
from geo.labels import category, status, verdict
from geo.services.ingest import STAGES, stage_words
from geo.services.preferences import get_preference, set_preference
from geo.store import open_store

REPO = Path(__file__).resolve().parents[2]
LEBANON = REPO / "data" / "scenarios" / "lebanon-2024" / "lebanon-2024.toml"


@pytest.mark.parametrize(
    ("url", "saved", "browser", "expected"),
    [
        ("ar", "fr", "fr-FR,fr;q=0.9", "ar"),  # the URL first
        (None, "fr", "ar", "fr"),  # then the saved preference
        ("xx", "fr", "ar", "fr"),  # an unknown URL value is ignored
        (None, None, "de-DE,ar;q=0.8,fr;q=0.9", "fr"),  # the browser's best language Truceline speaks
        (None, None, "fr-CA", "fr"),  # a region is dropped
        (None, "", "ar-LB;q=0.5,en;q=0.4", "ar"),
        (None, None, "de, ja", "en"),  # nothing it speaks: English
        (None, None, None, "en"),
        (None, None, "ar;q=0", "en"),  # q=0: not this one
        ("AR", None, None, "ar"),
    ],
)
def test_language_resolution_order(
    url: str | None, saved: str | None, browser: str | None, expected: str
) -> None:
    assert choose(url, saved, browser) == expected


def test_accept_language_ranks_by_weight_then_order() -> None:
    assert accepted("en;q=0.2, fr;q=0.9, ar") == ["ar", "fr", "en"]
    assert accepted("fr, fr-CH;q=0.8, xx, ar;q=bad") == ["fr"]


def test_numbers_follow_the_locale_and_the_digit_setting() -> None:
    with use_language("fr"):
        assert number(12345.5, decimals=1) == "12\u202f345,5"
    with use_language("en"):
        assert number(12345.5, decimals=1) == "12,345.5"
    with use_language("ar"):
        set_digits("latn")
        assert number(12345) == "12,345"
        set_digits("arab")
        assert digits() == "arab"
        assert number(12345.5, decimals=1) == "١٢٬٣٤٥٫٥"
        assert when(datetime(2026, 11, 27, 13, 5, tzinfo=UTC), style="iso") == "٢٠٢٦-١١-٢٧ ١٣:٠٥ UTC"
        set_digits("latn")
    with use_language("fr"):
        set_digits("arab")  # Eastern Arabic digits are an Arabic setting: French keeps its own
        assert number(7) == "7"
        set_digits("latn")


def test_dates_are_written_the_locale_s_way() -> None:
    at = datetime(2026, 11, 27, 13, 5, tzinfo=UTC)
    with use_language("fr"):
        assert when(at) == "27 nov. 2026, 13:05:00 UTC"
        assert when(date(2026, 11, 27)) == "27 nov. 2026"
    with use_language("en"):
        assert when(at, style="iso") == "2026-11-27 13:05 UTC"
    with use_language("ar"):
        assert "2026" in when(at) and when(at).endswith("UTC")


def test_chart_axis_dates_are_utc_days_and_months_in_the_language() -> None:
    from geo.localize import month_day, month_year, use_digits

    late = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # still November in UTC, December in Beirut
    beirut = late.astimezone(ZoneInfo("Asia/Beirut"))
    with use_language("en"):
        assert (month_day(beirut), month_year(beirut)) == ("11-30", "2026-11")
    with use_language("fr"):
        assert (month_day(beirut), month_year(beirut)) == ("30 nov.", "nov. 2026")
    with use_language("ar"), use_digits("arab"):
        assert (month_day(beirut), month_year(beirut)) == ("٣٠ نوفمبر", "نوفمبر ٢٠٢٦")


def test_table_times_are_utc_to_the_second_in_western_digits() -> None:
    import pandas as pd

    from geo.localize import table_times, use_digits

    times = pd.Series([pd.Timestamp("2026-12-02 09:43:45", tz="Asia/Beirut"), pd.NaT])
    with use_language("fr"):
        assert table_times(times).tolist() == ["2026-12-02 07:43:45 UTC", ""]
    with use_language("ar"), use_digits("arab"):  # data table cells keep 0-9, as identifiers do
        assert table_times(times).tolist() == ["2026-12-02 07:43:45 UTC", ""]


def test_direction() -> None:
    assert is_rtl("ar") and not is_rtl("fr") and not is_rtl("en")
    with use_language("ar"):
        assert is_rtl()


def test_vocabulary_labels_are_translated() -> None:
    with use_language("fr"):
        assert verdict("possible_breach") == "Violation possible"
        assert category("artillery_fire") == "Tirs d'artillerie"
        assert status("disputed") == "Contesté"
    with use_language("ar"):
        assert verdict("breach") == "خرق"
        assert _("Live map") == "الخريطة المباشرة"


def test_progress_stages_are_told_in_the_reader_s_language() -> None:
    # Every stage an upload, its check or a reclassification reports (geo.services.ingest).
    stages = (
        "starting", "detecting", "checking", "read", "stored", "committing", "unchanged", "reclassified"
    )  # fmt: skip
    assert set(STAGES) == set(stages)
    english = [stage_words(s) for s in stages]
    assert english[4] == "rows stored" and len(set(english)) == len(stages)
    for code in ("ar", "fr"):
        with use_language(code):
            assert all(stage_words(s) != e for s, e in zip(stages, english, strict=True)), code
    with use_language("fr"):
        assert stage_words("stored") == "lignes enregistrées"
        assert stage_words("some new stage") == "some new stage"  # shown as it is, not lost


def test_vocabulary_module_lists_every_palette_and_category_text() -> None:
    """geo/labels.py must mark each text the palette and categories.toml show, or it goes untranslated."""
    from geo.core.categories import vocabulary
    from geo.render import palette as pal

    listed = set(runpy.run_path(str(REPO / "geo" / "labels.py"))["PALETTE"]) | set(
        runpy.run_path(str(REPO / "geo" / "labels.py"))["CATEGORIES"]
    )
    vocab = vocabulary()
    wanted = {*pal.VERDICT_LABELS.values(), *pal.VERDICT_PLURALS.values(), pal.LEGEND_TITLE, pal.LEGEND_LINE}
    wanted |= {pal.zone_kind_label(k) for k in pal.ZONE_STYLES}
    wanted |= set(vocab.labels.values()) | set(vocab.descriptions.values())
    assert wanted <= listed, sorted(wanted - listed)


def test_scenario_names_and_quotes_come_in_the_chosen_language() -> None:
    scen = load_scenario(LEBANON)
    ar = localized(scen, "ar")
    assert ar.name.startswith("لبنان")
    assert {p.short_name for p in ar.parties} >= {"حزب الله", "إسرائيل"}
    assert "جنوب الليطاني" in ar.zone("south-litani").name
    assert ar.rule("south-litani-state-forces-only").text.startswith("وقف الأعمال العدائية")
    assert [z.geometry for z in ar.zones] == [z.geometry for z in scen.zones]  # only the words change
    assert localized(scen, None) is scen
    assert localized(scen, "ru").name == scen.name  # no Russian in the manifest: as written


def test_a_user_saves_their_own_language_and_digits(tmp_path: Path) -> None:
    store = open_store(str(tmp_path / "prefs.db"))
    try:
        ana = Principal("ana", "viewer")  # any signed-in user, not only admins
        assert get_preference(store, "ana", "language") is None
        set_preference(store, ana, "language", "ar")
        set_preference(store, ana, "digits", "arab")
        assert get_preference(store, "ana", "language") == "ar"
        assert get_preference(store, "ana", "digits") == "arab"
        assert get_preference(store, "vic", "language") is None  # one user's choice is theirs alone
        with pytest.raises(ValueError, match="language"):
            set_preference(store, ana, "language", "xx")
        audit = store.frame("SELECT action, target FROM audit_log WHERE action = 'preference'")
        assert sorted(audit["target"]) == ["ana:digits", "ana:language"]
    finally:
        store.close()


def test_map_controls_and_legend_move_to_the_other_side_in_arabic() -> None:
    from geo.render.webmap import base_map

    scen = load_scenario(LEBANON)
    with use_language("fr"):
        html = base_map(scen).get_root().render()
        assert '"bottomright"' in html and "Légende" in html
    with use_language("ar"):
        m = base_map(scen)
        html = m.get_root().render()
        assert '"bottomleft"' in html and '"bottomright"' not in html  # the legend
        assert "direction: rtl" in html
        assert (
            "مفتاح الخريطة" in html and "جنوب الليطاني" not in html
        )  # the base map keeps the names it is given
        assert m.options.get("zoomControl") == "topright" or '"topright"' in html
