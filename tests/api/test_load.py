"""Concurrent clients posting batches: nothing lost, nothing stored twice, no error (benchmarks/api_load.py).

The default run: 4 clients x 5 batches of 50, on the API in this process. The full load
(20 clients, 100,000 incidents in batches of 500, the dashboard open) is the benchmark
``python -m benchmarks.api_load``, run here under ``-m benchmark``.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from benchmarks.api_load import REPO, SOURCE, make_batches, post_all, tally
from geo.services.tokens import add_token


def test_concurrent_clients_lose_and_duplicate_nothing(api, api_store):
    batches = make_batches(250, 50, seed=3)
    secrets = [add_token(api_store, f"load-{i}", "analyst", scenario_id="korea") for i in range(4)]
    outcome = post_all(api.base, secrets, batches)
    assert outcome.errors == []
    assert len(outcome.latencies) == len(batches) == 5
    assert outcome.accepted == 250
    korea = api_store.using("korea")
    assert tally(korea, batches) == (0, 0)
    assert korea.scalar("SELECT COUNT(*) FROM incidents WHERE source = ?", (SOURCE,)) == 250
    batch_rows = korea.frame("SELECT user_name, accepted FROM batches WHERE scenario_id = 'korea'")
    assert len(batch_rows) == 5 and batch_rows["accepted"].sum() == 250
    assert set(batch_rows["user_name"]) <= {f"token:load-{i}" for i in range(4)}
    # every client posting everything again: all duplicates, nothing added
    again = post_all(api.base, secrets, batches)
    assert (again.accepted, again.duplicate) == (0, 250)
    assert all("HTTP" not in e for e in again.errors)  # answered 200, every row a duplicate
    assert tally(korea, batches) == (0, 0)


@pytest.mark.benchmark
def test_the_full_load_with_the_dashboard_open():
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.api_load"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=3600,
    )
    assert done.returncode == 0, done.stderr
    assert "lost 0, duplicated 0, errors 0" in done.stdout, done.stdout
    assert ", 0 errors" in done.stdout.splitlines()[-1], done.stdout
