"""The HTTP API the browser extension talks to (contract: DESIGN.md, openapi.py).

Guards, outermost first: JSON errors for everything; Host must be our loopback name
(DNS rebinding); a browser Origin must be an allowed extension (web pages may not ask);
CORS preflight for those origins; a bearer token on every route but health.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import re
import secrets
from collections.abc import Callable
from concurrent.futures import Executor
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path

import sqlite_utils
from aiohttp import web

from . import __version__, formats, lookup, store
from .openapi import OPENAPI

MAX_JSON_BYTES = 1024 * 1024
MAX_ITEMS = 500
MAX_FIELD_CHARS = 20_000
MAX_ID = 2**63 - 1  # SQLite's largest integer: a larger id cannot be bound, let alone known
CAPTURE_TYPES = {
    "text/plain": ".txt",
    "text/html": ".html",
    "application/json": ".json",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/atom+xml": ".xml",
    "application/rss+xml": ".xml",
    "message/rfc822": ".eml",
}

# Typed keys for what handlers share (aiohttp's AppKey).
READER = web.AppKey("reader", sqlite_utils.Database)
WRITER = web.AppKey("writer", sqlite_utils.Database)
READ_EXECUTOR = web.AppKey("read_executor", Executor)
WRITE_EXECUTOR = web.AppKey("write_executor", Executor)
TOKEN = web.AppKey("token", str)
INBOX = web.AppKey("inbox", Path)
AFTER_WRITE = web.AppKey("after_write", Callable[[], None])


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)


def make_app(
    *,
    reader: sqlite_utils.Database,
    writer: sqlite_utils.Database,
    read_executor: Executor,
    write_executor: Executor,
    token: str,
    inbox: Path,
    port: int,
    allowed_origins: tuple[str, ...],
    after_write: Callable[[], None] = lambda: None,
) -> web.Application:
    """The API app; ``after_write`` is called after each write it makes (marking read)."""
    app = web.Application(
        client_max_size=formats.MAX_BYTES,
        middlewares=[
            _json_errors,
            _host_guard(port),
            _origin_guard(allowed_origins),
            _token_guard(token),
        ],
    )
    app[READER], app[WRITER] = reader, writer
    app[READ_EXECUTOR], app[WRITE_EXECUTOR] = read_executor, write_executor
    app[TOKEN], app[INBOX] = token, inbox
    app[AFTER_WRITE] = after_write
    app.router.add_get("/api/v1/health", health)
    app.router.add_post("/api/v1/lookup", lookup_papers)
    app.router.add_post("/api/v1/read", mark_read)
    app.router.add_delete("/api/v1/read/{paper_id}", unmark_read)
    app.router.add_get("/api/v1/papers/{paper_id}", get_paper)
    app.router.add_post("/api/v1/digests", post_digest)
    app.router.add_get("/api/v1/openapi.json", openapi)
    return app


# --- guards -----------------------------------------------------------------------------


@web.middleware
async def _json_errors(request: web.Request, handler):
    try:
        return await handler(request)
    except ApiError as e:
        return error_response(e.status, e.code, e.message)
    except web.HTTPRequestEntityTooLarge:
        return error_response(413, "too_large", f"request body over {formats.MAX_BYTES:,} bytes")
    except web.HTTPException as e:
        if e.status < 400:
            raise
        code = {404: "not_found", 405: "method_not_allowed"}.get(e.status, "http_error")
        return error_response(e.status, code, e.reason)


def _host_guard(port: int):
    allowed = {f"{name}:{port}" for name in ("127.0.0.1", "localhost", "[::1]")}

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.headers.get("Host", "").lower() not in allowed:
            raise ApiError(403, "bad_host", "Host must be this daemon's loopback address")
        return await handler(request)

    return guard


def _origin_guard(allowed: tuple[str, ...]):
    @web.middleware
    async def guard(request: web.Request, handler):
        origin = request.headers.get("Origin")
        if origin is None:  # not from a browser page: curl, the CLI, a service worker without CORS
            return await handler(request)
        if not any(fnmatchcase(origin, pattern) for pattern in allowed):
            raise ApiError(403, "bad_origin", f"origin {origin!r} is not an allowed extension")
        if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
            response = web.Response(status=204)
            response.headers.update({
                "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
            })
            if request.headers.get("Access-Control-Request-Private-Network") == "true":
                response.headers["Access-Control-Allow-Private-Network"] = "true"
        else:
            response = await handler(request)
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
        return response

    return guard


def _token_guard(token: str):
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def guard(request: web.Request, handler):
        if request.path != "/api/v1/health":
            given = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(given, expected):
                response = error_response(401, "unauthorized", "missing or wrong bearer token (see `seenpapers token`)")
                response.headers["WWW-Authenticate"] = "Bearer"
                return response
        return await handler(request)

    return guard


# --- request bodies ---------------------------------------------------------------------


async def _json_body(request: web.Request) -> dict:
    if request.content_type != "application/json":
        raise ApiError(415, "unsupported_media_type", "send the body as application/json")
    if request.content_length is not None and request.content_length > MAX_JSON_BYTES:
        raise ApiError(413, "too_large", f"JSON body over {MAX_JSON_BYTES:,} bytes")
    # Read to the end (content.read(n) returns what has arrived so far, which for a body
    # larger than one TCP read -- 50 papers with abstracts -- is only its start).
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > MAX_JSON_BYTES:
            raise ApiError(413, "too_large", f"JSON body over {MAX_JSON_BYTES:,} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError) as e:
        raise ApiError(400, "bad_json", f"body is not valid JSON: {e}") from None
    if not isinstance(body, dict):
        raise ApiError(422, "bad_shape", "body must be a JSON object")
    return body


def _list_field(body: dict, name: str) -> list:
    items = body.get(name)
    if not isinstance(items, list) or not items:
        raise ApiError(422, "bad_shape", f'"{name}" must be a non-empty list')
    if len(items) > MAX_ITEMS:
        raise ApiError(413, "too_many_items", f'"{name}" holds {len(items)} items; the limit is {MAX_ITEMS}')
    return items


def _paper_item(item, index: int) -> dict:
    if not isinstance(item, dict):
        raise ApiError(422, "bad_shape", f"papers[{index}] must be an object")
    clean = {}
    for field in ("title", "abstract", "arxiv_id", "url", "doi"):
        value = item.get(field)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError(422, "bad_shape", f"papers[{index}].{field} must be a string")
        if len(value) > MAX_FIELD_CHARS:
            raise ApiError(413, "too_large", f"papers[{index}].{field} is over {MAX_FIELD_CHARS:,} characters")
        clean[field] = value
    if "title" not in clean:
        raise ApiError(422, "bad_shape", f"papers[{index}].title is required")
    return clean


def _paper_id(request: web.Request) -> int:
    raw = request.match_info["paper_id"]
    if not re.fullmatch(r"[0-9]{1,19}", raw) or not 0 < int(raw) <= MAX_ID:
        raise ApiError(422, "bad_shape", f"paper id must be an integer from 1 to {MAX_ID}")
    return int(raw)


async def _read(request: web.Request, fn, *args):
    """Run a read on the reader thread: a lookup never waits behind an ingest."""
    return await asyncio.get_running_loop().run_in_executor(request.app[READ_EXECUTOR], fn, request.app[READER], *args)


async def _write(request: web.Request, fn, *args):
    try:
        return await asyncio.get_running_loop().run_in_executor(request.app[WRITE_EXECUTOR], fn, request.app[WRITER], *args)
    finally:
        request.app[AFTER_WRITE]()


# --- handlers ---------------------------------------------------------------------------


async def health(request: web.Request) -> web.Response:
    counts = await _read(request, store.counts)
    return web.json_response({"status": "ok", "version": __version__, **counts})


async def lookup_papers(request: web.Request) -> web.Response:
    body = await _json_body(request)
    items = [_paper_item(item, i) for i, item in enumerate(_list_field(body, "papers"))]
    return web.json_response({"results": await _read(request, lookup.lookup, items)})


async def mark_read(request: web.Request) -> web.Response:
    body = await _json_body(request)
    ids = _list_field(body, "paper_ids")
    if not all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in ids):
        raise ApiError(422, "bad_shape", f'"paper_ids" must be integers from 1 to {MAX_ID}')
    return web.json_response({"marked": await _write(request, store.mark_read, ids)})


async def unmark_read(request: web.Request) -> web.Response:
    paper_id = _paper_id(request)
    return web.json_response({"unmarked": int(await _write(request, store.unmark_read, paper_id))})


async def get_paper(request: web.Request) -> web.Response:
    paper = await _read(request, lookup.paper, _paper_id(request))
    if paper is None:
        raise ApiError(404, "not_found", "no paper with that id")
    return web.json_response(paper)


async def post_digest(request: web.Request) -> web.Response:
    suffix = CAPTURE_TYPES.get(request.content_type)
    if suffix is None:
        raise ApiError(415, "unsupported_media_type", "send text/plain, text/html, application/json, a feed or an e-mail")
    body = await request.read()
    if not body.strip():
        raise ApiError(422, "empty", "the digest is empty")
    name = await asyncio.to_thread(write_capture, request.app[INBOX], body, request.query.get("name"), suffix)
    return web.json_response({"name": name}, status=202)


def write_capture(inbox: Path, body: bytes, wanted: str | None, suffix: str) -> str:
    """Write a capture into the inbox whole: a hidden temporary file, synced, then linked
    under its final name (never replacing a file that is there)."""
    stem, suffix = _capture_name(wanted or "", suffix)
    inbox.mkdir(parents=True, exist_ok=True)
    tmp = inbox / f".{stem}.{secrets.token_hex(4)}.partial"
    with open(tmp, "wb") as f:
        f.write(body)
        f.flush()
        os.fsync(f.fileno())
    try:
        for n in range(1000):
            name = f"{stem}{'' if n == 0 else f'-{n}'}{suffix}"
            try:
                os.link(tmp, inbox / name)
                return name
            except FileExistsError:
                continue
        raise ApiError(409, "name_taken", "too many captures under that name")
    finally:
        tmp.unlink()


def _capture_name(wanted: str, suffix: str) -> tuple[str, str]:
    """(stem, suffix) for a capture: the wanted name made safe (no folders, plain
    characters), keeping its suffix when it is one we write; else a time stamp."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(wanted.replace("\\", "/")).name).strip("._")[:100]
    if Path(name).suffix.lower() in CAPTURE_TYPES.values():
        name, suffix = Path(name).stem, Path(name).suffix.lower()
    return name or "capture-" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S"), suffix


async def openapi(request: web.Request) -> web.Response:
    return web.json_response(OPENAPI)
