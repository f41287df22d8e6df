"""No network from data: PROJ and GDAL run with network access off in every process.

Truceline never downloads anything at run time, and a data file must not make it: a
GeoJSON ``crs`` of type ``link`` made GDAL fetch the address it named (a server-side
request forgery), and PROJ fetches transformation grids from its CDN when its network
is on. :func:`apply` turns both off. It runs when ``geo`` is imported (before PROJ or
GDAL are loaded: both read these settings from the environment, and processes started
from this one inherit them) and again in each module that loads them, in case a caller
imported pyproj or pyogrio first.

GDAL has no single switch for its HTTP client, so every HTTP request it could make is
sent to a proxy at a closed local port with a one-second time-out and no retries, and
``/vsicurl/`` reads nothing. The readers also refuse a CRS given by a link or a URL
before GDAL sees the file (:mod:`geo.core._geomfiles`).
"""

from __future__ import annotations

import os
import sys

_DEAD_PROXY = "127.0.0.1:9"
"""The discard port of the loopback interface: nothing listens there, so a request fails at once."""

GDAL_OPTIONS: dict[str, str] = {
    "GDAL_HTTP_PROXY": _DEAD_PROXY,
    "GDAL_HTTPS_PROXY": _DEAD_PROXY,
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".truceline-no-network",
    "GDAL_HTTP_NETRC": "NO",
}
"""GDAL configuration options that keep its HTTP client from reaching anything."""

ENVIRONMENT: dict[str, str] = {"PROJ_NETWORK": "OFF", **GDAL_OPTIONS}
"""What :func:`apply` puts in the environment (overriding any value found there)."""


def apply() -> None:
    """
    Turn network access off for PROJ and GDAL in this process and the processes it starts.

    Sets :data:`ENVIRONMENT`; when pyproj or pyogrio are already loaded, also turns
    their network off directly. Safe to call any number of times.
    """
    os.environ.update(ENVIRONMENT)
    if "pyproj" in sys.modules:
        import pyproj.network

        pyproj.network.set_network_enabled(active=False)  # type: ignore[attr-defined]
    if "pyogrio" in sys.modules:
        import pyogrio

        pyogrio.set_gdal_config_options(GDAL_OPTIONS)


def network_enabled() -> bool:
    """Whether PROJ could reach the network in this process (``False`` once :func:`apply` ran)."""
    import pyproj.network

    return bool(pyproj.network.is_network_enabled())  # type: ignore[attr-defined]
