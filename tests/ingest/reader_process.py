"""A dashboard-like reader, run as its own process by the concurrency tests.

``python -m tests.ingest.reader_process URL STOP OUT`` reads the store in a loop, as the
dashboard does (an :class:`geo.services.cache.IncidentCache` snapshot, ``store.count``,
``store.query``, and now and then a freshly opened store), until the file STOP exists and
one more round is done. It writes what it saw to OUT as JSON; any error ends it with a
traceback on stderr and exit code 1.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from geo.core.filters import Filters
from geo.services.cache import IncidentCache
from geo.store import open_store

TIME_LIMIT_S = 300.0


def main(url: str, stop: Path, out: Path) -> None:
    store = open_store(url)
    cache = IncidentCache(store)
    seen: list[dict[str, int]] = []
    started = time.monotonic()
    last_round = False
    while True:
        last_round = stop.exists()
        snap = cache.snapshot()
        view = store.query(columns=["incident_id", "verdict"], filters=Filters(sources=("monitor-team-a",)))
        fresh = open_store(url) if len(seen) % 5 == 0 else None  # open while an upload holds the lock
        seen.append(
            {
                "snapshot": len(snap.frame),
                "snapshot_max_id": snap.max_id,
                "count": store.count(),
                "query": len(view),
                "batches": len(store.batches()),
                "fresh_count": fresh.count() if fresh else -1,
            }
        )
        if fresh:
            fresh.close()
        if len(seen) == 1:
            out.with_suffix(".ready").write_text("ready")
        if last_round or time.monotonic() - started > TIME_LIMIT_S:
            break
    store.close()
    out.write_text(json.dumps(seen))


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
