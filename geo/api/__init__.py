"""The HTTP API: ``python -m geo api`` serves :func:`create_app` with uvicorn (see docs/api.md)."""

from __future__ import annotations

from geo.api._app import PREFIX, create_app
from geo.api._guard import ApiError, Limits, RateLimiter

__all__ = ["PREFIX", "ApiError", "Limits", "RateLimiter", "create_app", "serve"]


def serve(store_url: str | None = None, *, host: str = "127.0.0.1", port: int = 8600) -> None:
    """
    Serve the API until interrupted.

    Parameters
    ----------
    store_url
        The store (default: ``TRUCELINE_DB``, else the embedded file).
    host, port
        Where to listen (default: loopback only, port 8600).
    """
    import uvicorn

    from geo.store import open_store

    store = open_store(store_url)
    try:
        uvicorn.run(create_app(store), host=host, port=port, log_level="warning", access_log=False)
    finally:
        store.close()
