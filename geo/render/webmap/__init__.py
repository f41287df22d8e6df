"""Folium maps of a scenario and its incidents: offline, escaped, bounded in size.

A map is built in two parts, so that the dashboard can keep the first stable and
refresh the second through ``st_folium(feature_group_to_add=...)``:

- :func:`base_map`: the background (Natural Earth countries, or web tiles only when a
  tile URL is given), zones styled by kind, demarcation lines with each party's side
  labelled, a legend, and the map's scripts and styles. It depends only on the scenario.
- :func:`incident_layers`: the incidents of a view, as folium feature groups. Up to
  ``max_markers`` incidents are drawn one by one; beyond that they are counted in
  hexagonal cells of the scenario's metric projection (``geo.core._metric.LocalProjection``,
  the one projection everything uses), so the payload stays bounded whatever the
  number of incidents.

:func:`surroundings_map` draws one incident's place for the Incident page, :func:`pair_map`
two reports that may be one event for the Review page.
:func:`build_map` puts both together with a layer control and a caption panel, and
:func:`export_html` turns a map into one self-contained HTML file. Both parts gather what
they draw around the scenario's centre longitude (:mod:`geo.render.around`): a scenario
across ±180° is fitted and drawn in one place, its longitudes running past 180.

Where things are:

- ``templates/``: the map's JavaScript (plain functions on ``window.Truceline``), its
  stylesheet and the Jinja templates of its folium elements (:mod:`.resources` loads them,
  :mod:`.elements` holds the elements);
- :mod:`.base`, :mod:`.basemap`, :mod:`.shapes`, :mod:`.legend`: the stable part;
- :mod:`.layers`, :mod:`.markers`, :mod:`.cells`, :mod:`.popups`, :mod:`.columns`: the incidents;
  :mod:`.projected`: projecting many incidents fast (and exactly where it matters);
- :mod:`.page`: the whole map and its export; :mod:`.assets`: the vendored Leaflet, served
  or inlined; :mod:`.escape`: how data text is encoded for each place it lands in;
  :mod:`.literal`: rendered text kept as text (branca would compile each piece as a template).

Every script and style comes from ``dashboard/static/vendor`` (served by Streamlit at
``/app/static/vendor``) or from ``templates/``; exports inline them. Text from data
reaches the browser only HTML-escaped (and entity-encoded where folium wraps it in a JS
template literal), or as JSON that the incident popups put into the page with
``textContent``.

Examples
--------
The live map in the dashboard (the base map's script stays the same across reruns, so
the iframe keeps its pan and zoom; only the layers change)::

    m = webmap.base_map(scenario, layer_control=False)
    layers = webmap.incident_layers(view, scenario, new_since=last_refresh)
    st_folium(m, key="live-map", feature_group_to_add=layers,
              layer_control=folium.LayerControl(collapsed=False), returned_objects=[])

A briefing file::

    Path("map.html").write_text(webmap.export_html(webmap.build_map(scenario, view, data_as_of=now)))
"""

from geo.render.webmap import literal
from geo.render.webmap.assets import STATIC_URL
from geo.render.webmap.base import base_map, layer_control_for
from geo.render.webmap.basemap import BASEMAP_PATH
from geo.render.webmap.layers import DEFAULT_MAX_CELLS, DEFAULT_MAX_MARKERS, incident_layers
from geo.render.webmap.markers import MAX_MARKER_BYTES
from geo.render.webmap.page import build_map, check_offline, export_html
from geo.render.webmap.pair import pair_map
from geo.render.webmap.surroundings import surroundings_map

literal.install()

__all__ = [
    "BASEMAP_PATH",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_MARKERS",
    "MAX_MARKER_BYTES",
    "STATIC_URL",
    "base_map",
    "build_map",
    "check_offline",
    "export_html",
    "incident_layers",
    "layer_control_for",
    "pair_map",
    "surroundings_map",
]
