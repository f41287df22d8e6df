"""The dashboard's web server additions: the session cookie, the gate on uploads and metrics, the setup token.

``streamlit run dashboard/app.py`` finds the ``st.App`` that ``app.py`` builds from these
(Streamlit's ASGI app, 1.53 and later) and serves the pages with:

- ``POST /auth/cookie``: exchanges a one-time ticket (handed to the signed-in page) for the
  ``HttpOnly``, ``SameSite=Lax`` session cookie (``Secure`` over TLS); ``POST /auth/signout``
  ends the cookie's session and clears the cookie. Both refuse requests from another origin.
- A middleware that answers 403 to ``/_stcore/upload_file/…`` without a signed-in session
  allowed to upload, and to ``/_stcore/metrics`` without a signed-in session; and
  ``GET /auth/check?need=upload|view``, the same check for a reverse proxy's sub-request.
- At start, when the store has no account yet, a one-time setup token printed on the console.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from collections.abc import AsyncIterator, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import urlsplit

import anyio
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dashboard import upload_spool
from geo import TrucelineError
from geo.core.auth import Principal
from geo.services import sessions
from geo.services.accounts import SETUP_TOKEN_MINUTES, issue_setup_token
from geo.store import Store, default_url, open_store

COOKIE_PATH = "/"
_log = logging.getLogger("truceline.server")
_store_lock = threading.Lock()
_stores: dict[str, Store] = {}

Asgi = Callable[..., Any]


def store() -> Store:
    """The store the server answers from (``TRUCELINE_DB``), opened once per process."""
    url = default_url()
    with _store_lock:
        if url not in _stores:
            _stores[url] = open_store(url)
        return _stores[url]


def base_path() -> str:
    """``server.baseUrlPath`` as a prefix ("" or ``/path``)."""
    from streamlit import config

    base = str(config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def _same_origin(request: Request) -> bool:
    """Whether a state-changing request comes from a page of this site (its ``Origin`` names this host)."""
    origin = request.headers.get("origin", "")
    host = request.headers.get("host", "").lower()
    if not origin or not host:
        return False
    parts = urlsplit(origin.lower())
    # A proxy may pass the host without its port (nginx's $host): then the names must match.
    return parts.netloc == host or (":" not in host.rsplit("]", 1)[-1] and parts.hostname == host)


def _secure(request: Request) -> bool:
    """Whether the browser reached us over TLS (directly, or through a trusted proxy that says so)."""
    if request.url.scheme == "https":
        return True
    peer = request.client.host if request.client else None
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and sessions.is_trusted_proxy(peer)


async def set_cookie(request: Request) -> Response:
    """Exchange a one-time ticket for the session cookie."""
    if not _same_origin(request):
        return PlainTextResponse("cross-origin request refused", status_code=403)
    form = await request.form()
    ticket = str(form.get("ticket") or "")
    session_id = await anyio.to_thread.run_sync(lambda: sessions.redeem_ticket(store(), ticket))
    if session_id is None:
        return PlainTextResponse("ticket unknown, used or expired", status_code=403)
    reply = Response(status_code=204, headers={"Cache-Control": "no-store"})
    reply.set_cookie(
        sessions.COOKIE_NAME,
        session_id,
        max_age=int(sessions.lifetime().total_seconds()),
        path=COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    return reply


async def sign_out(request: Request) -> Response:
    """End the cookie's session and clear the cookie."""
    if not _same_origin(request):
        return PlainTextResponse("cross-origin request refused", status_code=403)
    session_id = request.cookies.get(sessions.COOKIE_NAME)
    if session_id:
        await anyio.to_thread.run_sync(lambda: sessions.end(store(), session_id))
    reply = Response(status_code=204, headers={"Cache-Control": "no-store"})
    reply.delete_cookie(
        sessions.COOKIE_NAME, path=COOKIE_PATH, httponly=True, samesite="lax", secure=_secure(request)
    )
    return reply


