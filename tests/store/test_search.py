"""The text filter finds the same incidents in memory, on SQLite and on PostGIS, in any script.

Full Unicode case folding (``str.casefold``), ``%``, ``_`` and ``\\`` taken literally, and a
match inside one field (description or actor), never across the two. Every expected set is
written by hand.
"""

from __future__ import annotations

import pandas as pd
import psycopg
import pytest

from geo.core.filters import Filters, fold
from geo.services.ingest import ingest_frame, load_scenario_into_store
from geo.store import open_store
from tests.helpers import hand_incidents

TEXTS = {
    "RU-1": ("Вооружённые формирования обстреляли пост", ""),
    "RU-2": ("ВООРУЖЁННЫЕ ГРУППЫ У ЛИНИИ", ""),
    "DE-1": ("Maßnahmen an der Straße", "Bundeswehr"),
    "DE-2": ("STRASSE gesperrt", ""),
    "AR-1": ("دورية شوهدت قرب الخط", ""),
    "KO-1": ("포격 소리 2회", "조선인민군 제2군단"),
    "PCT": ("100% of the post destroyed", ""),
    "TEN": ("10 percent of the post", ""),
    "UND": ("under_score in a name", ""),
    "A_B": ("seen at a_b", ""),
    "AXB": ("seen at axb", ""),
    "BSL": ("path C:\\posts\\north", ""),
    "LIG": ("ﬁre at the post", ""),  # the ligature ﬁ folds to "fi"
    "SPLIT": ("north", "gate guards"),
}
SEARCHES = {
    "вооружённые": {"RU-1", "RU-2"},
    "ВООРУЖЁННЫЕ": {"RU-1", "RU-2"},
    "STRASSE": {"DE-1", "DE-2"},
    "straße": {"DE-1", "DE-2"},
    "bundeswehr": {"DE-1"},
    "دورية": {"AR-1"},
    "포격": {"KO-1"},
    "조선인민군": {"KO-1"},
    "100%": {"PCT"},
    "0%": {"PCT"},
    "%": {"PCT"},
    "_": {"UND", "A_B"},
    "a_b": {"A_B"},
    "\\": {"BSL"},
    "\\north": {"BSL"},
    "FIRE": {"LIG"},
    "north gate": set(),  # the description ends in "north", the actor starts with "gate"
    "GATE": {"SPLIT"},
    "no such text": set(),
}


@pytest.fixture(scope="module")
def stores(request, tmp_path_factory, demo_scenario):
    """The same incidents in a SQLite store and, where PostgreSQL is installed, a PostGIS store."""
    now = pd.Timestamp("2026-06-01T12:00:00Z")
    rows = hand_incidents(
        [
            {"source_event_id": key, "description": text, "actor": actor, "lon": 127.0 + i / 100, "lat": 38.0}
            for i, (key, (text, actor)) in enumerate(TEXTS.items())
        ],
        now=now,
    )
    urls = {"sqlite": f"sqlite:///{tmp_path_factory.mktemp('search') / 'store.db'}"}
    try:
        server = request.getfixturevalue("postgis_server_url")
    except pytest.skip.Exception:
        server = None
    if server:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
            conn.execute('DROP DATABASE IF EXISTS "t_search"')
            conn.execute('CREATE DATABASE "t_search"')
        urls["postgis"] = f"{server}/t_search"
    opened = {}
    for name, url in urls.items():
        store = opened[name] = open_store(url)
        load_scenario_into_store(store, demo_scenario)
        ingest_frame(store, rows, name="texts.csv")
    yield opened
    for store in opened.values():
        store.close()


@pytest.mark.parametrize("needle", list(SEARCHES))
def test_the_same_search_finds_the_same_incidents_everywhere(stores, needle):
    found = {}
    everything = stores["sqlite"].query()
    found["memory"] = set(Filters(text=needle).apply(everything)["source_event_id"])
    for name, store in stores.items():
        found[name] = set(store.query(Filters(text=needle), columns=["source_event_id"])["source_event_id"])
        assert store.count(Filters(text=needle)) == len(SEARCHES[needle])
    assert found == dict.fromkeys(found, SEARCHES[needle])
    if "postgis" not in stores:
        pytest.skip("PostGIS is not installed here: memory and SQLite agree")


@pytest.mark.parametrize("dtype", ["str", object, "category"])
def test_fold_is_casefold_for_any_text_column(dtype):
    words = ["Straße", "ABC", None, "ВООРУЖЁННЫЕ", "ﬁre", "İstanbul", "ǅ", "plain ascii"]
    parts = [pd.Series(words[:3], dtype=dtype), pd.Series(words[3:], dtype=dtype)]
    values = pd.concat(parts, ignore_index=True)  # Arrow-backed text is then in two chunks
    assert fold(values).tolist() == [("" if w is None else w.casefold()) for w in words]
    assert fold(values.iloc[5:]).index.tolist() == [5, 6, 7]
