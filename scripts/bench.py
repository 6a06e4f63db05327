"""Benchmarks for the targets in DESIGN.md, with the floors they are compared to.

    scripts/bench [--papers N | --quick] [--keep DIR] [--json FILE]
    scripts/bench --keep DIR --badges-only     page → badges alone, on a kept corpus and database

Floors first (raw SQLite inserts, an aiohttp no-op round trip), then: backfill of a generated
corpus with `seenpapers ingest`, the daemon's start time, lookup latency, RSS, the time
from a file closed in the inbox to its papers being visible to lookup, and from a page's
DOMContentLoaded to the extension's badges on it in Chromium (scripts/bench_badges.py).
Everything runs against 127.0.0.1 only, and every loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
BIN = Path(sys.executable).parent  # the venv's bin: seenpapers and python live there
MAKE_CORPUS = ROOT / "scripts" / "make_corpus"
PER_FILE = 50
LOOKUP_SIZE = 50
WARMUP = 20
DROP_BASE = 1_000_000  # drop papers are unknowns from here on, lookup unknowns below it
DEADLINE = 10.0  # seconds: any single wait longer than this is a failure, not a figure
BADGE_CARDS, BADGE_KNOWN = 50, 40  # a daily page: 50 cards, most of them papers already seen
BADGE_UNKNOWN_START = 3_000_000  # the pages' new papers: neither lookup nor drop papers
BADGE_IMAGE_DELAYS = [0.0, 0.3]  # s: images answered at once, and as from a network
BADGE_BUDGET_S = 300.0  # the browser part stops there, whatever its count

NOOP_SERVER = """
import asyncio, socket
from aiohttp import web
async def noop(request):
    await request.read()
    return web.json_response({})
async def main():
    app = web.Application()
    app.router.add_post("/", noop)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.Event().wait()
asyncio.run(main())
"""


def log(message: str) -> None:
    print(f"… {message}", file=sys.stderr, flush=True)


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": pct(ms, 50), "p95_ms": pct(ms, 95), "p99_ms": pct(ms, 99), "max_ms": max(ms)}


# --- floors -----------------------------------------------------------------------------


def real_rows(count: int) -> list[tuple]:
    """(id, title, abstract) rows from the real corpus, cycled to the count wanted."""
    source = SHARED / "corpus" / "arxiv-listings-sample.jsonl"
    papers = [json.loads(line) for line in open(source, encoding="utf-8")] if source.exists() else []
    papers = papers or [{"title": f"Stand-in title {i}", "abstract": "An abstract sentence. " * 60} for i in range(1000)]
    return [(i, papers[i % len(papers)]["title"], papers[i % len(papers)]["abstract"]) for i in range(count)]


def sqlite_floor(work: Path, rows: int) -> dict:
    """Rows/s into a plain WAL table, one transaction per 50 rows (synchronous=NORMAL, as the daemon)."""
    data = real_rows(rows)
    path = work / "floor.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE papers (id INTEGER PRIMARY KEY, title TEXT, abstract TEXT)")
    started = time.perf_counter()
    for i in range(0, rows, PER_FILE):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO papers VALUES (?, ?, ?)", data[i:i + PER_FILE])
        conn.execute("COMMIT")
    seconds = time.perf_counter() - started
    conn.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    return {"rows": rows, "rows_per_s": rows / seconds}


def schema_floor(data_dir: Path, work: Path, files: int) -> dict:
    """What writing a backfill's rows costs in seenpapers' own schema (its indexes, triggers,
    foreign keys and search index) with no file read, parsed or matched: the floor under
    `seenpapers ingest` in this design. The first ``files`` digests' rows of a backfilled
    database, all columns as read, go into a new one file by file, FILES_PER_COMMIT files a
    transaction; then the search index, as the backfill builds it. Entries/s of both."""
    from seenpapers import store  # the schema is the package's migrations
    from seenpapers.cli import FILES_PER_COMMIT  # and the transactions are the backfill's

    src = sqlite3.connect(f"file:{data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    last = src.execute("SELECT max(id) FROM (SELECT id FROM digests ORDER BY id LIMIT ?)", [files]).fetchone()[0]
    top = src.execute("SELECT max(paper_id) FROM sightings WHERE digest_id <= ?", [last]).fetchone()[0]

    def rows_by(table: str, column: str, upto: int) -> dict[int, list[tuple]]:
        """The table's whole rows with ``column`` <= upto, grouped by that column."""
        rows: dict[int, list[tuple]] = {}
        for value, *row in src.execute(f"SELECT {column}, * FROM {table} WHERE {column} <= ?", [upto]):
            rows.setdefault(value, []).append(tuple(row))
        return rows

    digests, papers = rows_by("digests", "id", last), rows_by("papers", "id", top)
    keys, shingles = rows_by("match_keys", "paper_id", top), rows_by("match_shingles", "paper_id", top)
    shown: dict[int, list[tuple[int, tuple]]] = {}  # digest -> (paper, sighting row)
    for digest_id, paper_id, *row in src.execute("SELECT digest_id, paper_id, * FROM sightings WHERE digest_id <= ?", [last]):
        shown.setdefault(digest_id, []).append((paper_id, tuple(row)))
    src.close()
    path = work / "schema-floor" / "seenpapers.db"
    shutil.rmtree(path.parent, ignore_errors=True)
    db = store.open_db(path)

    def insert(table: str, rows: list[tuple]) -> None:
        if rows:
            db.conn.executemany(f"INSERT INTO {table} VALUES ({', '.join('?' * len(rows[0]))})", rows)

    started = time.perf_counter()
    order = sorted(digests)
    for start in range(0, len(order), FILES_PER_COMMIT):
        with store.write_transaction(db):
            for digest_id in order[start:start + FILES_PER_COMMIT]:
                new = [pid for pid in dict.fromkeys(pid for pid, _ in shown.get(digest_id, ())) if pid in papers]
                insert("digests", digests[digest_id])
                insert("papers", [row for pid in new for row in papers.pop(pid)])
                insert("match_keys", [row for pid in new for row in keys.get(pid, ())])
                insert("match_shingles", [row for pid in new for row in shingles.get(pid, ())])
                insert("sightings", [row for _, row in shown.get(digest_id, ())])
    seconds = time.perf_counter() - started
    search_started = time.perf_counter()
    store.update_search_index(db)
    search_seconds = time.perf_counter() - search_started
    db.conn.close()
    shutil.rmtree(path.parent, ignore_errors=True)
    entries = sum(len(rows) for rows in shown.values())
    return {"entries": entries, "files": len(digests), "entries_per_s": entries / seconds,
            "search_seconds": search_seconds, "entries_per_s_in_all": entries / (seconds + search_seconds)}


