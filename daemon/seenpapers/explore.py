"""Datasette over the database, for asking questions of one's history.

It runs inside the daemon's event loop (``seenpapers run``) or alone (``seenpapers explore``),
always on loopback, read-only (see datasette_plugin). Descriptions, facets, canned queries
and charts (datasette-dashboards) come from ``datasette_metadata.json``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from pathlib import Path

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from . import datasette_plugin

# The top-level datasette_metadata.json is the one to edit; the package carries a copy so that
# an installed seenpapers (no source tree around it) finds it too. A plain copy rather than a
# build step: editable installs and wheels then behave alike, and tests/test_explore.py fails
# when the two differ. In a source checkout the top-level file is read, so an edit shows at once.
PACKAGED_METADATA = Path(__file__).with_name("datasette_metadata.json")
SOURCE_METADATA = Path(__file__).resolve().parents[2] / "datasette_metadata.json"

SETTINGS = {"sql_time_limit_ms": 5000, "facet_time_limit_ms": 1000}


def metadata_path() -> Path:
    in_checkout = (SOURCE_METADATA.parent / "pyproject.toml").exists() and SOURCE_METADATA.exists()
    return SOURCE_METADATA if in_checkout else PACKAGED_METADATA


def load_metadata(path: Path | None = None) -> dict:
    return json.loads((path or metadata_path()).read_text(encoding="utf-8"))


def datasette(db_path: Path) -> Datasette:
    """A Datasette over the database file, read-only, named ``seenpapers`` as the metadata says.

    Not immutable: the daemon writes while Datasette reads (WAL), and Datasette reads the
    file in ``mode=ro``; the plugin makes every connection ``query_only`` besides.
    """
    db_path = Path(db_path)
    if db_path.stem != datasette_plugin.DATABASE:
        raise ValueError(f"the database file must be named {datasette_plugin.DATABASE}.db, not {db_path.name}")
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="seenpapers")
    ds = Datasette(files=[str(db_path)], metadata=load_metadata(), settings=SETTINGS)
    setattr(ds, datasette_plugin.SEENPAPERS, True)
    return ds


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
