"""Timing and machine description shared by the benchmark scripts."""

from __future__ import annotations

import os
import platform
import statistics
import time
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

LIBRARIES = (
    "numpy", "pandas", "shapely", "geopandas", "pyproj", "numba", "pyogrio", "folium", "matplotlib",
    "streamlit", "streamlit-folium",
)  # fmt: skip


def timed(fn: Callable[[], T], repeat: int) -> tuple[float, T]:
    """Median seconds over ``repeat`` calls of ``fn``, and the last result."""
    times: list[float] = []
    result: T
    for _ in range(max(repeat, 1)):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def _cpu_model() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return platform.processor() or "unknown"
    for line in text.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "-"


def machine() -> str:
    """Where the figures are measured: CPUs, threads, load, Python and library versions."""
    import sqlite3

    import numba
    import pyproj
    import shapely

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "-"
    libs = ", ".join(f"{name} {_version(name)}" for name in LIBRARIES)
    return (
        f"machine: {_cpu_model()}; os.cpu_count() {os.cpu_count()}, usable CPUs (nproc) {usable}, "
        f"numba threads {numba.get_num_threads()}; load average {load}\n"
        f"python {platform.python_version()}; {libs}; GEOS {shapely.geos_version_string}, "
        f"PROJ {pyproj.proj_version_str}, SQLite {sqlite3.sqlite_version}"
    )
