"""The dashboard with several scenarios in one store: the picker, the URL, and who may see which."""

from __future__ import annotations

import pytest

from geo.core.auth import Principal
from geo.services.accounts import add_user, grant_scenario
from geo.services.packs import load_pack
from geo.store import open_store
from tests.dashboard.support import ADMIN, PASSWORD, all_text, app, match_count, metrics

LEILA = Principal("leila", "viewer")


@pytest.fixture
def three(db: str) -> str:
    """The seeded Korean store ("default"), plus lebanon-2024 (149 + 20) and libya-2020 (50)."""
    store = open_store(db)
    load_pack(store, "lebanon-2024", n=20)
    load_pack(store, "libya-2020", n=50)
    add_user(store, LEILA.name, LEILA.role, PASSWORD)
    grant_scenario(store, LEILA.name, "lebanon-2024", "viewer")
    store.close()
    return db


def test_the_url_opens_the_scenario_it_names(three):
    at = app(ADMIN, query_params={"scenario": "libya-2020", "window": "all"})
    assert not at.exception, at.exception
    assert match_count(at) == 50
    assert "Synthetic demo data" in all_text(at) and "ILLUSTRATIVE" in all_text(at)
    at = app(ADMIN, query_params={"scenario": "lebanon-2024", "window": "all"})
    assert match_count(at) == 169
    assert "Real and synthetic data" in all_text(at) and "not the UN Blue Line" in all_text(at)


def test_the_picker_switches_scenario_and_puts_it_in_the_url(three):
    at = app(ADMIN, query_params={"window": "all"})
    picker = at.sidebar.selectbox(key="scenario_pick")
    assert [o.split(":")[0] for o in picker.options] == ["Korean Peninsula", "Lebanon", "Libya"]
    assert at.query_params["scenario"] == "default"
    before = match_count(at)
    picker.set_value("libya-2020").run()
    assert at.query_params["scenario"] == "libya-2020"
    at.query_params["window"] = "all"
    at.run()
    assert match_count(at) == 50 != before


def test_a_viewer_bound_to_one_scenario_sees_nothing_of_another(three):
    at = app(LEILA, query_params={"scenario": "libya-2020", "window": "all"})
    text = all_text(at)
    assert "leila: not allowed to view scenario 'libya-2020'" in text
    assert not metrics(at) and "incidents match" not in text and "Libya" not in text
    for page in ("trends", "export", "incident"):
        other = app(LEILA, page=page, query_params={"scenario": "libya-2020", "window": "all"})
        assert "not allowed to view scenario 'libya-2020'" in all_text(other), page
        assert "Libya" not in all_text(other), page
    at = app(LEILA, query_params={"window": "all"})
    assert at.query_params["scenario"] == "lebanon-2024"
    assert match_count(at) == 169
    assert not [s for s in at.sidebar.selectbox if s.key == "scenario_pick"]  # one scenario: no picker


def test_an_admin_grants_access_per_ceasefire_on_the_admin_page(three):
    at = app(ADMIN, page="admin")
    assert not at.exception, at.exception
    at.selectbox(key="a_bind_who").set_value("vic")
    at.selectbox(key="a_bind_scenario").set_value("libya-2020")
    at.selectbox(key="a_bind_role").set_value("viewer")
    at.button(key="a_bind_grant").click().run()
    store = open_store(three)
    rows = store.frame("SELECT name, scenario_id, role FROM user_scenarios WHERE name = 'vic'")
    rows = rows.values.tolist()
    store.close()
    assert rows == [["vic", "libya-2020", "viewer"]]
    vic = app(Principal("vic", "viewer"), query_params={"scenario": "lebanon-2024"})
    assert "vic: not allowed to view scenario 'lebanon-2024'" in all_text(vic)


def test_an_admin_bound_to_one_ceasefire_cannot_grant_another(three):
    from geo import PermissionDeniedError

    store = open_store(three)
    try:
        add_user(store, "adel", "admin", PASSWORD)
        grant_scenario(store, "adel", "lebanon-2024", "admin")
        adel = Principal("adel", "admin")
        grant_scenario(store, "leila", "lebanon-2024", "analyst", actor=adel)
        refused = "adel: not allowed to grant access to scenario 'libya-2020'"
        with pytest.raises(PermissionDeniedError, match=refused):
            grant_scenario(store, "leila", "libya-2020", "viewer", actor=adel)
    finally:
        store.close()
