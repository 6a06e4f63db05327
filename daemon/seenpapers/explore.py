"""Datasette over the database, for asking questions of one's history.

It runs inside the daemon's event loop (``seenpapers run``) or alone (``seenpapers explore``),
always on loopback. Descriptions, facets and canned queries come from
``datasette_metadata.json`` at the top of the project.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from pathlib import Path

import uvicorn
from datasette.app import Datasette

METADATA = Path(__file__).resolve().parents[2] / "datasette_metadata.json"


def datasette(db_path: Path) -> Datasette:
    metadata = json.loads(METADATA.read_text()) if METADATA.exists() else {}
    return Datasette(
        files=[str(db_path)],
        metadata=metadata,
        settings={"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000},
    )


class _EmbeddedServer(uvicorn.Server):
    """uvicorn without its own signal handlers: the daemon's loop owns SIGINT/SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self):
        yield


async def serve(db_path: Path, sock: socket.socket, stop: asyncio.Event) -> None:
    """Serve Datasette on a bound socket until ``stop`` is set."""
    config = uvicorn.Config(datasette(db_path).app(), log_level="warning", lifespan="off")
    server = _EmbeddedServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    stopping.cancel()
    await task