async def check(request: Request) -> Response:
    """
    ``204`` if the request's session may do ``?need=upload`` (or ``view``, the default), else ``403``.

    For a reverse proxy's sub-request (nginx ``auth_request``), so that the proxy refuses
    uploads and metrics before reading their body.
    """
    need = request.query_params.get("need", "view")
    if need not in ("upload", "view"):
        return PlainTextResponse("need: upload or view", status_code=400)
    allowed = await SessionGate.allowed(request.cookies.get(sessions.COOKIE_NAME), need)
    status = 204 if allowed else 403
    return Response(status_code=status, headers={"Cache-Control": "no-store"})


def routes() -> list[Route]:
    """The routes the dashboard adds to Streamlit's."""
    base = base_path()
    return [
        Route(f"{base}/auth/cookie", set_cookie, methods=["POST"]),
        Route(f"{base}/auth/signout", sign_out, methods=["POST"]),
        Route(f"{base}/auth/check", check, methods=["GET"]),
    ]


class SessionGate:
    """
    ASGI middleware: Streamlit's upload and metrics endpoints only for signed-in sessions.

    Streamlit accepts file uploads (``/_stcore/upload_file/…``) from any browser session and
    keeps them in memory, and publishes ``/_stcore/metrics`` to anyone; here an upload needs a
    session whose role may upload, and the metrics a signed-in session of any role.
    """

    def __init__(self, app: Asgi) -> None:
        self.app = app
        base = base_path()
        self.upload = f"{base}/_stcore/upload_file"
        self.metrics = f"{base}/_stcore/metrics"

    async def __call__(self, scope: dict[str, Any], receive: Asgi, send: Asgi) -> None:
        """Refuse a gated request without a fitting session; pass everything else on."""
        if scope["type"] == "http":
            path = str(scope.get("path", ""))
            need = ""
            if path == self.upload or path.startswith(self.upload + "/"):
                need = "upload"
            elif path == self.metrics or path.startswith(self.metrics + "/"):
                need = "view"
            if need and not await self.allowed(_cookie(scope, sessions.COOKIE_NAME), need):
                reply = PlainTextResponse("sign in first", status_code=403)
                await reply(scope, receive, send)
                return
            if need == "upload":
                ids = path[len(self.upload) + 1 :].split("/")
                if scope.get("method") == "PUT" and len(ids) == 2 and all(ids):
                    answer = await upload_spool.receive(Request(scope, receive), *ids)
                    await answer(scope, receive, send)
                    return
                if scope.get("method") == "DELETE" and len(ids) == 2:
                    await anyio.to_thread.run_sync(upload_spool.forget, ids[0], ids[1])
        await self.app(scope, receive, send)

    @staticmethod
    async def allowed(session_id: str | None, permission: str) -> bool:
        """Whether ``session_id`` names a live session whose role may do ``permission``."""
        if not session_id:
            return False

        def check() -> Principal | None:
            found = sessions.resume(store(), session_id, touch=False)
            return None if found is None else found.principal

        try:
            user = await anyio.to_thread.run_sync(check)
        except TrucelineError:
            _log.warning("cannot check a session against the store", exc_info=True)
            return False
        return user is not None and user.can(permission)


def _cookie(scope: dict[str, Any], name: str) -> str | None:
    for key, value in scope.get("headers", []):
        if key == b"cookie":
            jar: SimpleCookie = SimpleCookie()
            with contextlib.suppress(Exception):
                jar.load(value.decode("latin-1"))
            if name in jar:
                return jar[name].value
    return None


def announce_setup_token() -> str | None:
    """On a store without accounts, print a one-time setup token on the server's console."""
    try:
        token = issue_setup_token(store())
    except TrucelineError as err:
        _log.warning("first-run setup token: %s", err)
        return None
    if token:
        sys.stderr.write(
            "\n  Truceline has no account yet. To create the first administrator on the web page,\n"
            f"  enter this setup token (single use, valid {SETUP_TOKEN_MINUTES} minutes):\n\n"
            f"      {token}\n\n"
            "  Or create it here: python -m geo users add NAME --role admin\n\n"
        )
        sys.stderr.flush()
    return token


@contextlib.asynccontextmanager
async def lifespan(_app: object) -> AsyncIterator[None]:
    """Server start: the setup token when it is needed."""
    await anyio.to_thread.run_sync(announce_setup_token)
    yield
