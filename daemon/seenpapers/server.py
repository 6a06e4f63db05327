"""``seenpapers run``: one asyncio process that watches, ingests and answers.

Threads, and why: one *writer* thread owns the write connection and runs every ingest
(SQLite has one writer anyway); one *reader* thread answers lookups on its own read-only
connection, so a lookup never waits behind an ingest (WAL); the event loop only routes.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import resources
from logging.handlers import RotatingFileHandler
from pathlib import Path

from aiohttp import web

from . import api, config, explore, ingest, matcher, store
from .watcher import Inbox, Watcher

log = logging.getLogger("seenpapers")
# The lookups' page cache. SQLite fills it only as pages are read, and at 100k papers what
# lookups read (keys, fingerprints, title index) is some 90 MB: with 64 MB it was read from
# disk again and again. Alternated with 64 MB on one 100k database, two runs each: lookups
# p50 0.4-4 ms faster, RSS 180 -> 264 MB (docs/benchmarks.md).
READER_CACHE_MB = 256
WARM_AFTER_QUIET_S = 1.0  # after writes, the lookup cache is read again once they pause this long


@dataclass
class Settings:
    data_dir: config.DataDir
    inboxes: list[Inbox] = field(default_factory=list)  # watched besides <data dir>/inbox
    host: str = config.DEFAULT_HOST
    port: int = config.DEFAULT_PORT
    datasette_port: int | None = config.DEFAULT_DATASETTE_PORT  # None: no Datasette
    samples: bool = False  # ingest the bundled sample digests into an empty database
    allowed_origins: tuple[str, ...] = field(default_factory=config.allowed_origins)


def setup_logging(data_dir: config.DataDir) -> None:
    """Log to stderr and to a rotating file in the data dir."""
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    file_handler = RotatingFileHandler(data_dir.log_path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    stderr_handler = logging.StreamHandler(sys.stderr)
    root = logging.getLogger()
    for handler in (file_handler, stderr_handler):
        handler.setFormatter(formatter)
        root.addHandler(handler)
    root.setLevel(logging.INFO)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("watchfiles").setLevel(logging.WARNING)


def sample_digests() -> list[Path]:
    folder = resources.files("seenpapers") / "samples"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".txt"))


def listening_socket(host: str, port: int) -> socket.socket:
    """Bind first, so the real port (with --port 0) is known before the app is built."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    if os.name != "nt":  # on Windows the same option would let two servers share the port
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.setblocking(False)
    return sock