async def timed_posts(session: aiohttp.ClientSession, url: str, bodies: list[bytes], headers: dict) -> tuple[list[float], list[dict]]:
    """POST each body in turn on one keep-alive session; ms per request (send → JSON parsed)."""
    times, answers = [], []
    for body in bodies:
        started = time.perf_counter()
        async with session.post(url, data=body, headers=headers) as response:
            payload = await response.read()
            status = response.status
        answer = json.loads(payload)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise RuntimeError(f"POST {url}: HTTP {status}: {payload[:200]!r}")
        answers.append(answer)
    return times, answers


@contextlib.contextmanager
def noop_server():
    """A server process that reads each POSTed body and answers {}; yields its port."""
    server = subprocess.Popen([sys.executable, "-c", NOOP_SERVER], stdout=subprocess.PIPE, text=True)
    try:
        yield int(server.stdout.readline())
    finally:
        server.terminate()
        server.wait(10)


def noop_floor(requests: int, body: bytes, port: int | None = None) -> dict:
    """The aiohttp round trip with nothing behind it: a server process reading the same
    body as a lookup and answering {}."""
    if port is None:
        with noop_server() as port:
            return noop_floor(requests, body, port)

    async def run():
        async with aiohttp.ClientSession() as session:
            times, _ = await timed_posts(session, f"http://127.0.0.1:{port}/", [body] * (WARMUP + requests),
                                         {"Content-Type": "application/json"})
        return times[WARMUP:]

    return dict(summary(asyncio.run(run())), body_bytes=len(body))


def watchfiles_floor(work: Path, files: int) -> dict:
    """File closed -> watchfiles reports it, with the daemon's watcher settings: what no
    daemon built on watchfiles can beat for "drop -> visible"."""
    from watchfiles import awatch

    folder = work / "watch-floor"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()

    async def run() -> list[float]:
        stop, times = asyncio.Event(), []
        changes = awatch(folder, stop_event=stop, step=30, debounce=400)
        pending = asyncio.ensure_future(changes.__anext__())
        await asyncio.sleep(0.2)
        for n in range(files):
            with open(folder / f"floor-{n:03d}.json", "w", encoding="utf-8") as f:
                f.write("[]")
            closed = time.perf_counter()
            await asyncio.wait_for(pending, DEADLINE)
            times.append((time.perf_counter() - closed) * 1000)
            pending = asyncio.ensure_future(changes.__anext__())
            await asyncio.sleep(0.05)
        stop.set()
        pending.cancel()
        return times

    try:
        return summary(asyncio.run(run()))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- corpus and backfill ----------------------------------------------------------------


def make_corpus(*args) -> str:
    result = subprocess.run([sys.executable, str(MAKE_CORPUS), *map(str, args)], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"make_corpus failed: {result.stderr.strip()}")
    return result.stdout.strip()


def unknown_items(work: Path, count: int, start: int) -> list[dict]:
    path = work / f"unknown-{start}-{count}.json"
    make_corpus("--unknown", count, "--unknown-start", start, "--out", path)
    items = json.loads(path.read_text(encoding="utf-8"))
    path.unlink()
    return items


