"""The HTTP API (FastAPI): incidents in and out, scenarios as GeoJSON, KoboToolbox submissions.

Every route but ``/api/v1/health`` and the documentation needs ``Authorization: Bearer
TOKEN`` (:mod:`geo.services.tokens`). A token reads and writes its own scenario only.
Every refusal is a JSON ``{"error": {"status", "code", "message", "problems"?}}`` with a
4xx status; a posted batch is stored whole or not at all.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pandas as pd
from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

import geo
from geo._errors import (
    AuthenticationError,
    BatchError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
    ReaderError,
    TrucelineError,
)
from geo.api._guard import ApiError, Limits, RateLimiter, read_json
from geo.core.filters import Filters
from geo.services import tokens as token_service
from geo.services.intake import MAX_PROBLEMS, Problem
from geo.store import Store

T = TypeVar("T")
PREFIX = "/api/v1"
DEFAULT_PAGE = 1000
MAX_PAGE = 10_000
_DOCS_ASSETS = "/api/v1/docs-assets"

_BATCH_SCHEMA: dict[str, Any] = {
    "oneOf": [
        {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Incident"},
            "description": "House-template incidents",
        },
        {
            "type": "object",
            "description": "A GeoJSON FeatureCollection of points; properties are template fields",
            "required": ["type", "features"],
            "properties": {"type": {"const": "FeatureCollection"}, "features": {"type": "array"}},
        },
    ]
}


_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
                "status": {"type": "integer"},
                "code": {"type": "string"},
                "message": {"type": "string", "description": "One line: where (row, field) and what"},
                "problems": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "row": {
                                "type": ["integer", "null"],
                                "description": "0-based; null: the whole body",
                            },
                            "field": {"type": "string"},
                            "problem": {"type": "string"},
                        },
                    },
                },
                "problem_count": {"type": "integer"},
            },
        }
    },
}
_SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "The batch's summary (as `python -m geo ingest --json`) and its rejected rows",
    "properties": {
        **{
            key: {"type": "integer"}
            for key in (
                "batch_id",
                "rows_read",
                "accepted",
                "rejected",
                "duplicate",
                "near_duplicates",
                "new_breaches",
            )
        },
        "format": {"type": "string"},
        "encoding": {"type": "string"},
        "warnings": {"type": "array", "items": {"type": "string"}},
        "rejected_rows": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "row": {"type": "integer"},
                    "line": {"type": "integer"},
                    "reason": {"type": "string"},
                },
            },
        },
    },
}
_GEOJSON = {
    "application/geo+json": {"schema": {"type": "object", "description": "A GeoJSON FeatureCollection"}}
}


def _responses(ok: dict[str, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI answers of a route: ``ok`` as 200, and the JSON error of each status."""
    described = {
        400: "The body is not JSON",
        401: "No token, or an unknown or revoked one",
        403: "The token's role or scenario does not allow it",
        404: "No such scenario",
        413: "The body is too large",
        415: "The body is not JSON",
        422: "The batch or a query parameter is wrong: each problem named",
        429: "The token's rate limit",
    }
    out: dict[int | str, dict[str, Any]] = {200: ok}
    for status in errors:
        out[status] = {
            "description": described[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return out


_SUMMARY_OK = {
    "description": "Stored as one batch",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchSummary"}}},
}
_WRITE_ERRORS = (400, 401, 403, 404, 413, 415, 422, 429)
_READ_ERRORS = (401, 403, 404, 422, 429)


def _incident_schema() -> dict[str, Any]:
    from geo.services.intake import FIELDS, NUMBER_FIELDS

    props: dict[str, Any] = {
        name: {"type": ["number", "string", "null"]}
        if name in NUMBER_FIELDS
        else {"type": ["string", "number", "null"]}
        for name in FIELDS
    }
    props["lat"]["minimum"], props["lat"]["maximum"] = -90, 90
    props["lon"]["minimum"], props["lon"]["maximum"] = -180, 180
    return {
        "type": "object",
        "required": ["occurred_at", "lat", "lon", "category"],
        "additionalProperties": False,
        "properties": props,
        "example": {
            "event_id": "team-a-0042",
            "occurred_at": "2026-05-02T04:10:00Z",
            "lat": 38.05,
            "lon": 127.0,
            "category": "artillery_fire",
            "actor": "KPA",
            "source": "team-a",
        },
    }


@dataclass(frozen=True)
class Caller:
    """The token a request came with."""

    token: token_service.Token

    def store(self, store: Store, scenario: str | None) -> Store:
        """The store on the token's scenario; ``scenario``, if given, must be that one."""
        if scenario is not None and scenario != self.token.scenario_id:
            if not store.has_scenario(scenario):
                msg = f"scenario: {scenario!r} is not in the store"
                raise ApiError(404, "unknown_scenario", msg, problems=[_field("scenario", msg)])
            held = self.token.scenario_id
            msg = f"scenario: token {self.token.name!r} is for scenario {held!r}, not {scenario!r}"
            raise ApiError(403, "wrong_scenario", msg, problems=[_field("scenario", msg)])
        return store.using(self.token.scenario_id)


def _field(name: str, problem: str) -> dict[str, Any]:
    return {"row": None, "field": name, "problem": problem}


def create_app(store: Store, *, limits: Limits | None = None) -> FastAPI:  # noqa: PLR0915 - the routes
    """
    The API application over ``store``.

    Parameters
    ----------
    store
        The store; shared by every request (each worker thread has its own connection).
    limits
        The body and rate limits (default: from the environment, :meth:`Limits.from_env`).
    """
    limits = limits or Limits.from_env()
    limiter = RateLimiter(limits.rate_per_minute)
    # The store takes one writer at a time. Batches of this process queue here, first come
    # first served, instead of polling the database's lock (unfair, and idle between polls);
    # writers of other processes (the dashboard, the command line) still wait on the store.
    writer = ThreadPoolExecutor(1, "truceline-api-writer")

    async def write(job: Callable[[], T]) -> T:
        return await asyncio.wrap_future(writer.submit(job))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        del app
        yield
        writer.shutdown(wait=True)

    app = FastAPI(
        lifespan=lifespan,
        title="Truceline API",
        version=geo.__version__,
        description=(
            "Incidents in and out of a Truceline store, its scenarios as GeoJSON, and KoboToolbox "
            "submissions. Authenticate with `Authorization: Bearer TOKEN` "
            "(`python -m geo tokens add NAME --role analyst`)."
        ),
        openapi_url=f"{PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    _mount_docs(app)
    _handlers(app)

    def lookup(secret: str) -> tuple[token_service.Token, bool]:
        token = token_service.token_for(store, secret)
        return token, store.has_scenario(token.scenario_id)

    async def caller(request: Request, permission: str) -> Caller:
        header = request.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != "bearer" or not secret.strip():
            msg = "Authorization: send 'Authorization: Bearer TOKEN'"
            raise ApiError(401, "unauthenticated", msg, headers={"WWW-Authenticate": "Bearer"})
        try:
            token, held = await run_in_threadpool(lookup, secret.strip())
        except AuthenticationError as err:
            raise ApiError(401, "unauthenticated", str(err), headers={"WWW-Authenticate": "Bearer"}) from err
        if not held:
            msg = f"scenario: {token.scenario_id!r} (of token {token.name!r}) is no longer in the store"
            raise ApiError(404, "unknown_scenario", msg)
        wait = limiter.take(token.name)
        if wait:
            msg = f"token {token.name!r}: more than {limits.rate_per_minute:g} requests a minute; retry later"
            raise ApiError(429, "rate_limited", msg, headers={"Retry-After": str(int(wait) + 1)})
        if not token.principal.can(permission):
            msg = f"token {token.name!r} ({token.role}): not allowed to {permission}"
            raise ApiError(403, "forbidden", msg)
        return Caller(token)

    @app.get(f"{PREFIX}/health", tags=["service"], summary="Whether the API and its store answer")
    def health() -> dict[str, Any]:
        return {"status": "ok", "schema_version": store.schema_version(), "version": geo.__version__}

    @app.get(f"{PREFIX}/scenarios", tags=["scenarios"], summary="The scenarios this token may read")
    async def scenarios(request: Request) -> dict[str, Any]:
        who = await caller(request, "view")
        scoped = who.store(store, None)
        meta = await run_in_threadpool(scoped.scenario_meta)
        item = {
            "id": scoped.scenario_id,
            "name": meta.get("name", scoped.scenario_id),
            "href": f"{PREFIX}/scenarios/{scoped.scenario_id}",
        }
        return {"scenarios": [item]}

    @app.get(
        f"{PREFIX}/scenarios/{{scenario_id}}",
        tags=["scenarios"],
        summary="A scenario's lines and zones (GeoJSON), with its rules and parties",
        responses=_responses({"description": "The scenario", "content": _GEOJSON}, *_READ_ERRORS),
    )
    async def scenario(request: Request, scenario_id: str) -> Response:
        who = await caller(request, "view")
        scoped = who.store(store, scenario_id)
        from geo.io.writers import scenario_geojson

        loaded = await run_in_threadpool(scoped.scenario)
        if loaded is None:
            msg = f"scenario: {scenario_id!r} holds no lines or zones yet"
            raise ApiError(404, "unknown_scenario", msg)
        doc = scenario_geojson(loaded, scenario_id=scoped.scenario_id)
        return _geojson(doc)

    @app.get(
        f"{PREFIX}/incidents",
        tags=["incidents"],
        summary="Incidents with their classification, filtered, as GeoJSON pages",
        responses=_responses(
            {"description": "One page; next_cursor for the next", "content": _GEOJSON}, *_READ_ERRORS
        ),
    )
    async def incidents(
        request: Request,
        since: Annotated[
            str | None, Query(description="First time included (ISO 8601, UTC if naive)")
        ] = None,
        until: Annotated[str | None, Query(description="First time excluded")] = None,
        party: Annotated[
            list[str] | None, Query(description="Attributed party id (repeat, or comma-separated)")
        ] = None,
        zone: Annotated[list[str] | None, Query(description="Zone id")] = None,
        verdict: Annotated[
            list[str] | None, Query(description="breach, possible_breach, no_breach, outside_monitored_area")
        ] = None,
        category: Annotated[list[str] | None, Query(description="Category id")] = None,
        verification: Annotated[
            list[str] | None, Query(description="reported, verified, disputed, rejected")
        ] = None,
        source: Annotated[list[str] | None, Query(description="Source")] = None,
        scenario: Annotated[str | None, Query(description="Scenario id (must be the token's)")] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Incidents per page")] = DEFAULT_PAGE,
        cursor: Annotated[str | None, Query(description="The next_cursor of the page before")] = None,
    ) -> Response:
        who = await caller(request, "view")
        scoped = who.store(store, scenario)
        filters = Filters(
            since=_time("since", since),
            until=_time("until", until),
            parties=_listed(party),
            zones=_listed(zone),
            verdicts=_verdicts(_listed(verdict)),
            categories=_listed(category),
            verifications=_listed(verification),
            sources=_listed(source),
        )
        after = _cursor(cursor)
        view = await run_in_threadpool(
            lambda: scoped.query(filters, limit=limit + 1, order="incident_id ASC", after_id=after)
        )
        more = len(view) > limit
        view = view.iloc[:limit]
        from geo.io.writers import to_geojson

        doc = json.loads(to_geojson(view))
        doc["scenario"] = scoped.scenario_id
        doc["filters"] = filters.describe()
        doc["next_cursor"] = _encode_cursor(int(view["incident_id"].iloc[-1])) if more else None
        return _geojson(doc)

    @app.post(
        f"{PREFIX}/incidents",
        tags=["incidents"],
        summary="Upload incidents as one batch (validated, deduplicated, classified)",
        responses=_responses(_SUMMARY_OK, *_WRITE_ERRORS),
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _BATCH_SCHEMA}},
            }
        },
    )
    async def post_incidents(
        request: Request,
        scenario: Annotated[str | None, Query(description="Scenario id (must be the token's)")] = None,
        source: Annotated[str | None, Query(description="Source of rows that name none")] = None,
    ) -> Response:
        who = await caller(request, "upload")
        scoped = who.store(store, scenario)
        payload = await read_json(request, limits.max_body_bytes)
        from geo.services.intake import checked_batch
        from geo.services.intake import post_incidents as post

        batch = await run_in_threadpool(checked_batch, payload)
        result = await write(
            lambda: post(scoped, batch, actor=who.token.principal, name="api.json", source_name=source)
        )
        return JSONResponse(result.as_json())

    @app.post(
        f"{PREFIX}/kobo",
        tags=["forms"],
        summary="Receive a KoboToolbox REST-service submission (JSON) through its form's stored mapping",
        responses=_responses(_SUMMARY_OK, *_WRITE_ERRORS),
        openapi_extra={
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}
        },
    )
    async def kobo(
        request: Request,
        scenario: Annotated[str | None, Query(description="Scenario id (must be the token's)")] = None,
    ) -> Response:
        who = await caller(request, "upload")
        scoped = who.store(store, scenario)
        payload = await read_json(request, limits.max_body_bytes)
        from geo.services.forms import receive_kobo

        result = await write(lambda: receive_kobo(scoped, payload, actor=who.token.principal))
        return JSONResponse(result.as_json())

    app.openapi_schema = None
    base_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = base_openapi()
            schemas = doc.setdefault("components", {}).setdefault("schemas", {})
            schemas["Incident"] = _incident_schema()
            schemas["BatchSummary"] = _SUMMARY_SCHEMA
            schemas["Error"] = _ERROR_SCHEMA
            doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
            doc["security"] = [{"bearer": []}]
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _geojson(doc: dict[str, Any]) -> Response:
    body = json.dumps(doc, ensure_ascii=False, allow_nan=False, default=str).encode("utf-8")
    return Response(body, media_type="application/geo+json")


