"""What every request passes before it reaches the store: errors as JSON, the body limit, the rate limit."""

from __future__ import annotations

import json
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

DEFAULT_MAX_BODY_MB = 10.0
DEFAULT_RATE_PER_MINUTE = 120.0
JSON_TYPES = ("application/json", "application/geo+json", "text/json")


class ApiError(Exception):
    """A refusal the API answers as ``{"error": {...}}`` with an HTTP status (never a 500)."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        problems: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        count: int | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.problems = problems or []
        self.headers = headers or {}
        self.count = count

    def body(self) -> dict[str, Any]:
        """The JSON answer."""
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.problems:
            error["problems"] = self.problems
            error["problem_count"] = self.count if self.count is not None else len(self.problems)
        return {"error": error}


@dataclass(frozen=True)
class Limits:
    """The API's limits: the largest body and the requests one token may make per minute."""

    max_body_bytes: int = int(DEFAULT_MAX_BODY_MB * 1024 * 1024)
    rate_per_minute: float = DEFAULT_RATE_PER_MINUTE

    @classmethod
    def from_env(cls) -> Limits:
        """``TRUCELINE_API_MAX_BODY_MB`` and ``TRUCELINE_API_RATE`` (requests per minute per token)."""
        body = _positive("TRUCELINE_API_MAX_BODY_MB", DEFAULT_MAX_BODY_MB)
        rate = _positive("TRUCELINE_API_RATE", DEFAULT_RATE_PER_MINUTE)
        return cls(int(body * 1024 * 1024), rate)


def _positive(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        msg = f"{name}={raw!r}: expected a positive number"
        raise ValueError(msg)
    return value


@dataclass
class RateLimiter:
    """A token bucket per API token: ``rate`` requests a minute, in bursts of up to ``rate``."""

    rate_per_minute: float
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, key: str, *, now: float | None = None) -> float:
        """Spend one request of ``key``; 0 when allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        capacity = max(self.rate_per_minute, 1.0)
        per_second = self.rate_per_minute / 60.0
        with self._lock:
            tokens, last = self._buckets.get(key, (capacity, now))
            tokens = min(capacity, tokens + (now - last) * per_second)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / per_second


async def read_json(request: Request, limit: int) -> Any:
    """
    The request's JSON body, read up to ``limit`` bytes.

    Raises
    ------
    ApiError
        413 when the body is larger, 415 when it is not JSON, 400 when it does not parse.
    """
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind not in JSON_TYPES:
        msg = f"Content-Type: {kind or '(none)'}: send application/json"
        raise ApiError(415, "unsupported_media_type", msg)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        msg = f"body: byte {err.start}: not UTF-8"
        raise ApiError(400, "malformed_json", msg) from err
    try:
        payload = json.loads(text, parse_constant=_no_constant)
        json.dumps(payload, ensure_ascii=False).encode("utf-8")  # a lone surrogate (\ud800) is no text
    except json.JSONDecodeError as err:
        msg = f"body: line {err.lineno} column {err.colno}: {err.msg}"
        raise ApiError(400, "malformed_json", msg) from err
    except UnicodeEncodeError as err:
        msg = "body: a string holds a lone surrogate escape (such as \\ud800): not Unicode text"
        raise ApiError(400, "malformed_json", msg) from err
    except (ValueError, RecursionError) as err:
        msg = f"body: {err}" if isinstance(err, ValueError) else "body: nested too deeply"
        raise ApiError(400, "malformed_json", msg) from err
    return payload


def _no_constant(name: str) -> Any:
    msg = f"{name} is not JSON"
    raise ValueError(msg)


def _too_large(limit: int) -> ApiError:
    msg = f"body: larger than {limit:,} bytes (TRUCELINE_API_MAX_BODY_MB); send smaller batches"
    return ApiError(413, "body_too_large", msg)
