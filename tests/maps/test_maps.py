"""Map building, inspected through the folium objects and their rendered HTML."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path

import folium
import folium.plugins
import numpy as np
import pandas as pd
import pytest
import shapely
from branca.element import Element

from geo import VERDICTS, Scenario
from geo.core.model import ZONE_KINDS
from geo.render.palette import DEFAULT_PARTY_COLOURS, ZONE_STYLES
from geo.render.webmap import (
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_MARKERS,
    MAX_MARKER_BYTES,
    base_map,
    build_map,
    export_html,
    incident_layers,
)
from geo.render.webmap.assets import VENDOR_DIR
from geo.render.webmap.elements import BindPopup, Control, HexCells, IncidentMarkers
from tests.maps.helpers import XSS_PAYLOADS, make_view

CDN_MARKERS = (
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "code.jquery.com",
    "bootstrapcdn",
    "unpkg.com",
    "fontawesome",
    "googleapis",
    "openstreetmap",
    "cartocdn",
    "d3js.org",
)
MB = 1024 * 1024


def walk(element: Element) -> Iterator[Element]:
    yield element
    for child in element._children.values():
        yield from walk(child)


def of_type(element: Element, cls: type) -> list:
    return [e for e in walk(element) if isinstance(e, cls)]


def groups_of(m: Element) -> dict[str, folium.FeatureGroup]:
    return {g.layer_name: g for g in of_type(m, folium.FeatureGroup)}


def column(payload: dict, key: str) -> list[str]:
    """Decode one popup column of a marker payload (plain list, or dictionary + codes)."""
    col = payload["f"][key]
    return col if isinstance(col, list) else [col["d"][c] for c in col["c"]]


def markers(groups: list[folium.FeatureGroup]) -> list[IncidentMarkers]:
    return [e for g in groups for e in of_type(g, IncidentMarkers)]


# --------------------------------------------------------------------------- base map


def test_base_map_draws_zones_by_kind_lines_labels_legend(scenario: Scenario) -> None:
    m = base_map(scenario)
    groups = groups_of(m)
    assert set(groups) == {
        "Countries (Natural Earth)",
        "Zones: No fly zone",
        "Zones: Restricted area",
        "Zones: Demilitarized zone",
        "Zones: Joint security area",
        "Demarcation lines",
        "Rivers",
        "Places",
    }
    zone_layers = [
        g for name, grp in groups.items() if name.startswith("Zones:") for g in of_type(grp, folium.GeoJson)
    ]
    assert len(zone_layers) == len(scenario.zones)
    for layer in zone_layers:
        assert len(of_type(layer, folium.Tooltip)) == 1
        assert len(of_type(layer, BindPopup)) == 1

    lines = groups["Demarcation lines"]
    assert len(of_type(lines, folium.GeoJson)) == len(scenario.lines)
    labels = [icon.options["html"] for icon in of_type(lines, folium.DivIcon)]
    assert sum("North side" in t for t in labels) == 3
    assert sum("South side" in t for t in labels) == 3

    assert len(of_type(m, folium.LayerControl)) == 1
    assert not of_type(m, folium.TileLayer)
    legend = [c for c in of_type(m, Control) if c.css_class == "tl-legend"]
    assert len(legend) == 1
    for text in (
        "Breach",
        "Possible breach",
        "No breach",
        "Outside monitored area",
        "Unattributed",
        "New since last refresh",
        "Demilitarized zone",
        "No fly zone",
        "North: reported / inferred",
    ):
        assert text in legend[0].html


def test_base_map_fits_the_scenario(scenario: Scenario) -> None:
    m = base_map(scenario)
    fit = of_type(m, folium.FitBounds)
    assert len(fit) == 1
    geoms = np.asarray([ln.geometry for ln in scenario.lines] + [z.geometry for z in scenario.zones])
    xmin, ymin, xmax, ymax = shapely.total_bounds(geoms)
    assert fit[0].bounds == [[ymin, xmin], [ymax, xmax]]


def test_nested_zones_draw_largest_first(scenario: Scenario) -> None:
    """Smaller zones come later, so they sit on top and stay clickable."""
    page = base_map(scenario).get_root().render()
    order = sorted(
        scenario.zones,
        key=lambda z: page.index(f"bindTooltip(\n                `<div>\n                     {z.name}"),
    )
    areas = [z.geometry.area for z in order]
    assert areas == sorted(areas, reverse=True)


def test_zone_styles_are_distinct() -> None:
    styles = [ZONE_STYLES[k] for k in ZONE_KINDS]
    assert len({(s.colour, s.dash) for s in styles}) == len(styles)
    assert len({s.colour for s in styles}) == len(styles)


def test_zone_and_line_popups_quote_the_rules(scenario: Scenario) -> None:
    popups = [p.html for p in of_type(base_map(scenario), BindPopup)]
    for rule in scenario.rules:
        assert any(rule.id in p and rule.text.replace('"', "&quot;") in p for p in popups), rule.id
    assert any("Left side" in p and "Korean People&#x27;s Army" in p for p in popups)


def test_base_map_is_stable_for_streamlit_folium(scenario: Scenario) -> None:
    """Rebuilding the base map must not change the script st_folium hashes (no remount)."""
    from streamlit_folium import _get_map_string, generate_js_hash

    def key() -> str:
        m = base_map(scenario, layer_control=False)
        m.get_root().render()
        return generate_js_hash(_get_map_string(m), "map")

    assert key() == key()


def test_web_tiles_only_when_configured(scenario: Scenario) -> None:
    assert not of_type(base_map(scenario), folium.TileLayer)
    m = base_map(scenario, tiles="https://tiles.example.org/{z}/{x}/{y}.png", tiles_attribution="Example")
    tiles = of_type(m, folium.TileLayer)
    assert [t.tiles for t in tiles] == ["https://tiles.example.org/{z}/{x}/{y}.png"]
    assert not groups_of(m)["Countries (Natural Earth)"].show
    with pytest.raises(ValueError, match="tiles_attribution"):
        base_map(scenario, tiles="https://tiles.example.org/{z}/{x}/{y}.png")


def test_basemap_can_be_left_out(scenario: Scenario) -> None:
    assert "Countries (Natural Earth)" not in groups_of(base_map(scenario, basemap=None))


# --------------------------------------------------------------------------- incidents


def test_markers_up_to_the_threshold(scenario: Scenario, view_400: pd.DataFrame) -> None:
    groups = incident_layers(view_400, scenario, max_markers=400)
    counts = view_400["verdict"].value_counts()
    assert [g.layer_name for g in groups] == [
        f"{name} ({counts.get(v, 0):,})"
        for v, name in zip(
            reversed(VERDICTS),
            ("Outside monitored area", "No breach", "Possible breaches", "Breaches"),
            strict=True,
        )
    ]
    layers = markers(groups)
    assert len(layers) == 4
    assert sum(layer.count for layer in layers) == len(view_400)
    assert not [e for g in groups for e in of_type(g, HexCells)]
    for layer in layers:
        assert len(set(layer.data["v"])) <= 1


def test_cells_above_the_threshold(scenario: Scenario, view_400: pd.DataFrame) -> None:
    groups = incident_layers(view_400, scenario, max_markers=399)
    assert len(groups) == 1
    assert groups[0].layer_name.startswith("Incidents: 400 in ")
    assert not markers(groups)
    (cells,) = of_type(groups[0], HexCells)
    counts = np.asarray(cells.data["counts"]).reshape(-1, len(VERDICTS))
    assert counts.sum() == len(view_400)
    expected = view_400["verdict"].value_counts()
    assert counts.sum(axis=0).tolist() == [int(expected.get(v, 0)) for v in VERDICTS]
    parties = np.asarray(cells.data["parties"]).reshape(cells.count, -1)
    assert parties.sum() == len(view_400)
    assert cells.count == len(cells.data["lat"]) == counts.shape[0]


def test_cells_are_binned_in_meters(scenario: Scenario) -> None:
    """Two points 1 km apart share a 5 km cell; two points 12 km apart do not."""
    base = {"verdict": "breach", "attributed_party": "north"}
    near = pd.DataFrame([{**base, "lon": 127.0, "lat": 38.0}, {**base, "lon": 127.0, "lat": 38.009}])
    far = pd.DataFrame([{**base, "lon": 127.0, "lat": 38.0}, {**base, "lon": 127.0, "lat": 38.108}])
    for frame, cells in ((near, 1), (far, 2)):
        (group,) = incident_layers(frame, scenario, max_markers=0, cell_m=5000)
        assert group.layer_name == "Incidents: 2 in 5 km hex cells"
        assert of_type(group, HexCells)[0].count == cells


def test_cells_grow_to_bound_the_payload(scenario: Scenario) -> None:
    rng = np.random.default_rng(0)
    n = 50_000
    frame = pd.DataFrame(
        {
            "lon": rng.uniform(120, 135, n),
            "lat": rng.uniform(30, 45, n),
            "verdict": pd.Categorical(rng.choice(VERDICTS, n), categories=VERDICTS),
        }
    )
    (group,) = incident_layers(frame, scenario, max_markers=0, cell_m=1000, max_cells=500)
    (cells,) = of_type(group, HexCells)
    assert 100 < cells.count <= 500
    assert int(np.sum(cells.data["counts"])) == n


def test_new_incidents_are_highlighted(scenario: Scenario, view_400: pd.DataFrame) -> None:
    since = view_400["occurred_at"].quantile(0.9)
    fresh = int((view_400["occurred_at"] > since).sum())
    assert 0 < fresh < 100
    layers = markers(incident_layers(view_400, scenario, new_since=since))
    assert sum(sum(layer.data["isNew"]) for layer in layers) == fresh
    for layer in layers:
        flags = layer.data["isNew"]
        assert [bool(t) for t in column(layer.data, "new")] == [bool(f) for f in flags]

    groups = incident_layers(view_400, scenario, new_since=since, max_markers=fresh)
    assert [g.layer_name for g in groups][1] == f"New incidents ({fresh})"
    assert markers(groups)[0].count == fresh
    assert sum(of_type(groups[0], HexCells)[0].data["fresh"]) == fresh


def test_new_since_uses_ingested_at_when_present(scenario: Scenario, view_400: pd.DataFrame) -> None:
    view = view_400.copy()
    view["ingested_at"] = pd.Timestamp("2020-01-01", tz="UTC")
    view.loc[view.index[:7], "ingested_at"] = pd.Timestamp("2030-01-01", tz="UTC")
    layers = markers(incident_layers(view, scenario, new_since="2025-01-01"))
    assert sum(sum(layer.data["isNew"]) for layer in layers) == 7
    naive = markers(incident_layers(view, scenario, new_since=pd.Timestamp("2025-01-01")))
    assert sum(sum(layer.data["isNew"]) for layer in naive) == 7


def test_marker_style_encodes_verdict_party_and_basis(scenario: Scenario, view_400: pd.DataFrame) -> None:
    view = view_400.copy()
    view.loc[view.index[:5], ["attributed_party", "attribution"]] = ["", "unattributed"]
    layers = markers(incident_layers(view, scenario))
    parties = [p.id for p in scenario.parties]
    seen = set()
    for layer in layers:
        data = layer.data
        assert data["partyColours"] == [p.colour for p in scenario.parties]
        for v, p, a, pid in zip(data["v"], data["p"], data["a"], column(data, "party"), strict=True):
            seen.add(data["attributions"][a])
            if data["attributions"][a] == "unattributed":
                assert pid == "Unattributed"
            else:
                assert p >= 0
                assert scenario.party(parties[p]).name in pid
            assert 0 <= v < len(VERDICTS)
    assert seen == {"reported", "inferred_from_side", "unattributed"}
    assert len(set(layers[0].data["dashes"])) == 3


def test_popups_carry_every_field(scenario: Scenario, view_400: pd.DataFrame) -> None:
    (breaches,) = markers(incident_layers(view_400[view_400["verdict"] == "breach"], scenario)[3:])
    data = breaches.data
    rows = view_400[view_400["verdict"] == "breach"]
    fields = {key: column(data, key) for key, _ in data["fields"]}
    assert [label for _, label in data["fields"]] == [
        "Time",
        "New",
        "Category",
        "Party",
        "Actor",
        "Verdict",
        "Rules",
        "Zones",
        "Distance to line",
        "Location",
        "Verification",
        "Source grade",
        "Source",
        "Fatalities",
        "Description",
        "Incident id",
    ]
    for i, (_, row) in enumerate(rows.iterrows()):
        assert fields["time"][i].startswith(row["occurred_at"].strftime("%Y-%m-%d %H:%M"))
        for rid in str(row["rules"]).split(";"):
            assert f"{rid} [{scenario.rule(rid).severity}]: {scenario.rule(rid).text}" in fields["rules"][i]
        for zid in str(row["zones"]).split(";"):
            assert scenario.zone(zid).name in fields["zones"][i]
        if row["attribution"] == "inferred_from_side":
            assert "INFERRED" in fields["party"][i]
        elif row["attribution"] == "reported":
            assert "reported by the source" in fields["party"][i]
        signed = f"(signed {row['distance_m']:+.0f} m)"
        assert fields["distance"][i].endswith(signed)
        assert f"{row['side']} of Military Demarcation Line" in fields["distance"][i]
        assert f"precision: {row['location_precision']}" in fields["location"][i]
        assert fields["verification"][i] == row["verification"].capitalize()  # as the status is shown
        assert fields["source"][i] == f"{row['source']}: {row['source_event_id']}"
        assert fields["description"][i] == row["description"]
        assert fields["id"][i] == str(row["incident_id"])
        assert fields["verdict"][i] == "Breach"


def test_possible_breaches_say_why(scenario: Scenario, view_400: pd.DataFrame) -> None:
    rows = view_400[view_400["verdict"] == "possible_breach"]
    (layer,) = markers(incident_layers(rows, scenario)[2:3])
    for text, reason in zip(column(layer.data, "verdict"), rows["verdict_reason"], strict=True):
        assert text == f"Possible breach\nwhy possible: {reason}"


def test_a_minimal_view_is_enough(scenario: Scenario) -> None:
    frame = pd.DataFrame({"lon": [127.0, 127.1], "lat": [38.0, 38.1], "verdict": ["breach", "no_breach"]})
    m = build_map(scenario, frame)
    assert sum(layer.count for layer in markers(list(groups_of(m).values()))) == 2
    assert export_html(m)
    empty = frame.iloc[:0]
    assert sum(layer.count for layer in markers(incident_layers(empty, scenario))) == 0
    assert export_html(build_map(scenario, empty))


def test_a_missing_column_is_named(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="'verdict' missing"):
        incident_layers(pd.DataFrame({"lon": [1.0], "lat": [2.0]}), scenario)


# --------------------------------------------------------------------------- offline


def _links(page: str) -> tuple[list[str], list[str]]:
    return (
        re.findall(r'<script src="([^"]*)"', page),
        re.findall(r'<link rel="stylesheet" href="([^"]*)"', page),
    )


def test_no_cdn_anywhere_only_vendored_leaflet(scenario: Scenario, view_400: pd.DataFrame) -> None:
    cdn_js = list(folium.Map.default_js)
    maps = (base_map(scenario), build_map(scenario, view_400), build_map(scenario, view_400, max_markers=10))
    for m in maps:
        page = m.get_root().render()
        for marker in CDN_MARKERS:
            assert marker not in page
        scripts, styles = _links(page)
        assert scripts == ["/app/static/vendor/leaflet/leaflet.js"]
        assert styles == ["/app/static/vendor/leaflet/leaflet.css"]
        assert "$(" not in page
        assert "jQuery" not in page
    assert folium.Map.default_js == cdn_js  # the class is untouched: nothing leaks to other maps
    for rel in ("leaflet/leaflet.js", "leaflet/leaflet.css", "leaflet/LICENSE"):
        assert (VENDOR_DIR / rel).is_file()


def test_static_url_can_be_moved(scenario: Scenario) -> None:
    page = base_map(scenario, static_url="/truceline/app/static/vendor/").get_root().render()
    assert _links(page) == (
        ["/truceline/app/static/vendor/leaflet/leaflet.js"],
        ["/truceline/app/static/vendor/leaflet/leaflet.css"],
    )


def test_export_is_one_self_contained_file(scenario: Scenario, view_400: pd.DataFrame) -> None:
    m = build_map(
        scenario,
        view_400,
        title="Briefing",
        data_as_of="2024-06-01T12:00Z",
        time_window="2024-05-25 to 2024-06-01",
        filters={"Party": "North"},
    )
    page = export_html(m)
    assert _links(page) == ([], [])
    assert "/app/static" not in page
    assert "sourceMappingURL" not in page
    assert 'version="1.9.4"' in page
    assert "url(images/" not in page
    assert page.count("data:image/png;base64,") >= 2
    for marker in CDN_MARKERS:
        assert marker not in page
    assert "<title>Briefing</title>" in page
    (caption,) = [c for c in of_type(m, Control) if c.css_class == "tl-info"]
    assert caption.content in page
    for text in (
        "Briefing",
        "SYNTHETIC DEMO DATA",
        "<th>Data as of</th><td>2024-06-01 12:00 UTC</td>",
        "<th>Time window</th><td>2024-05-25 to 2024-06-01</td>",
        "<th>Party</th><td>North</td>",
        "<th>Incidents</th><td>400</td>",
    ):
        assert text in caption.html


def test_export_refuses_a_cdn_plugin(scenario: Scenario) -> None:
    m = base_map(scenario)
    folium.plugins.MarkerCluster().add_to(m)
    with pytest.raises(ValueError, match="not vendored"):
        export_html(m)


# --------------------------------------------------------------------------- escaping


def test_data_text_is_escaped_everywhere(evil_scenario: Scenario, evil_view: pd.DataFrame) -> None:
    for max_markers in (len(evil_view), 10):
        page = (
            build_map(
                evil_scenario,
                evil_view,
                title=XSS_PAYLOADS[1],
                max_markers=max_markers,
                filters={"Actor": XSS_PAYLOADS[0]},
            )
            .get_root()
            .render()
        )
        lowered = page.lower()
        for needle in ("<img", "<svg", "<script>window", "${alert", "${window", "</script><script"):
            assert needle not in lowered, needle
        # Jinja syntax from data reaches the page as text, not evaluated by branca's second pass.
        assert "this.__class__.__name__" in page
        assert page.count("jinja-ran") == page.count("if true %") > 0
        # Text in folium's template literals (tooltips) cannot end or interpolate the literal.
        tooltips = re.findall(r"bindTooltip\(\s*`(.*?)`,", page, flags=re.DOTALL)
        assert tooltips
        for body in tooltips:
            assert "${" not in body
            assert "\\" not in body
        # Every <script> element holds only our code: the data never closes it.
        assert page.count("<script") == page.count("</script>")


def test_marker_payload_keeps_text_as_data(evil_scenario: Scenario, evil_view: pd.DataFrame) -> None:
    """Popups receive the exact text, as JSON, to be set with textContent in the browser."""
    layers = markers(incident_layers(evil_view, evil_scenario))
    descriptions = [d for layer in layers for d in column(layer.data, "description")]
    assert sorted(descriptions) == sorted(evil_view["description"])
    for layer in layers:
        assert json.loads(layer.payload) == layer.data
        assert not set(layer.payload) & set("<>`$'")


def test_party_colours_from_data_are_checked(evil_scenario: Scenario, evil_view: pd.DataFrame) -> None:
    layers = markers(incident_layers(evil_view, evil_scenario))
    defaults = set(DEFAULT_PARTY_COLOURS[: len(evil_scenario.parties)])
    assert {c for layer in layers for c in layer.data["partyColours"]} == defaults
    page = base_map(evil_scenario).get_root().render()
    assert "javascript:" not in page


# --------------------------------------------------------------------------- scale


def _million(rng: np.random.Generator, scenario: Scenario) -> pd.DataFrame:
    """One million incidents spread over the whole globe: the worst case for the number of cells."""
    n = 1_000_000
    parties = [p.id for p in scenario.parties] + [""]
    return pd.DataFrame(
        {
            "lon": rng.uniform(-180, 180, n),
            "lat": rng.uniform(-85, 85, n),
            "verdict": pd.Categorical.from_codes(rng.integers(0, 4, n), categories=list(VERDICTS)),
            "attributed_party": pd.Categorical.from_codes(rng.integers(0, 3, n), categories=parties),
            "occurred_at": pd.Timestamp("2024-06-01", tz="UTC")
            + pd.to_timedelta(rng.integers(0, 10**6, n), "s"),
        }
    )


def test_a_million_incidents_stay_under_5_mb(scenario: Scenario) -> None:
    view = _million(np.random.default_rng(0), scenario)
    m = build_map(scenario, view, new_since="2024-06-12T13:40:00Z")
    page = m.get_root().render()
    (cells,) = [e for e in walk(m) if isinstance(e, HexCells)]
    assert cells.count <= DEFAULT_MAX_CELLS
    assert int(np.sum(cells.data["counts"])) == len(view)
    assert len(page.encode()) <= 5 * MB
    assert len(export_html(m).encode()) <= 5 * MB


@pytest.mark.benchmark
def test_a_million_incidents_spread_worldwide_build_within_3_s(scenario: Scenario) -> None:
    view = _million(np.random.default_rng(0), scenario)
    started = time.perf_counter()
    build_map(scenario, view, new_since="2024-06-12T13:40:00Z").get_root().render()
    elapsed = time.perf_counter() - started
    assert elapsed < 3.0  # generous: the 1.5 s bar is timed on the demo frame (next benchmark below)


@pytest.mark.parametrize(
    ("unit", "columns", "drawn_as_markers"),
    [
        ("lorem ipsum ", ("description",), True),
        (
            "<&'$`",
            ("description", "actor", "target", "location_name", "source_event_id", "sub_category"),
            False,
        ),
    ],
)
def test_long_texts_cannot_blow_the_size_bound(
    scenario: Scenario, unit: str, columns: tuple[str, ...], drawn_as_markers: bool
) -> None:
    """3000 incidents with 10 kB texts: popups are cut, or (when there is too much text
    even cut, all of it escaped in JSON) markers give way to cells. The map stays < 5 MB."""
    view = make_view(scenario, DEFAULT_MAX_MARKERS)
    for col in columns:
        view[col] = view["incident_id"].astype(str) + unit * (10_000 // len(unit))
    groups = incident_layers(view, scenario)
    layers = markers(groups)
    assert bool(layers) == drawn_as_markers
    if drawn_as_markers:
        assert sum(layer.count for layer in layers) == len(view)
        assert sum(len(layer.payload.encode()) for layer in layers) <= MAX_MARKER_BYTES
        assert column(layers[0].data, "description")[0].endswith("[truncated: see the incident record]")
    else:
        assert sum(np.sum(c.data["counts"]) for g in groups for c in of_type(g, HexCells)) == len(view)
    assert len(build_map(scenario, view).get_root().render().encode()) <= 5 * MB


def test_party_basis_is_never_cut(scenario: Scenario, view_400: pd.DataFrame) -> None:
    view = view_400.copy()
    view["description"] = "x" * 50_000
    for layer in markers(incident_layers(view, scenario)):
        for text, basis in zip(column(layer.data, "party"), layer.data["a"], strict=True):
            assert ("INFERRED from the side of the line" in text) == (basis == 1)


@pytest.fixture(scope="module")
def demo_million(scenario: Scenario) -> pd.DataFrame:
    return make_view(scenario, 1_000_000)


@pytest.mark.slow
def test_a_million_demo_incidents_stay_small(scenario: Scenario, demo_million: pd.DataFrame) -> None:
    since = demo_million["occurred_at"].max() - pd.Timedelta(hours=2)
    m = build_map(scenario, demo_million, new_since=since)
    assert len(m.get_root().render().encode()) <= 5 * MB
    assert len(export_html(m).encode()) <= 5 * MB


@pytest.mark.benchmark
def test_a_million_demo_incidents_build_within_1_5_s(scenario: Scenario, demo_million: pd.DataFrame) -> None:
    since = demo_million["occurred_at"].max() - pd.Timedelta(hours=2)
    timings, page = [], ""
    for _ in range(3):
        started = time.perf_counter()
        m = build_map(scenario, demo_million, new_since=since)
        page = m.get_root().render()
        timings.append(time.perf_counter() - started)
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    (artifacts / "maps-scale.json").write_text(
        json.dumps(
            {
                "incidents": len(demo_million),
                "build_and_render_s": timings,
                "served_html_bytes": len(page.encode()),
                "standalone_html_bytes": len(export_html(m).encode()),
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    assert min(timings) < 1.5, timings
