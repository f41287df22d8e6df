"""What the live map page does on each refresh, as functions the page calls (and the benchmark times).

``compute`` filters the cached incidents, counts the KPIs and builds the incident layers;
``show_map`` hands the stable base map and those layers to streamlit-folium. In playback,
``playback_timeline`` makes the frames of the view and ``frame_layers`` the layers of one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import folium
import pandas as pd
from streamlit_folium import st_folium

from dashboard import filter_panel
from geo import clock
from geo.core.duplicates import distinct_events
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.core.timeline import Frame, Timeline, shows, timeline
from geo.core.trends import kpis
from geo.render.webmap import DEFAULT_MAX_MARKERS, base_map, incident_layers, layer_control_for
from geo.services.cache import CachedIncidents
from geo.store import Store


@dataclass(frozen=True)
class LiveView:
    """One refresh of the live map."""

    view: pd.DataFrame
    """The incidents that pass the filters."""
    kpis: pd.DataFrame
    """Breaches per party in the last 24 h and 7 days (every filter applies but the window);
    linked reports of one breach count once."""
    layers: list[folium.FeatureGroup]
    """The incident layers: markers, or hexagonal cells when there are too many to draw."""
    new: int
    """Incidents ingested since the previous refresh."""


def full_rows(store: Store, view: pd.DataFrame) -> pd.DataFrame:
    """Popups need every column; fetch them for the few incidents drawn one by one."""
    if len(view) > DEFAULT_MAX_MARKERS or view.empty:
        return view
    rows = store.incidents_by_id(view["incident_id"].tolist())
    rows = rows.set_index("incident_id")
    return rows.loc[rows.index.intersection(view["incident_id"].to_numpy())].reset_index()


def compute(
    store: Store, snap: CachedIncidents, filters: Filters, scen: Scenario, *, previous: datetime | None
) -> LiveView:
    """
    Filter, count and build the layers for one refresh.

    Parameters
    ----------
    store
        The store (full rows for popups come from it).
    snap
        The cached incidents.
    filters
        The view's filters, with the time window already moved up to now.
    scen
        The scenario.
    previous
        When the page last refreshed: incidents ingested since are highlighted.
    """
    view = filter_panel.apply(filters, snap)
    matching = filter_panel.apply(filters.with_(since=None, until=None), snap)
    breaches = distinct_events(matching[matching["verdict"] == "breach"])
    table = kpis(breaches, as_of=pd.Timestamp(clock.now()), by="party")
    new = 0 if previous is None else int((view["ingested_at"] > previous).sum())
    layers = incident_layers(full_rows(store, view), scen, new_since=previous)
    return LiveView(view, table, layers, new)


def show_map(scen: Scenario, layers: list[folium.FeatureGroup]) -> None:
    """Draw the map: the base map stays the same, the incident layers change (pan and zoom are kept)."""
    st_folium(
        base_map(scen, layer_control=False),
        feature_group_to_add=layers,
        layer_control=layer_control_for(),
        returned_objects=[],
        key="live_map",
        height=620,
        use_container_width=True,
    )


def playback_timeline(
    view: pd.DataFrame, filters: Filters, *, step: str, window_days: int, cumulative: bool
) -> Timeline | None:
    """
    The frames through the time window: from its start (else the first incident) to its end (else now).

    ``view`` holds the incidents that pass every filter but the time window. ``None`` when
    there is nothing to play.
    """
    now = pd.Timestamp(clock.now())
    end = min(pd.Timestamp(filters.until), now) if filters.until else now
    start = pd.Timestamp(filters.since) if filters.since else None
    if start is None:
        if view.empty:
            return None
        start = pd.to_datetime(view["occurred_at"], utc=True).min()
    window = timedelta(days=window_days) if window_days else None
    return timeline(start, end, step=step, window=window, cumulative=cumulative)


def frame_view(view: pd.DataFrame, frame: Frame) -> pd.DataFrame:
    """The incidents of ``view`` a frame shows."""
    return view[shows(frame, view["occurred_at"])]


def playback_cells(view: pd.DataFrame, frames: Timeline) -> bool:
    """Whether the frames are drawn as hex cells: the fullest frame has too many incidents for markers.

    One way of drawing for every frame, so that playing does not switch between markers and cells.
    """
    return bool(len(view)) and int(frames.counts(view["occurred_at"]).max()) > DEFAULT_MAX_MARKERS


def frame_layers(
    store: Store, view: pd.DataFrame, scen: Scenario, *, cells: bool
) -> list[folium.FeatureGroup]:
    """The incident layers of one frame: markers (with full popups), or hex cells."""
    if cells:
        return incident_layers(view, scen, max_markers=0)
    return incident_layers(full_rows(store, view), scen)
