"""The stable part of a map: background, zones by kind, lines with their side labels, legend."""

from __future__ import annotations

from pathlib import Path

import folium

from geo.core.model import Scenario
from geo.i18n import _
from geo.render.palette import LINE_COLOUR, party_colour, zone_kind_label, zone_style
from geo.render.webmap.assets import STATIC_URL, use_local_assets
from geo.render.webmap.basemap import BASEMAP_PATH, add_countries
from geo.render.webmap.elements import BindPopup, Legend, ScriptLibrary, Stylesheet, corner
from geo.render.webmap.escape import css_colour, html_text, template_html
from geo.render.webmap.legend import legend_html
from geo.render.webmap.places import add_places_and_rivers
from geo.render.webmap.popups import line_popup, party_name, zone_popup
from geo.render.webmap.shapes import shapes


def blank_map(lat: float, lon: float, *, zoom: int, static_url: str = STATIC_URL) -> folium.Map:
    """An empty map with the vendored Leaflet, the map's stylesheet and scripts, and a scale."""
    m = folium.Map(
        location=[lat, lon],
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
        zoom_control=corner("topleft"),
        maxZoom=18,
        minZoom=2,
    )
    use_local_assets(m, static_url)
    m.add_child(Stylesheet())
    m.add_child(ScriptLibrary())
    return m


def base_map(
    scenario: Scenario,
    *,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    basemap: str | Path | None = BASEMAP_PATH,
    layer_control: bool = True,
    static_url: str = STATIC_URL,
    places: bool = True,
) -> folium.Map:
    """
    Build the stable part of a map: background, zones, lines, legend.

    Parameters
    ----------
    scenario
        The scenario whose lines and zones are drawn.
    tiles
        A web tile URL template (``https://…/{z}/{x}/{y}.png``). Off by default:
        the background is then the shipped Natural Earth countries.
    tiles_attribution
        Attribution text for ``tiles`` (required with it).
    basemap
        The countries file drawn as background; ``None`` draws none.
    layer_control
        Add a layer control. Leave it out when more layers come later (the dashboard
        passes its own to ``st_folium``; :func:`~geo.render.webmap.build_map` adds one at
        the end).
    static_url
        Where the vendored assets are served.
    places
        Draw the shipped rivers and place labels of the scenario's region
        (:mod:`geo.render.webmap.places`).

    Returns
    -------
    folium.Map
        Fitted to the scenario's bounds, with the map's scripts and styles. Built again
        from the same scenario, it renders the same script, so ``st_folium`` does not
        remount it. Build it on every rerun (it takes milliseconds; the geometry is
        cached per scenario) rather than caching the object: ``st_folium`` adds the
        feature groups and layer control it is given to the map it renders.
    """
    if tiles is not None and not tiles_attribution:
        msg = "base_map: tiles_attribution: required when tiles is given"
        raise ValueError(msg)
    found = shapes(scenario)
    xmin, ymin, xmax, ymax = found.bounds
    m = blank_map((ymin + ymax) / 2, (xmin + xmax) / 2, zoom=8, static_url=static_url)

    if tiles is not None:
        folium.TileLayer(
            tiles=tiles, attr=html_text(tiles_attribution), name=_("Web tiles"), overlay=False, control=True
        ).add_to(m)
    if basemap is not None:
        add_countries(m, basemap, found.bounds, show=tiles is None)
    if places:
        add_places_and_rivers(m, found.bounds)

    for kind in dict.fromkeys(z.kind for z, _feature in found.zones):
        group = folium.FeatureGroup(name=html_text(_("Zones: {kind}").format(kind=_(zone_kind_label(kind)))))
        options = zone_style(kind).options()
        for zone, feature in found.zones:
            if zone.kind != kind:
                continue
            layer = folium.GeoJson(feature, style_function=lambda _, o=options: o, control=False)
            folium.Tooltip(template_html(zone.name), sticky=True).add_to(layer)
            layer.add_child(BindPopup(zone_popup(scenario, zone)))
            layer.add_to(group)
        group.add_to(m)

    _add_lines(m, scenario)
    m.add_child(Legend(legend_html(scenario)))
    m.fit_bounds([[ymin, xmin], [ymax, xmax]], padding=(10, 10))
    if layer_control:
        layer_control_for().add_to(m)
    return m


def layer_control_for(*, collapsed: bool = True) -> folium.LayerControl:
    """The layer list, in the top corner away from the zoom buttons (mirrored for right to left)."""
    return folium.LayerControl(collapsed=collapsed, position=corner("topright"))


def _add_lines(m: folium.Map, scenario: Scenario) -> None:
    """The demarcation lines, with popups, and a label on each side naming the party holding it."""
    found = shapes(scenario)
    lines = folium.FeatureGroup(name=html_text(_("Demarcation lines")))
    for line, feature in found.lines:
        layer = folium.GeoJson(
            feature,
            control=False,
            style_function=lambda _: {"color": LINE_COLOUR, "weight": 3.5, "opacity": 1.0},
        )
        folium.Tooltip(template_html(line.name), sticky=True).add_to(layer)
        layer.add_child(BindPopup(line_popup(scenario, line)))
        layer.add_to(lines)
    parties = {p.id: (i, p) for i, p in enumerate(scenario.parties)}
    for party_id, lat, lon in found.labels:
        index, party = parties.get(party_id, (0, None))
        name = (party.short_name or party.name) if party else party_id
        colour = css_colour(party_colour(party.colour if party else None, index))
        icon = folium.DivIcon(
            html=f'<span style="color:{colour};border-color:{colour}">'
            + html_text(_("{party} side").format(party=name))
            + "</span>",
            class_name="tl-side-label",
            icon_size=(1, 1),
            icon_anchor=(0, 0),
        )
        folium.Marker(
            [lat, lon],
            icon=icon,
            tooltip=folium.Tooltip(
                template_html(_("Held by {party}").format(party=party_name(scenario, party_id)))
            ),
        ).add_to(lines)
    lines.add_to(m)
