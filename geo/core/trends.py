"""Counts by zone × party × period, spike flags and KPIs.

A spike (after ACLED's early-warning bands): the last 7 days exceed the
mean weekly count of the 4 weeks before them by more than 25 %, with at least
``floor`` incidents. 10-25 % above that mean is flagged ``moderate``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import numpy as np
import pandas as pd

NO_ZONE = "(no zone)"
UNATTRIBUTED = "(unattributed)"
FREQS = {"day": "D", "week": "W-SUN", "month": "M"}
SPIKE_RATIO = 1.25
MODERATE_RATIO = 1.10
DEFAULT_FLOOR = 5


def explode_zones(view: pd.DataFrame) -> pd.DataFrame:
    """
    One row per incident and zone it sits in (``(no zone)`` when none).

    Parameters
    ----------
    view
        An incident view with ``zones`` (``;``-separated ids).

    Returns
    -------
    pandas.DataFrame
        The rows of ``view`` repeated once per zone, with a ``zone`` column.
    """
    if view.empty:
        return view.assign(zone=pd.Categorical([]))
    codes, uniques = pd.factorize(view["zones"].astype(object).fillna(""))
    lists = [str(u).split(";") if u else [NO_ZONE] for u in uniques]
    sizes = np.array([len(z) for z in lists], dtype=np.int64)[codes]
    rows = np.repeat(np.arange(len(view)), sizes)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    within = np.arange(len(rows)) - np.repeat(offsets, sizes)
    flat = (
        np.concatenate([np.asarray(z, dtype=object) for z in lists]) if lists else np.array([], dtype=object)
    )
    starts = np.concatenate([[0], np.cumsum([len(z) for z in lists])[:-1]]).astype(np.int64)
    zone = flat[starts[np.repeat(codes, sizes)] + within] if len(rows) else np.array([], dtype=object)
    out = view.iloc[rows].reset_index(drop=True)
    out["zone"] = pd.Categorical(zone)
    return out


def counts(
    view: pd.DataFrame,
    *,
    by: Sequence[str] = ("zone", "party"),
    freq: str = "day",
    verdicts: Sequence[str] | None = ("breach", "possible_breach"),
) -> pd.DataFrame:
    """
    Count incidents per period and group.

    Parameters
    ----------
    view
        An incident view (normalised and classification columns).
    by
        Any of ``zone`` (exploded: an incident counts once in each zone it is in),
        ``party`` (the attributed party), ``verdict``, ``category``.
    freq
        ``day``, ``week`` (weeks start on Monday) or ``month``.
    verdicts
        Count only these verdicts; ``None`` counts every incident.

    Returns
    -------
    pandas.DataFrame
        Columns ``period`` (UTC timestamp of the period start), the ``by`` columns and
        ``count``; zero counts are left out.
    """
    if freq not in FREQS:
        msg = f"freq: must be one of {', '.join(FREQS)}, got {freq!r}"
        raise ValueError(msg)
    keyed = _keyed(view, by, verdicts)
    occurred = keyed.pop("occurred_at")
    period = occurred.dt.tz_localize(None).dt.to_period(FREQS[freq]).dt.start_time
    keyed["period"] = period.dt.tz_localize("UTC")
    out = keyed.groupby(["period", *by], sort=True, observed=True).size().rename("count").reset_index()
    return out.astype({"count": "int64"})


def _keyed(view: pd.DataFrame, by: Sequence[str], verdicts: Sequence[str] | None) -> pd.DataFrame:
    """The ``by`` columns and ``occurred_at`` (UTC) of the incidents that count, one row per zone."""
    frame = view if verdicts is None else view[view["verdict"].isin(list(verdicts))]
    if "zone" in by:
        frame = explode_zones(frame)
    columns: dict[str, pd.Series] = {}
    for key in by:
        if key == "party":
            party = frame["attributed_party"].astype(object).fillna("")
            columns["party"] = party.where(party != "", UNATTRIBUTED)
        elif key in ("zone", "verdict", "category"):
            columns[key] = frame[key].astype(object)
        else:
            msg = f"by: unknown grouping {key!r} (use zone, party, verdict, category)"
            raise ValueError(msg)
    occurred = pd.to_datetime(frame["occurred_at"], utc=True).reset_index(drop=True)
    return pd.DataFrame({"occurred_at": occurred, **{k: v.to_numpy() for k, v in columns.items()}})


def spikes(
    view: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    by: Sequence[str] = ("zone", "party"),
    floor: int = DEFAULT_FLOOR,
    verdicts: Sequence[str] | None = ("breach", "possible_breach"),
) -> pd.DataFrame:
    """
    Flag groups whose last 7 days rise above the 4 weeks before them.

    Parameters
    ----------
    view
        An incident view.
    as_of
        The end of the last 7 days (exclusive).
    by
        The grouping, as in :func:`counts`.
    floor
        The least count in the last 7 days that can be flagged.
    verdicts
        Count only these verdicts; ``None`` counts every incident.

    Returns
    -------
    pandas.DataFrame
        One row per flagged group: the ``by`` columns, ``last_7d``, ``baseline``
        (mean weekly count of the 4 preceding weeks), ``change`` (relative, ``inf``
        when the baseline is 0) and ``level`` (``spike`` or ``moderate``), most
        severe first.
    """
    end = (
        pd.Timestamp(as_of).tz_convert("UTC") if pd.Timestamp(as_of).tzinfo else pd.Timestamp(as_of, tz="UTC")
    )
    start = end - timedelta(days=35)
    occurred = pd.to_datetime(view["occurred_at"], utc=True)
    keyed = _keyed(view[(occurred >= start) & (occurred < end)], by, verdicts)
    columns = [*by, "last_7d", "baseline", "change", "level"]
    if keyed.empty:
        return pd.DataFrame(columns=columns)
    # The last 7 days end at ``as_of`` to the second, not at a day boundary.
    recent = keyed["occurred_at"] >= end - timedelta(days=7)
    last = keyed[recent].groupby(list(by), observed=True).size()
    before = keyed[~recent].groupby(list(by), observed=True).size() / 4.0
    table = pd.DataFrame({"last_7d": last, "baseline": before}).fillna(0.0)
    table["last_7d"] = table["last_7d"].astype("int64")
    with np.errstate(divide="ignore", invalid="ignore"):
        table["change"] = np.where(table["baseline"] > 0, table["last_7d"] / table["baseline"] - 1.0, np.inf)
    ratio = table["change"] + 1.0
    table["level"] = np.select(
        [ratio > SPIKE_RATIO, ratio > MODERATE_RATIO], ["spike", "moderate"], default=""
    )
    flagged = table[(table["level"] != "") & (table["last_7d"] >= floor)].reset_index()
    flagged["order"] = flagged["level"].map({"spike": 0, "moderate": 1})
    flagged = flagged.sort_values(["order", "last_7d"], ascending=[True, False]).drop(columns="order")
    return flagged[columns].reset_index(drop=True)


def kpis(
    view: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    by: str = "party",
    verdicts: Sequence[str] = ("breach",),
    windows: Sequence[timedelta] = (timedelta(hours=24), timedelta(days=7)),
) -> pd.DataFrame:
    """
    Counts in the last windows and the windows before them, per party or zone.

    Parameters
    ----------
    view
        An incident view.
    as_of
        The end of the windows (exclusive).
    by
        ``party`` or ``zone``.
    verdicts
        The verdicts that count (breaches by default).
    windows
        Window lengths, e.g. 24 hours and 7 days.

    Returns
    -------
    pandas.DataFrame
        Indexed by party or zone; for each window of ``h`` hours, columns ``last_{h}h``,
        ``prev_{h}h`` and ``change_{h}h`` (last minus previous).
    """
    end = pd.Timestamp(as_of)
    end = end.tz_convert("UTC") if end.tzinfo else end.tz_localize("UTC")
    longest = max(windows)
    occurred = pd.to_datetime(view["occurred_at"], utc=True)
    frame = view[(occurred >= end - 2 * longest) & (occurred < end) & view["verdict"].isin(list(verdicts))]
    if by == "zone":
        frame = explode_zones(frame)
        keys = frame["zone"].astype(object)
    else:
        party = frame["attributed_party"].astype(object).fillna("")
        keys = party.where(party != "", UNATTRIBUTED)
    times = pd.to_datetime(frame["occurred_at"], utc=True)
    out = pd.DataFrame(index=pd.Index(sorted(set(keys)), name=by))
    for window in windows:
        hours = int(window.total_seconds() // 3600)
        last = keys[(times >= end - window)].value_counts()
        prev = keys[(times >= end - 2 * window) & (times < end - window)].value_counts()
        out[f"last_{hours}h"] = last.reindex(out.index, fill_value=0).astype("int64")
        out[f"prev_{hours}h"] = prev.reindex(out.index, fill_value=0).astype("int64")
        out[f"change_{hours}h"] = out[f"last_{hours}h"] - out[f"prev_{hours}h"]
    return out
