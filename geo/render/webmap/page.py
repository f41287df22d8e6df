"""A whole map (base map, incident layers, caption, layer control) and its standalone HTML export."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import cast

import folium
import pandas as pd
from branca.element import Figure

from geo.core.duplicates import count_events
from geo.core.model import Scenario
from geo.i18n import _, number, when
from geo.render.palette import provenance_banner, provenance_lines
from geo.render.webmap.assets import STATIC_URL, check_local, inline_assets
from geo.render.webmap.base import base_map, layer_control_for
from geo.render.webmap.elements import Control, corner
from geo.render.webmap.escape import html_text
from geo.render.webmap.layers import DEFAULT_MAX_CELLS, DEFAULT_MAX_MARKERS, incident_layers
from geo.render.webmap.popups import rows_html

_EXTERNAL = re.compile(
    r"""<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE
)


def _info_html(
    scenario: Scenario,
    *,
    title: str | None,
    data_as_of: datetime | pd.Timestamp | str | None,
    time_window: str | None,
    filters: Mapping[str, str] | None,
    count: int,
    reports: int | None = None,
) -> str:
    parts = [f'<strong class="tl-title">{html_text(title or scenario.name)}</strong>']
    banner = provenance_banner(scenario)
    if banner:
        parts.append(f'<div class="tl-banner">{html_text(banner[0])}</div>')
    rows = []
    if data_as_of is not None:
        rows.append((_("Data as of"), html_text(when(pd.Timestamp(data_as_of).to_pydatetime(), style="iso"))))
    if time_window:
        rows.append((_("Time window"), html_text(time_window)))
    rows += [(str(k), html_text(v)) for k, v in (filters or {}).items()]
    shown = number(count)
    if reports is not None and reports != count:
        shown += " " + _("({count} reports: linked reports of one event count once)").format(
            count=number(reports)
        )
    rows.append((_("Incidents"), html_text(shown)))
    parts.append(rows_html(rows))
    notes = provenance_lines(scenario)
    if notes:
        parts.append('<div class="tl-provenance">' + "<br>".join(html_text(n) for n in notes) + "</div>")
    return "".join(parts)


def build_map(
    scenario: Scenario,
    view: pd.DataFrame,
    *,
    new_since: datetime | pd.Timestamp | str | None = None,
    title: str | None = None,
    data_as_of: datetime | pd.Timestamp | str | None = None,
    time_window: str | None = None,
    filters: Mapping[str, str] | None = None,
    max_markers: int = DEFAULT_MAX_MARKERS,
    cell_m: float | None = None,
    max_cells: int = DEFAULT_MAX_CELLS,
    tiles: str | None = None,
    tiles_attribution: str | None = None,
    static_url: str = STATIC_URL,
) -> folium.Map:
    """
    Build a whole map: base map, incident layers, a caption panel and a layer control.

    Parameters
    ----------
    scenario, view
        As for :func:`~geo.render.webmap.incident_layers`.
    new_since, max_markers, cell_m, max_cells
        As for :func:`~geo.render.webmap.incident_layers`.
    title
        The caption's title (default: the scenario's name).
    data_as_of
        When the data was current; shown in the caption.
    time_window
        The time window of the view, as text (e.g. ``2024-05-01 to 2024-05-07``).
    filters
        Filter names and values shown in the caption.
    tiles, tiles_attribution, static_url
        As for :func:`~geo.render.webmap.base_map`.

    Returns
    -------
    folium.Map
    """
    m = base_map(
        scenario, tiles=tiles, tiles_attribution=tiles_attribution, layer_control=False, static_url=static_url
    )
    for group in incident_layers(
        view, scenario, new_since=new_since, max_markers=max_markers, cell_m=cell_m, max_cells=max_cells
    ):
        group.add_to(m)
    caption = _info_html(
        scenario,
        title=title,
        data_as_of=data_as_of,
        time_window=time_window,
        filters=filters,
        count=count_events(view),
        reports=len(view),
    )
    m.add_child(Control(caption, position=corner("topleft"), css_class="tl-info", name="Caption"))
    layer_control_for().add_to(m)
    cast("Figure", m.get_root()).title = html_text(title or scenario.name)
    return m


def check_offline(m: folium.Map, *, static_url: str = STATIC_URL) -> None:
    """
    Raise if any element of a map would load a script or style that is not vendored.

    Parameters
    ----------
    m
        The map, with every layer it will be shown with.
    static_url
        Where the vendored assets are served.

    Raises
    ------
    ValueError
        Naming the element and the URL (a folium plugin's CDN default, say).
    """
    check_local(m, static_url)


def export_html(m: folium.Map, *, static_url: str = STATIC_URL) -> str:
    """
    Render a map as one self-contained HTML page that opens with no network.

    Parameters
    ----------
    m
        A map from :func:`build_map` (or :func:`~geo.render.webmap.base_map` with layers added).
    static_url
        The URL prefix its vendored assets use.

    Returns
    -------
    str
        The page, with Leaflet's script and stylesheet (and its images, as data
        URIs) inlined. Web tiles, if the map was built with a tile URL, still load
        from that URL.

    Raises
    ------
    ValueError
        If an element of the map links a script or style that is not vendored.
    """
    check_offline(m, static_url=static_url)
    page = inline_assets(m.get_root().render(), static_url)
    leak = _EXTERNAL.search(page)
    if leak:
        msg = f"export_html: page still links an outside resource: {leak.group(0)[:120]}"
        raise ValueError(msg)
    return page