def ingest(data_dir: Path, *paths: Path) -> dict:
    """`seenpapers ingest`; its own figures (files, seconds, entries/s) and the wall time."""
    # CPU time of the command and its parsing processes (they are waited for, so their
    # time is counted in the command's, and the command's in ours once it ends).
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run([str(BIN / "seenpapers"), "ingest", "--data-dir", str(data_dir), *map(str, paths)],
                            capture_output=True, text=True)
    wall = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    match = re.search(r"([\d,]+) files in ([\d.]+) s(?: \(([\d,]+) entries/s\))?", result.stdout)
    entries = re.search(r"entries\s+(\d+)", result.stdout)
    failures = re.search(r"failures\s+(\d+)", result.stdout)
    search = re.search(r"search\s+(\d+) papers indexed in ([\d.]+) s", result.stdout)
    if not match:
        raise RuntimeError(f"seenpapers ingest: exit {result.returncode}: {result.stdout[-500:]} {result.stderr[-500:]}")
    return {
        "files": int(match.group(1).replace(",", "")),
        "seconds": float(match.group(2)),
        "entries": int(entries.group(1)) if entries else 0,
        "entries_per_s": float((match.group(3) or "0").replace(",", "")),
        "wall_s": wall,
        "failures": int(failures.group(1)) if failures else None,
        # Full-text search is indexed after the papers are committed (and answerable).
        "search_seconds": float(search.group(2)) if search else 0.0,
        "cpu_user_s": cpu_after.ru_utime - cpu_before.ru_utime,
        "cpu_system_s": cpu_after.ru_stime - cpu_before.ru_stime,
    }


def known_items(corpus: Path, count: int, rng: random.Random) -> list[dict]:
    """Papers of the corpus, a few from each of many random files (spread over the database)."""
    files = sorted(corpus.glob("bench-*.json"))
    chosen = rng.sample(files, min(len(files), 500))
    per_file = math.ceil(count / len(chosen))
    items = []
    for path in chosen:
        papers = json.loads(path.read_text(encoding="utf-8"))
        items.extend(rng.sample(papers, min(per_file, len(papers))))
    rng.shuffle(items)
    return items[:count]


def query(item: dict, abstract: bool = False) -> dict:
    """What a page offers the extension: the title as shown and the arXiv id, and on an
    arXiv listing the abstract too (the matcher then looks for near-duplicates by it)."""
    found = {"title": item["title"], "arxiv_id": item["paper"]["id"]}
    if abstract:
        found["abstract"] = item["paper"]["summary"]
    return found


# --- the daemon -------------------------------------------------------------------------


def rss_mb(pid: int) -> dict:
    status = Path(f"/proc/{pid}/status").read_text()
    kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.+)$", status, re.M)}
    return {"rss_mb": kb.get("VmRSS", 0) / 1024, "peak_rss_mb": kb.get("VmHWM", 0) / 1024}


class Daemon:
    """`seenpapers run` on a free port; stdout and stderr go to files (no pipe to fill)."""

    def __init__(self, data_dir: Path, work: Path):
        self.data_dir, self.out, self.err = data_dir, work / "daemon.out", work / "daemon.err"
        self.proc: subprocess.Popen | None = None

    def start(self) -> tuple[int, float]:
        """Start it; return (port, seconds from start to the first successful health answer)."""
        started = time.perf_counter()
        with open(self.out, "w") as out, open(self.err, "w") as err:
            self.proc = subprocess.Popen(
                [str(BIN / "seenpapers"), "run", "--port", "0", "--no-datasette", "--data-dir", str(self.data_dir)],
                stdout=out, stderr=err, stdin=subprocess.DEVNULL,
            )
        port = None
        while time.perf_counter() - started < 60:
            if self.proc.poll() is not None:
                raise RuntimeError(f"daemon exited with {self.proc.returncode}: {self.err.read_text()[-1000:]}")
            if port is None:
                match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.out.read_text())
                port = int(match.group(1)) if match else None
            if port is not None and self._healthy(port):
                return port, time.perf_counter() - started
            time.sleep(0.002)
        raise RuntimeError("daemon did not answer within 60 s")

    @staticmethod
    def _healthy(port: int) -> bool:
        import urllib.request

        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=2) as r:
                return r.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def statuses(answers: list[dict]) -> dict:
    counts: dict[str, int] = {}
    for answer in answers:
        for result in answer["results"]:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
    return counts