def _listed(values: list[str] | None) -> tuple[str, ...]:
    out: list[str] = []
    for value in values or ():
        out += [v.strip() for v in value.split(",") if v.strip()]
    return tuple(out)


def _verdicts(values: tuple[str, ...]) -> tuple[str, ...]:
    from geo.core.model import VERDICTS

    for value in values:
        if value not in VERDICTS:
            msg = f"verdict: {value!r} is not one of {', '.join(VERDICTS)}"
            raise ApiError(422, "invalid_query", msg, problems=[_field("verdict", msg)])
    return values


def _time(name: str, value: str | None) -> Any:
    if value is None or not value.strip():
        return None
    try:
        ts = pd.Timestamp(value.strip())
    except (ValueError, TypeError, OverflowError) as err:
        msg = f"{name}: {value!r} is not a date (YYYY-MM-DD or ISO 8601)"
        raise ApiError(422, "invalid_query", msg, problems=[_field(name, msg)]) from err
    if pd.isna(ts):
        msg = f"{name}: {value!r} is not a date (YYYY-MM-DD or ISO 8601)"
        raise ApiError(422, "invalid_query", msg, problems=[_field(name, msg)])
    utc = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return utc.to_pydatetime()


def _encode_cursor(after_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"after": after_id}).encode()).decode().rstrip("=")


