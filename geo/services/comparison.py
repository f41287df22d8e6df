"""Before/after comparisons of a store's incidents around a date (``compare``, Trends, the briefing).

The scenario a comparison is about is found by :func:`scenario_for`, the one place that
knows how a store holds scenarios.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pandas as pd

from geo import clock
from geo._errors import InputError, NotFoundError, StoreError
from geo.core.auth import Principal, require
from geo.core.compare import DEFAULT_WEEKS, Comparison, agreement_date, compare_rates, utc_instant
from geo.core.filters import Filters
from geo.core.model import Scenario
from geo.render.compare_table import caveats
from geo.services.cache import with_groups
from geo.store import Store

COLUMNS = ("incident_id", "occurred_at", "lon", "lat", "attributed_party", "source")
"""What a comparison reads of each incident."""


def scenario_for(store: Store, wanted: str | None = None) -> Scenario:
    """
    The scenario of a store that a comparison is about.

    Today a store holds one scenario; ``wanted`` (a scenario id, e.g. ``korea``) must
    name it. When stores hold several, this is the one call to change (ask the store for
    the scenario ``wanted``, or its default one).

    Raises
    ------
    StoreError
        No scenario is loaded.
    NotFoundError
        The store's scenario is not ``wanted``.
    """
    if wanted:
        if not store.has_scenario(wanted):
            held = ", ".join(store.scenario_ids()) or "none"
            msg = f"{store.url}: scenario: no scenario {wanted!r} here (it holds {held})"
            raise NotFoundError(msg)
        store = store.using(wanted)
    scenario = store.scenario()
    if scenario is None:
        msg = f"{store.url}: no scenario loaded"
        raise StoreError(msg)
    return scenario


@dataclass(frozen=True)
class StoreComparison:
    """A comparison, and what a reader should know about the data behind it."""

    comparison: Comparison
    scenario: Scenario
    data_since: pd.Timestamp | None
    """The first incident (matching the filters) in the store."""
    as_of: pd.Timestamp

    @property
    def notes(self) -> list[str]:
        """Caveats for the reader, one sentence each (translated)."""
        return caveats(self.comparison, data_since=self.data_since, as_of=self.as_of)


def default_date(scenario: Scenario) -> pd.Timestamp:
    """
    The date a comparison defaults to: the scenario's agreement date.

    Raises
    ------
    InputError
        When no rule of the scenario has a start date.
    """
    day = agreement_date(scenario)
    if day is None:
        msg = f"{scenario.name}: rules: none has a start date (valid_from): give the date to compare at"
        raise InputError(msg)
    return utc_instant(day)


def compare_store(
    store: Store,
    *,
    actor: Principal,
    at: datetime | date | pd.Timestamp | None = None,
    weeks: int = DEFAULT_WEEKS,
    filters: Filters | None = None,
    scenario: str | None = None,
    as_of: datetime | None = None,
) -> StoreComparison:
    """
    Compare a store's incidents before and after a date, per zone × party.

    Parameters
    ----------
    store
        The store.
    actor
        Who asks (needs ``view``).
    at
        The date (default: the scenario's agreement date, :func:`default_date`).
    weeks
        Weeks on each side.
    filters
        Which incidents count (parties, categories, sources, …); their time window is
        replaced by the weeks compared. Their zones choose the rows shown (zones as
        places, whatever their dates, as :func:`geo.core.compare.compare_rates` counts them).
    scenario
        The scenario id (see :func:`scenario_for`).
    as_of
        The end of the data (default: now).

    Returns
    -------
    StoreComparison
    """
    require(actor, "view")
    scen = scenario_for(store, scenario)
    if scenario:
        store = store.using(scenario)
    start = default_date(scen) if at is None else utc_instant(at)
    end = utc_instant(as_of or clock.now())
    if weeks < 1:
        msg = f"compare: weeks: must be 1 or more, got {weeks}"
        raise InputError(msg)
    span = timedelta(weeks=weeks)
    wanted = filters or Filters()
    base = wanted.with_(since=None, until=None, zones=())
    window = base.with_(since=(start - span).to_pydatetime(), until=min(start + span, end).to_pydatetime())
    view = with_groups(store.query(window, columns=list(COLUMNS)), store)
    first = store.query(base, columns=["occurred_at"], limit=1, order="occurred_at ASC")
    since = utc_instant(first["occurred_at"].iloc[0]) if len(first) else None
    result = compare_rates(view, scen, at=start, as_of=end, weeks=weeks).rows_for(wanted.zones)
    return StoreComparison(result, scen, since, end)