def real_unknown_items() -> list[dict]:
    """Real papers no corpus holds: the Hugging Face days' papers that are not in the arXiv
    sample (the corpus's real papers), as API items. What a new day's page really brings."""
    if not SHARED.joinpath("digests", "hf-api").is_dir():
        return []
    corpus_ids = {json.loads(line)["arxiv_id"] for line in SHARED.joinpath("corpus", "arxiv-listings-sample.jsonl").open()}
    found = {}
    for path in sorted(SHARED.joinpath("digests", "hf-api").glob("*.json")):
        for item in json.loads(path.read_text(encoding="utf-8")):
            paper = item.get("paper", item)
            if paper.get("id") and paper["id"] not in corpus_ids and paper.get("summary"):
                found[paper["id"]] = {"title": paper["title"], "paper": {"id": paper["id"], "summary": paper["summary"]}}
    return list(found.values())


async def daemon_phase(port: int, token: str, inbox: Path, unknown: list[dict], known: list[dict],
                       drops: list[list[dict]], run_tag: str) -> dict:
    url = f"http://127.0.0.1:{port}/api/v1/lookup"
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}

    def bodies(items, abstract=False):
        return [json.dumps({"papers": [query(i, abstract) for i in items[k:k + LOOKUP_SIZE]]}).encode()
                for k in range(0, len(items), LOOKUP_SIZE)]

    figures = {}
    async with aiohttp.ClientSession() as session:
        titles_only = bodies(unknown)
        times, answers = await timed_posts(session, url, titles_only, headers)
        figures["lookup_unknown_titles"] = dict(summary(times[WARMUP:]), body_bytes=len(titles_only[-1]),
                                                statuses=statuses(answers[WARMUP:]))
        unknown_bodies = bodies(unknown, abstract=True)
        times, answers = await timed_posts(session, url, unknown_bodies, headers)
        figures["lookup_unknown"] = dict(summary(times[WARMUP:]), body_bytes=len(unknown_bodies[-1]),
                                         statuses=statuses(answers[WARMUP:]))
        times, answers = await timed_posts(session, url, bodies(known), headers)
        figures["lookup_known"] = dict(summary(times[WARMUP:]), statuses=statuses(answers[WARMUP:]))
        real = real_unknown_items()
        if real:
            times, answers = await timed_posts(session, url, bodies(real, abstract=True), headers)
            figures["lookup_real_unknown"] = dict(summary(times[WARMUP:]), statuses=statuses(answers[WARMUP:]))
        figures["drop"] = await drop_to_visible(session, url, headers, inbox, drops, run_tag)
    return figures


async def drop_to_visible(session, url: str, headers: dict, inbox: Path, drops: list[list[dict]], run_tag: str) -> dict:
    """Write each digest with open/write/close; from the close, poll a lookup of one of its
    titles every ~2 ms until it is seen."""
    times, polls, missed = [], 0, 0
    for n, items in enumerate(drops, 1):
        body = json.dumps({"papers": [query(items[-1])]}).encode()
        payload = json.dumps(items, ensure_ascii=False)
        with open(inbox / f"drop-{run_tag}-{n:03d}.json", "w", encoding="utf-8") as f:
            f.write(payload)
        closed = time.perf_counter()
        while time.perf_counter() - closed < DEADLINE:
            polls += 1
            async with session.post(url, data=body, headers=headers) as response:
                answer = await response.json()
            if answer["results"][0]["status"] == "seen":
                times.append((time.perf_counter() - closed) * 1000)
                break
            await asyncio.sleep(0.002)
        else:
            missed += 1
    return dict(summary(times) if times else {}, files=len(drops), papers=sum(map(len, drops)),
                polls=polls, not_visible_within_10s=missed)


# --- page → badges ---------------------------------------------------------------------


def badge_pages(corpus: Path, work: Path, count: int, rng: random.Random) -> dict[str, list[dict]]:
    """``count`` daily pages of BADGE_CARDS papers ({id, title}), each its own day: BADGE_KNOWN
    from the corpus, the rest new, shuffled."""
    from datetime import date, timedelta

    new = BADGE_CARDS - BADGE_KNOWN
    known = known_items(corpus, count * BADGE_KNOWN, rng)
    unknown = unknown_items(work, count * new, BADGE_UNKNOWN_START)
    pages = {}
    for n in range(count):
        items = known[n * BADGE_KNOWN:(n + 1) * BADGE_KNOWN] + unknown[n * new:(n + 1) * new]
        rng.shuffle(items)
        pages[(date(2025, 2, 1) + timedelta(days=n)).isoformat()] = [
            {"id": i["paper"]["id"], "title": i["title"]} for i in items]
    return pages


def sightings(data_dir: Path) -> int:
    conn = sqlite3.connect(f"file:{data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM sightings").fetchone()[0]
    finally:
        conn.close()


