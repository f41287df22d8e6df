"""
Uploaded files written to disk as they arrive, never held in the server's memory.

Streamlit's own upload endpoint reads a whole file into memory and keeps it there for the
session's life: a 166 MB CSV raised the server by 416 MB before any page code ran. The
dashboard's server therefore answers ``PUT /_stcore/upload_file/{session}/{file}`` itself
(:func:`receive`, called by :class:`dashboard.server.SessionGate`): the multipart body is
parsed as it streams (Starlette's parser; a part over 1 MB goes to a temporary file), the
file is copied into a private upload folder, and Streamlit's file uploader is handed a
short *receipt* in place of the bytes. The pages redeem it: :func:`saved` gives the
Upload page the file's path (its worker reads it there), :func:`contents` gives the other
pages the bytes. Files a page gets without the web server (AppTest) are real bytes and
pass through unchanged.

A receipt is good only in the browser session whose upload it answers; a file whose bytes
merely look like a receipt is read as the file it is.
"""

from __future__ import annotations

import secrets
import shutil
import threading
from collections.abc import MutableMapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import anyio
from starlette.datastructures import FormData, UploadFile
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response

from geo.services.upload_jobs import save_upload

RECEIPT = b"\x00truceline-spooled-upload\x00"
"""How a receipt starts; a random token follows."""


@dataclass(frozen=True)
class Spooled:
    """One upload on disk: whose it is, where, and its size in bytes."""

    session_id: str
    file_id: str
    path: Path
    size: int


_lock = threading.Lock()
_spooled: dict[str, Spooled] = {}  # receipt token -> the file


def keep(source: IO[bytes], *, session_id: str, file_id: str, name: str) -> tuple[bytes, Spooled]:
    """
    Copy ``source`` into a new private folder and issue its receipt.

    Returns
    -------
    tuple of (bytes, Spooled)
        The receipt to hand to Streamlit in place of the file, and the file on disk.
    """
    path = save_upload(source, name)  # the folder and name an upload copied by a page gets
    token = secrets.token_hex(16)
    spooled = Spooled(session_id, file_id, path, path.stat().st_size)
    with _lock:
        _spooled[token] = spooled
    return RECEIPT + token.encode("ascii"), spooled


def _browser_session() -> str | None:
    """The Streamlit session of the running page (the id in its upload URLs)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return None if ctx is None else ctx.session_id


def saved(upload: Any) -> Spooled | None:
    """
    The file behind ``upload`` (a Streamlit ``UploadedFile``) if the server spooled it.

    None when ``upload`` holds real bytes, or a receipt issued to another browser session.
    """
    if upload.size > len(RECEIPT) + 64:
        return None
    data = upload.getvalue()
    if not data.startswith(RECEIPT):
        return None
    with _lock:
        found = _spooled.get(data[len(RECEIPT) :].decode("ascii", "replace"))
    if found is None or found.session_id != _browser_session() or not found.path.exists():
        return None
    return found


def contents(upload: Any) -> bytes:
    """The bytes of ``upload``: read from disk when the server spooled it, else the upload's own."""
    found = saved(upload)
    return found.path.read_bytes() if found is not None else bytes(upload.getvalue())


def forget(session_id: str, file_id: str | None = None) -> int:
    """Remove a session's spooled files (one, or all of them); return how many."""
    with _lock:
        gone = [
            token
            for token, item in _spooled.items()
            if item.session_id == session_id and file_id in (None, item.file_id)
        ]
        items = [_spooled.pop(token) for token in gone]
    for item in items:
        shutil.rmtree(item.path.parent, ignore_errors=True)
    return len(items)


def sessions() -> set[str]:
    """The browser sessions that have spooled files."""
    with _lock:
        return {item.session_id for item in _spooled.values()}


FRAMING_BYTES = 1 << 20
"""Room for the multipart framing around a file of exactly ``server.maxUploadSize`` (as Streamlit allows)."""


class _TooLargeError(Exception):
    """The request body passed the upload limit while it streamed."""


def _refusal(request: Request, session_id: str, limit: int) -> Response | None:
    """Streamlit's own checks before a body is read: XSRF token, a live session, the declared size."""
    from streamlit.runtime import Runtime
    from streamlit.web.server.server_util import is_xsrf_enabled
    from streamlit.web.server.starlette.starlette_app_utils import validate_xsrf_token
    from streamlit.web.server.starlette.starlette_server_config import XSRF_COOKIE_NAME

    if is_xsrf_enabled() and not validate_xsrf_token(
        request.headers.get("X-Xsrftoken"), request.cookies.get(XSRF_COOKIE_NAME)
    ):
        return PlainTextResponse("XSRF token missing or invalid", status_code=403)
    if not Runtime.instance().is_active_session(session_id):
        return PlainTextResponse("no such session", status_code=400)
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + FRAMING_BYTES:
        return PlainTextResponse("file too large", status_code=413)
    return None


async def _form(request: Request, limit: int) -> FormData | Response:
    """The multipart form, parsed as it streams; refused once the body passes the limit."""
    received = 0

    async def receive_capped() -> MutableMapping[str, Any]:
        nonlocal received
        message = await request.receive()
        received += len(message.get("body", b""))
        if received > limit + FRAMING_BYTES:
            raise _TooLargeError
        return message

    try:
        return await Request(request.scope, receive_capped).form(max_files=1, max_fields=10)
    except _TooLargeError:
        return PlainTextResponse("file too large", status_code=413)
    except (ClientDisconnect, ValueError) as err:
        return PlainTextResponse(f"bad upload: {type(err).__name__}", status_code=400)


async def receive(request: Request, session_id: str, file_id: str) -> Response:
    """
    Answer ``PUT /_stcore/upload_file/{session_id}/{file_id}`` in place of Streamlit.

    The same checks as Streamlit's own endpoint (:func:`_refusal`, the size again while the
    body streams, one file per request); then the file goes to a private folder
    (:func:`keep`) and Streamlit's upload manager keeps only its receipt.
    """
    from streamlit import config
    from streamlit.runtime import Runtime
    from streamlit.runtime.uploaded_file_manager import UploadedFileRec

    limit = int(config.get_option("server.maxUploadSize")) * 1024 * 1024
    runtime = Runtime.instance()
    refused = _refusal(request, session_id, limit)
    if refused is not None:
        return refused
    for gone in sessions() - {session_id}:  # a session that ended leaves its files behind
        if not runtime.is_active_session(gone):
            await anyio.to_thread.run_sync(forget, gone)
    form = await _form(request, limit)
    if isinstance(form, Response):
        return form
    try:
        files = [value for value in form.values() if isinstance(value, UploadFile)]
        if len(files) != 1:
            return PlainTextResponse(f"expected 1 file, got {len(files)}", status_code=400)
        if (files[0].size or 0) > limit:
            return PlainTextResponse("file too large", status_code=413)
        upload, name = files[0], files[0].filename or ""
        upload.file.seek(0)
        receipt, _ = await anyio.to_thread.run_sync(
            lambda: keep(upload.file, session_id=session_id, file_id=file_id, name=name)
        )
    finally:
        await form.close()
    kind = upload.content_type or "application/octet-stream"
    manager: Any = runtime.uploaded_file_mgr  # Streamlit's MemoryUploadedFileManager
    manager.add_file(session_id, UploadedFileRec(file_id, name, kind, receipt))
    return Response(status_code=204)