def _cursor(value: str | None) -> int | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        after = json.loads(raw)["after"]
    except (binascii.Error, ValueError, KeyError, TypeError) as err:
        msg = "cursor: not a cursor this API gave (use next_cursor as it is)"
        raise ApiError(422, "invalid_query", msg, problems=[_field("cursor", msg)]) from err
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        msg = "cursor: not a cursor this API gave (use next_cursor as it is)"
        raise ApiError(422, "invalid_query", msg, problems=[_field("cursor", msg)])
    return after


def _mount_docs(app: FastAPI) -> None:
    """Swagger UI and ReDoc from assets shipped in a package (fastapi-offline): no CDN."""
    import fastapi_offline

    assets = Path(fastapi_offline.__file__).resolve().parent / "static"
    app.mount(_DOCS_ASSETS, StaticFiles(directory=assets), name="docs-assets")

    @app.get(f"{PREFIX}/docs", include_in_schema=False)
    def swagger() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="Truceline API",
            swagger_js_url=f"{_DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{_DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{_DOCS_ASSETS}/favicon.png",
        )

    @app.get(f"{PREFIX}/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        return get_redoc_html(
            openapi_url=f"{PREFIX}/openapi.json",
            title="Truceline API",
            redoc_js_url=f"{_DOCS_ASSETS}/redoc.standalone.js",
            redoc_favicon_url=f"{_DOCS_ASSETS}/favicon.png",
            with_google_fonts=False,
        )