async def serve(settings: Settings) -> None:
    data = settings.data_dir.create()
    token = data.token()
    sys.setswitchinterval(0.001)  # let the reader thread in quickly while an ingest parses
    writer_pool = ThreadPoolExecutor(1, thread_name_prefix="ingest")
    reader_pool = ThreadPoolExecutor(1, thread_name_prefix="lookup")
    loop = asyncio.get_running_loop()
    writer = await loop.run_in_executor(writer_pool, store.open_db, data.db_path)
    reader = await loop.run_in_executor(reader_pool, lambda: store.open_db(data.db_path, readonly=True,
                                                                            cache_mb=READER_CACHE_MB))
    if settings.samples and store.counts(writer)["digests"] == 0:
        samples = sample_digests()
        for path in samples:
            await loop.run_in_executor(writer_pool, ingest.ingest_file, writer, path)
        log.info("first start: ingested %d sample digests", len(samples))
    await loop.run_in_executor(writer_pool, store.update_search_index, writer)  # after a crash too

    queue: asyncio.Queue[Path] = asyncio.Queue()

    rewarm = asyncio.Event()  # set by every write

    async def warm_reader():
        # What every lookup probes, read into the reader's page cache. One chunk at a time
        # on the reader's thread: a lookup that comes meanwhile waits for one chunk only.
        try:
            reads = await loop.run_in_executor(reader_pool, matcher.warm_up_reads, reader, READER_CACHE_MB * 3 // 4)
            for sql, params in reads:
                if rewarm.is_set():  # written again: the cache is gone again
                    return
                await loop.run_in_executor(reader_pool, lambda: reader.execute(sql, params).fetchall())
        except Exception:  # only slower lookups follow; they report their own errors
            log.exception("could not read the match tables into the lookup cache")

    async def keep_reader_warm():
        # At start, and after writes (a burst of ingests, a read mark) once they pause: a
        # write discards a reader's cache in WAL mode. From a cold disk at 100k papers this
        # took lookups' p99 from 21-23 ms to 14 ms (docs/benchmarks.md).
        await warm_reader()
        while True:
            await rewarm.wait()
            while rewarm.is_set():
                rewarm.clear()
                await asyncio.sleep(WARM_AFTER_QUIET_S)
            await warm_reader()

    async def ingest_worker():
        while True:
            path = await queue.get()
            try:
                result = await loop.run_in_executor(writer_pool, ingest.ingest_file, writer, path)
            except Exception:  # e.g. a full disk: nothing was committed; the next start retries
                log.exception("could not ingest %s", path)
                continue
            if queue.empty():  # index for search between bursts, many papers at a time
                await loop.run_in_executor(writer_pool, store.update_search_index, writer)
            rewarm.set()
            if result.status == "ingested":
                log.info("ingested %s: %d entries, %d new, %d seen again, %d duplicates",
                         path.name, result.entries, result.new_papers, result.seen_again, result.duplicates)
            elif result.status == "failed":
                log.warning("failed %s: %s", path.name, result.error)

    sock = listening_socket(settings.host, settings.port)
    port = sock.getsockname()[1]
    app = api.make_app(
        reader=reader, writer=writer, read_executor=reader_pool, write_executor=writer_pool,
        token=token, inbox=data.inbox, port=port, allowed_origins=settings.allowed_origins,
        after_write=rewarm.set,
    )
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.SockSite(runner, sock)

    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, stop.set)
        except (NotImplementedError, RuntimeError):  # Windows, or not the main thread
            pass

    inboxes = [Inbox(data.inbox.resolve()), *settings.inboxes]
    watcher = Watcher(inboxes, queue.put)
    tasks = [asyncio.create_task(ingest_worker(), name="ingest"), asyncio.create_task(watcher.run(stop), name="watch"),
             asyncio.create_task(keep_reader_warm(), name="warm")]
    datasette_url = None
    if settings.datasette_port is not None:
        try:
            datasette_sock = listening_socket(settings.host, settings.datasette_port)
        except OSError as e:  # the API matters more: serve it without Datasette
            log.error("Datasette not started: cannot listen on port %s: %s", settings.datasette_port, e.strerror or e)
        else:
            datasette_url = f"http://{settings.host}:{datasette_sock.getsockname()[1]}"
            tasks.append(asyncio.create_task(explore.serve(data.db_path, datasette_sock, stop), name="datasette"))
    try:
        await site.start()
        await watcher.ready.wait()
        # What start-up made (modules, Datasette, aiohttp) lives as long as the process: out
        # of the collector's sight, a full collection no longer walks it (it took 50 ms, in
        # the middle of a lookup, twice a bench run).
        gc.collect()
        gc.freeze()
        log.info("seenpapers %s: API on http://%s:%d  (token: `seenpapers token`), Datasette on %s, watching %s",
                 api.__version__, settings.host, port, datasette_url or "(off)",
                 ", ".join(str(i.folder / (i.pattern or "")) for i in inboxes))
        print(f"listening on http://{settings.host}:{port}", flush=True)
        if datasette_url:
            print(f"datasette on {datasette_url}", flush=True)
        await stop.wait()
        log.info("stopping")
    finally:
        stop.set()
        for task in tasks[:3]:  # Datasette stops by itself once stop is set
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await runner.cleanup()
        # An ingest already running finishes its transaction; nothing new starts.
        writer_pool.shutdown(wait=True, cancel_futures=True)
        reader_pool.shutdown(wait=True, cancel_futures=True)
        writer.close()
        reader.close()
        log.info("stopped")