def badges_phase(port: int, token: str, data_dir: Path, corpus: Path, work: Path, args, rng: random.Random) -> dict:
    """Page → badges with the daemon on ``port``; beside it, in the same run, the aiohttp
    no-op round trip and the daemon's own lookup with the body the extension posts."""
    import bench_badges

    why = bench_badges.available()
    if why:
        return {"skipped": why}
    pages = badge_pages(corpus, work, args.badge_warmup + args.badge_loads, rng)
    bodies = [bench_badges.page_body(items) for items in pages.values()]

    async def direct() -> list[float]:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        async with aiohttp.ClientSession() as session:
            times, _ = await timed_posts(session, f"http://127.0.0.1:{port}/api/v1/lookup", bodies * 5, headers)
        return times[WARMUP:]

    fig = {"lookup": summary(asyncio.run(direct()))}
    before = sightings(data_dir)
    with noop_server() as noop_port:  # the floor, and what the no-op extensions fetch
        fig["floor"] = noop_floor(args.noop_requests, bodies[0], noop_port)
        log(f"page → badges: Chromium, {len(pages)} pages, the extension now and at {args.badges_before}, and two floors")
        fig.update(bench_badges.run(
            {day: bench_badges.build_page(day, items) for day, items in pages.items()},
            # record: false -- the bench's page views are not the user's sightings.
            {"apiBase": f"http://127.0.0.1:{port}", "token": token, "record": False},
            commit=args.badges_before, noop_url=f"http://127.0.0.1:{noop_port}/", warmup=args.badge_warmup,
            loads=args.badge_loads, image_delays=BADGE_IMAGE_DELAYS, breakdown_loads=min(10, args.badge_loads),
            budget_s=BADGE_BUDGET_S))
    fig["sightings_written"] = sightings(data_dir) - before
    fig["cards"], fig["known_per_page"] = BADGE_CARDS, BADGE_KNOWN
    return fig


def badges_only(args, work: Path) -> dict:
    """The badge part alone, against a corpus and database kept by an earlier run."""
    corpus, data_dir = work / f"corpus-{args.papers}", work / f"data-{args.papers}"
    if not (corpus / ".complete").exists() or not (work / f"data-{args.papers}.backfilled").exists():
        raise SystemExit(f"--badges-only: no kept corpus and database for {args.papers:,} papers in {work}"
                         f" (run ./scripts/bench --keep {work} first)")
    fig: dict = {"papers": args.papers, "quick": args.quick, "env": versions(), "targets": targets(args.papers)}
    daemon = Daemon(data_dir, work)
    try:
        port, _ = daemon.start()
        fig["badges"] = badges_phase(port, (data_dir / "token").read_text().strip(), data_dir, corpus, work, args,
                                     random.Random(args.seed))
    finally:
        daemon.stop()
    return fig


# --- the run ----------------------------------------------------------------------------


def targets(papers: int) -> dict:
    big = papers >= 1_000_000
    return {
        "lookup_p50_ms": None if big else 10, "lookup_p99_ms": 60 if big else 30,
        "drop_p50_ms": 250, "backfill_entries_per_s": 10_000,
        "rss_mb": 2048 if big else 400, "start_s": None if big else 3,
        "badges_p50_ms": None if big else 20,
    }


def versions() -> dict:
    rev = subprocess.run(["git", "-C", str(ROOT), "describe", "--always", "--dirty"], capture_output=True, text=True)
    return {"cores": os.cpu_count(), "python": sys.version.split()[0], "sqlite": sqlite3.sqlite_version,
            "aiohttp": aiohttp.__version__, "git": rev.stdout.strip() or "?",
            "load_at_start": os.getloadavg()[0]}  # other work on the machine skews every figure