_STATUS = (
    (BatchError, 422, "invalid_batch"),
    (ReaderError, 422, "unreadable_batch"),
    (NotFoundError, 404, "not_found"),
    (PermissionDeniedError, 403, "forbidden"),
    (AuthenticationError, 401, "unauthenticated"),
    (InputError, 422, "invalid_input"),
)


def _problems(err: BatchError) -> list[dict[str, Any]]:
    return [
        p.as_json() if isinstance(p, Problem) else _field("", str(p)) for p in err.problems[:MAX_PROBLEMS]
    ]


def _handlers(app: FastAPI) -> None:
    def answer(err: ApiError) -> JSONResponse:
        return JSONResponse(err.body(), status_code=err.status, headers=err.headers)

    @app.exception_handler(ApiError)
    async def api_error(request: Request, err: ApiError) -> JSONResponse:
        del request
        return answer(err)

    @app.exception_handler(TrucelineError)
    async def truceline_error(request: Request, err: TrucelineError) -> JSONResponse:
        del request
        from geo.core.names import printable

        for kind, status, code in _STATUS:
            if isinstance(err, kind):
                problems = _problems(err) if isinstance(err, BatchError) else None
                count = len(err.problems) if isinstance(err, BatchError) else None
                return answer(ApiError(status, code, printable(str(err)), problems=problems, count=count))
        # the store refused the write (busy, full disk): a server-side condition, said as one line
        return answer(ApiError(503, "unavailable", printable(str(err)), headers={"Retry-After": "5"}))

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, err: RequestValidationError) -> JSONResponse:
        del request
        problems = [
            _field(".".join(str(p) for p in e.get("loc", ())[1:]) or "request", str(e.get("msg", "")))
            for e in err.errors()
        ]
        first = problems[0] if problems else _field("request", "invalid")
        return answer(
            ApiError(422, "invalid_query", f"{first['field']}: {first['problem']}", problems=problems)
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, err: StarletteHTTPException) -> JSONResponse:
        del request
        return answer(ApiError(err.status_code, "http_error", str(err.detail)))