def run(args, work: Path, keep: bool) -> dict:
    rng = random.Random(args.seed)
    fig: dict = {"papers": args.papers, "quick": args.quick, "env": versions()}
    log("floors")
    fig["sqlite_floor"] = sqlite_floor(work, min(args.papers, 100_000))
    fig["watchfiles_floor"] = watchfiles_floor(work, args.drops)

    corpus, data_dir = work / f"corpus-{args.papers}", work / f"data-{args.papers}"
    if (corpus / ".complete").exists():
        fig["corpus"] = {"reused": str(corpus)}
    else:
        log(f"generating {args.papers:,} papers")
        shutil.rmtree(corpus, ignore_errors=True)
        started = time.perf_counter()
        make_corpus(corpus, "--papers", args.papers, "--per-file", PER_FILE, "--seed", args.seed)
        fig["corpus"] = {"seconds": time.perf_counter() - started}
        (corpus / ".complete").touch()  # dotfiles are not ingested

    if SHARED.joinpath("digests", "hf-api").is_dir():
        log("ingesting the real hf-api digests")
        real_dir = work / "data-real"
        shutil.rmtree(real_dir, ignore_errors=True)
        fig["ingest_real"] = ingest(real_dir, SHARED / "digests" / "hf-api")
        shutil.rmtree(real_dir, ignore_errors=True)

    done = work / f"data-{args.papers}.backfilled"
    if done.exists():
        fig["backfill"] = {"reused": str(data_dir)}
    else:
        log(f"backfill: seenpapers ingest of {args.papers:,} papers")
        shutil.rmtree(data_dir, ignore_errors=True)
        fig["backfill"] = ingest(data_dir, corpus)
        fig["backfill"]["ratio_to_floor"] = fig["backfill"]["entries_per_s"] / fig["sqlite_floor"]["rows_per_s"]
        done.touch()
    log("floor: the backfill's rows written into the schema alone")
    fig["schema_floor"] = schema_floor(data_dir, work, min(args.papers, 100_000) // PER_FILE)

    # Each run drops papers no earlier run dropped (a kept database remembers them).
    next_file = work / "next-drop"
    offset = int(next_file.read_text()) if next_file.exists() else 0
    sizes = [rng.randint(5, 20) for _ in range(args.drops)]
    next_file.write_text(str(offset + sum(sizes)))
    unknown = unknown_items(work, LOOKUP_SIZE * (WARMUP + args.lookups), 0)
    fresh = unknown_items(work, sum(sizes), DROP_BASE + offset)
    drops = [fresh[sum(sizes[:i]):sum(sizes[:i + 1])] for i in range(len(sizes))]
    known = known_items(corpus, LOOKUP_SIZE * (WARMUP + args.known_lookups), rng)
    log("floors: aiohttp no-op round trips with the lookups' bodies")
    for name, abstract in (("noop_floor", False), ("noop_floor_abstracts", True)):
        body = json.dumps({"papers": [query(i, abstract) for i in unknown[:LOOKUP_SIZE]]}).encode()
        fig[name] = noop_floor(args.noop_requests, body)

    log("daemon: start, lookups, drops")
    daemon = Daemon(data_dir, work)
    try:
        port, fig["start_to_first_answer_s"] = daemon.start()
        token = (data_dir / "token").read_text().strip()
        # This process's own garbage collection is not the daemon's latency: its heap holds
        # every paper the lookups send, and a full collection paused a request 100+ ms.
        gc.collect()
        gc.freeze()
        fig.update(asyncio.run(daemon_phase(port, token, data_dir / "inbox", unknown, known, drops, f"{offset}")))
        fig["memory"] = rss_mb(daemon.proc.pid)
        fig["memory"]["measured"] = "after lookups and drops"
        fig["badges"] = badges_phase(port, token, data_dir, corpus, work, args, rng)
    finally:
        daemon.stop()
    for path in (data_dir / "inbox").glob("drop-*.json"):  # ingested; a kept inbox need not rescan them
        path.unlink()
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    fig["targets"] = targets(args.papers)
    return fig


# --- the report -------------------------------------------------------------------------


def check(value, target, smaller_is_better=True) -> str:
    if target is None or value is None:
        return ""
    ok = value <= target if smaller_is_better else value >= target
    return f"   [target {'≤' if smaller_is_better else '≥'} {target:,}: {'ok' if ok else 'MISSED'}]"


def heading(fig: dict) -> str:
    env = fig["env"]
    return (f"seenpapers bench: {fig['papers']:,} papers{' (quick)' if fig['quick'] else ''}"
            f"  ({env['cores']} cores, Python {env['python']}, SQLite {env['sqlite']}, aiohttp {env['aiohttp']}, {env['git']}, load {env['load_at_start']:.1f})")


def badges_report(b: dict, target) -> list[str]:
    if "skipped" in b:
        return ["page → badges", f"  skipped: {b['skipped']}"]
    runs = b["runs"]
    loads = max((r["dcl_to_last"]["n"] for r in runs), default=0)
    lines = [f"page → badges  ({b['cards']}-card daily page, {b['known_per_page']} known; Chromium {b['chromium']};"
             f" a fresh tab per load, {loads} loads after {b['warmup']} warm-up, versions in turn)"]

    def row(label, text):
        lines.append(f"  {label:<34} {text}")

    def ms(s, signed=False):
        f = "+.1f" if signed else ".1f"
        return f"p50 {s['p50_ms']:{f}} ms  p95 {s['p95_ms']:{f}} ms  max {s['max_ms']:{f}} ms" if s["n"] else "none"

    floor, lookup = b["floor"], b["lookup"]
    row(f"aiohttp no-op POST ({floor['body_bytes'] / 1000:.1f} kB)", f"p50 {floor['p50_ms']:.2f} ms  p95 {floor['p95_ms']:.2f} ms  (the floor; n={floor['n']})")
    row("lookup of a page's 50 papers", f"p50 {lookup['p50_ms']:.2f} ms  p95 {lookup['p95_ms']:.2f} ms  (the daemon alone, from Python; n={lookup['n']})")
    for version in b["versions"]:
        lines.append(f"  {version['name']}: {version['source']}; content scripts at {version['run_at']}")
        for r in (r for r in runs if r["version"] == version["name"]):
            images = "images at once" if not r["image_delay_ms"] else f"images after {r['image_delay_ms']:.0f} ms"
            last = r["dcl_to_last"]
            ratio = f"  ({last['p50_ms'] / floor['p50_ms']:.0f}× / {last['p95_ms'] / floor['p95_ms']:.0f}× no-op POST)" if last["n"] else ""
            aim = "" if version.get("floor") else check(last.get("p50_ms"), target).replace("target", "p50 target")
            row(f"  {images}: DCL → 50th", ms(last) + ratio + aim)
            row("    DCL → 1st badge", ms(r["dcl_to_first"]))
            row("    load end → 50th badge", ms(r["load_to_last"], signed=True) + f"  (DCL → load end p50 {r['dcl_to_load'].get('p50_ms', 0):.1f} ms)")
            row("    badges", f"{r['statuses']}")
    for part in b["breakdown"]:
        if part["n"]:
            row(f"where the time goes ({part['version']})", f"p50 over {part['n']} more loads, images at once:")
            for name, value in part["p50_ms"].items():
                row("", f"{value:6.1f} ms  {name}")
    row("sightings written by the loads", f"{b['sightings_written']} (the extension is told record: false)")
    row("(the browser part", f"took {b['seconds']:.0f} s{'; stopped at its time limit' if b['out_of_time'] else ''})")
    return lines


def report(fig: dict) -> str:
    t = fig["targets"]
    lines = [heading(fig)]

    def row(label, text):
        lines.append(f"  {label:<34} {text}")

    def lat(s, floor=None):
        ratio = f"  ({s['p50_ms'] / floor['p50_ms']:.0f}× / {s['p99_ms'] / floor['p99_ms']:.0f}× floor)" if floor else ""
        return f"p50 {s['p50_ms']:.2f} ms  p99 {s['p99_ms']:.2f} ms  max {s['max_ms']:.2f} ms  (n={s['n']}){ratio}"

    sq, noop, noop_abstracts = fig["sqlite_floor"], fig["noop_floor"], fig["noop_floor_abstracts"]
    lines.append("floors")
    row("sqlite insert (WAL, 50 rows/txn)", f"{sq['rows_per_s']:,.0f} rows/s  ({sq['rows']:,} rows)")
    row(f"aiohttp no-op POST ({noop['body_bytes'] / 1000:.1f} kB)", lat(noop))
    row(f"aiohttp no-op POST ({noop_abstracts['body_bytes'] / 1000:.1f} kB)", lat(noop_abstracts))
    w = fig["watchfiles_floor"]
    row("watchfiles: file closed → event", f"p50 {w['p50_ms']:.0f} ms  p99 {w['p99_ms']:.0f} ms  (n={w['n']}; step 30 ms, debounce 400 ms)")
    lines.append("backfill")
    c = fig["corpus"]
    row("corpus", f"reused {c['reused']}" if "reused" in c else f"generated in {c['seconds']:.1f} s")
    b = fig["backfill"]
    if "reused" in b:
        row("seenpapers ingest (corpus)", f"skipped: reused {b['reused']}")
    else:
        row("seenpapers ingest (corpus)",
            f"{b['entries_per_s']:,.0f} entries/s  ({b['entries']:,} entries, {b['files']:,} files, {b['seconds']:.1f} s;"
            f" {b['ratio_to_floor']:.2f}× insert floor)" + check(b["entries_per_s"], t["backfill_entries_per_s"], False))
        overall = b["entries"] / (b["seconds"] + b["search_seconds"])
        row("  then the search index", f"{b['search_seconds']:.1f} s: {overall:,.0f} entries/s in all"
            + check(overall, t["backfill_entries_per_s"], False))
        # What the target leaves: at 10,000 entries/s, N entries may use N / 10,000 s of every core.
        cpu = b["cpu_user_s"] + b["cpu_system_s"]
        budget = b["entries"] / t["backfill_entries_per_s"] * (os.cpu_count() or 1)
        row("  CPU time (all processes)", f"{cpu:.1f} s ({b['cpu_user_s']:.1f} user + {b['cpu_system_s']:.1f} system),"
            f" {cpu / b['wall_s']:.2f} cores busy; the target leaves {budget:.1f} s on {os.cpu_count()} cores")
    f = fig["schema_floor"]
    row("floor: same rows, schema alone",
        f"{f['entries_per_s']:,.0f} entries/s  ({f['entries']:,} entries, no parsing or matching);"
        f" with the search index ({f['search_seconds']:.1f} s) {f['entries_per_s_in_all']:,.0f} entries/s in all")
    if "ingest_real" in fig:
        r = fig["ingest_real"]
        row("seenpapers ingest (real hf-api)",
            f"{r['entries_per_s']:,.0f} entries/s  ({r['entries']:,} entries, {r['files']} files, {r['seconds']:.2f} s)")
    lines.append("daemon")
    row("start → first answer", f"{fig['start_to_first_answer_s']:.2f} s" + check(fig["start_to_first_answer_s"], t["start_s"]))
    u, k = fig["lookup_unknown"], fig["lookup_known"]
    if "lookup_unknown_titles" in fig:
        ut = fig["lookup_unknown_titles"]
        row(f"lookup {LOOKUP_SIZE} synthetic unknown, titles + ids ({ut['body_bytes'] / 1000:.1f} kB)",
            lat(ut, noop) + check(ut["p50_ms"], t["lookup_p50_ms"]).replace("target", "p50 target")
            + check(ut["p99_ms"], t["lookup_p99_ms"]).replace("target", "p99 target"))
        row("", f"answers: {ut['statuses']}")
    row(f"lookup {LOOKUP_SIZE} synthetic unknown, with abstracts ({u['body_bytes'] / 1000:.1f} kB)",
        lat(u, noop_abstracts) + check(u["p50_ms"], t["lookup_p50_ms"]).replace("target", "p50 target")
        + check(u["p99_ms"], t["lookup_p99_ms"]).replace("target", "p99 target"))
    row("", f"answers: {u['statuses']}")
    if "lookup_real_unknown" in fig:
        r = fig["lookup_real_unknown"]
        row(f"lookup {LOOKUP_SIZE} real new papers", lat(r, noop_abstracts) + check(r["p50_ms"], t["lookup_p50_ms"]).replace("target", "p50 target")
            + check(r["p99_ms"], t["lookup_p99_ms"]).replace("target", "p99 target"))
        row("", f"answers: {r['statuses']} (HF papers outside the corpus, with abstracts)")
    row(f"lookup {LOOKUP_SIZE} known", lat(k, noop))
    row("", f"answers: {k['statuses']}")
    m = fig["memory"]
    row("RSS after lookups and drops", f"{m['rss_mb']:,.0f} MB  (peak {m['peak_rss_mb']:,.0f} MB)" + check(round(m["rss_mb"]), t["rss_mb"]))
    d = fig["drop"]
    drop = (f"p50 {d['p50_ms']:.0f} ms  p99 {d['p99_ms']:.0f} ms  max {d['max_ms']:.0f} ms"
            f"  ({d['p50_ms'] / w['p50_ms']:.1f}× / {d['p99_ms'] / w['p99_ms']:.1f}× floor)" if "p50_ms" in d else "never visible")
    row("drop → visible", f"{drop}  ({d['files']} files, {d['papers']} papers, {d['polls']} polls"
        + (f", {d['not_visible_within_10s']} not visible within 10 s" if d["not_visible_within_10s"] else "") + ")"
        + check(d.get("p50_ms"), t["drop_p50_ms"]))
    if "badges" in fig:
        lines.extend(badges_report(fig["badges"], t["badges_p50_ms"]))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--papers", type=int, default=None, help="corpus size [default: 100000; 20000 with --quick]")
    ap.add_argument("--quick", action="store_true", help="20,000 papers and fewer iterations (under ~2 minutes)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="keep corpus and database here and reuse them next time")
    ap.add_argument("--json", type=Path, metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("--lookups", type=int, help="timed lookups of unknown papers [default: 500; 200 with --quick]")
    ap.add_argument("--drops", type=int, help="files dropped into the inbox [default: 40; 20 with --quick]")
    ap.add_argument("--badges-only", action="store_true",
                    help="only page → badges, against the corpus and database kept in --keep DIR (about 2 minutes)")
    ap.add_argument("--badge-loads", type=int, help="timed page loads per version and image delay [default: 40; 15 with --quick]")
    ap.add_argument("--badges-before", default="bb004b8", metavar="COMMIT",
                    help="the extension to compare with the tree's [default: bb004b8, content scripts at document_idle]")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    args.papers = args.papers or (20_000 if args.quick else 100_000)
    args.lookups = args.lookups or (200 if args.quick else 500)
    args.drops = args.drops or (20 if args.quick else 40)
    args.known_lookups = 50 if args.quick else 200
    args.noop_requests = 500 if args.quick else 2000
    args.badge_loads = args.badge_loads or (15 if args.quick else 40)
    args.badge_warmup = 5
    if args.badges_only and not args.keep:
        ap.error("--badges-only needs --keep DIR (a corpus and database kept by an earlier run)")
    if LOOKUP_SIZE * (WARMUP + args.lookups) > DROP_BASE:
        ap.error("--lookups: too many (lookup and drop papers would overlap)")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    work = args.keep.resolve() if args.keep else Path(tempfile.mkdtemp(prefix="seenpapers-bench-"))
    started = time.perf_counter()
    if args.badges_only:
        figures = badges_only(args, work)
        figures["bench_seconds"] = time.perf_counter() - started
        print("\n".join([heading(figures), *badges_report(figures["badges"], figures["targets"]["badges_p50_ms"])]))
        print(f"  (bench took {figures['bench_seconds']:.0f} s)")
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n")
        return
    try:
        figures = run(args, work, keep=bool(args.keep))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    figures["bench_seconds"] = time.perf_counter() - started
    print(report(figures))
    print(f"  (bench took {figures['bench_seconds']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
