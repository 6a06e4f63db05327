"""Load: eight browser tabs' worth of lookups for a minute, while 300 digest files land in the
inbox and a person browses Datasette: every answer is a 200, nothing is lost, and SQLite never
says "database is locked". The lookup latencies' p99 is reported (a measure, not a target:
targets are scripts/bench's), with `pytest -s` and as the test's `lookup_p99_ms` property.
"""

import asyncio
import json
import random
import shutil
import statistics
import time
from datetime import datetime

import aiohttp
import pytest

from seenpapers import formats

from .conftest import HF_API, HF_API_ODD, SHARED, Daemon, _table_counts

pytestmark = pytest.mark.slow

CLIENTS = 8
SECONDS = 60.0
FILES = 300
DROP_OVER = 40.0  # seconds the files take to arrive: the ingest overlaps most of the minute
PER_LOOKUP = 50  # papers per lookup: one page of Hugging Face daily papers


def digest_files(folder) -> list:
    """300 real API files from ../shared when it is there; else 300 made from the fixtures,
    each a real day's papers under other arXiv ids and titles."""
    folder.mkdir()
    real = sorted((SHARED / "digests" / "hf-api").glob("*.json"))
    if len(real) >= FILES:
        for path in real[:FILES]:
            shutil.copyfile(path, folder / path.name)
        return sorted(folder.iterdir())
    days = sorted(HF_API.glob("*.json")) + sorted(HF_API_ODD.glob("*.json"))
    for n in range(FILES):
        source = days[n % len(days)]
        # (the damaged days' papers as the parser reads them)
        entries = formats.parse(source.read_bytes(), name=source.name, mtime=datetime.now()).entries
        copy = n // len(days)
        items = [{"paper": {"id": f"{9100 + copy}.{n:03d}{k:02d}", "title": f"{e.title} (copy {copy})",
                            "summary": e.abstract, "authors": [{"name": a} for a in e.authors]},
                  "title": f"{e.title} (copy {copy})"} for k, e in enumerate(entries)]
        (folder / f"{n:03d}-{source.name}").write_text(json.dumps(items), encoding="utf-8")
    return sorted(folder.iterdir())


def titles_in(files) -> list[tuple[str, str]]:
    papers = []
    for path in files:
        for item in json.loads(path.read_text(encoding="utf-8")):
            paper = item["paper"] if isinstance(item, dict) and isinstance(item.get("paper"), dict) else None
            if paper and paper.get("title"):
                papers.append((paper["title"], paper.get("summary") or ""))
    return papers


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def test_eight_clients_look_up_for_a_minute_while_300_files_are_ingested(tmp_path, record_property):
    files = digest_files(tmp_path / "staging")
    known = titles_in(files)
    running = Daemon(tmp_path / "data", "--samples", datasette=True)
    try:
        running.wait_idle(digests=5)
        headers = {"Authorization": f"Bearer {running.token}"}
        latencies: list[float] = []
        failures: list[str] = []
        datasette_reads = 0
        deadline = time.monotonic() + SECONDS

        async def client(number: int) -> None:
            rng = random.Random(number)
            async with aiohttp.ClientSession(headers=headers) as session:
                while time.monotonic() < deadline:
                    # A page: papers known or about to be, a few with their abstracts, and new ones.
                    papers = []
                    for i in range(PER_LOOKUP):
                        if rng.random() < 0.7:
                            title, abstract = rng.choice(known)
                            papers.append({"title": title, **({"abstract": abstract} if rng.random() < 0.2 else {})})
                        else:
                            papers.append({"title": f"An Unknown Paper {number}-{rng.randrange(10**9)} on Topic {i}"})
                    started = time.perf_counter()
                    async with session.post(f"{running.url}/api/v1/lookup", json={"papers": papers}) as response:
                        body = await response.read()
                    latencies.append(time.perf_counter() - started)
                    if response.status != 200 or len(json.loads(body)["results"]) != PER_LOOKUP:
                        failures.append(f"{response.status}: {body[:200]!r}")

        async def browsing() -> None:
            """Someone asking Datasette questions meanwhile (it reads the same file)."""
            nonlocal datasette_reads
            async with aiohttp.ClientSession() as session:
                while time.monotonic() < deadline:
                    for path in ("/seenpapers/papers.json?_size=50&_sort_desc=id",
                                 "/seenpapers/shown_often_never_read.json?min_digests=1",
                                 "/seenpapers/papers.json?_search=language"):
                        async with session.get(running.datasette_url + path) as response:
                            body = await response.read()
                        datasette_reads += 1
                        if response.status != 200:
                            failures.append(f"datasette {response.status}: {body[:200]!r}")
                    await asyncio.sleep(0.5)

        async def drop_files() -> None:
            start = time.monotonic()
            for n, path in enumerate(files):
                await asyncio.to_thread(shutil.copyfile, path, running.inbox / path.name)
                await asyncio.sleep(max(0.0, start + (n + 1) * DROP_OVER / len(files) - time.monotonic()))

        await asyncio.gather(*(client(n) for n in range(CLIENTS)), browsing(), drop_files())
        running.wait_idle(digests=5 + len(files))
        counts = _table_counts(running.data_dir / "seenpapers.db")
        log = running.log_text()
    finally:
        running.stop()

    p50, p99 = p(latencies, 0.50) * 1000, p(latencies, 0.99) * 1000
    summary = (f"{len(latencies)} lookups of {PER_LOOKUP} papers by {CLIENTS} clients in {SECONDS:.0f} s "
               f"({len(latencies) / SECONDS:.1f}/s) while {len(files)} files were ingested; "
               f"p50 {p50:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms, "
               f"mean {statistics.fmean(latencies) * 1000:.1f} ms; {datasette_reads} Datasette reads")
    print("\n" + summary)
    record_property("lookup_p50_ms", round(p50, 1))
    record_property("lookup_p99_ms", round(p99, 1))
    assert not failures, f"{len(failures)} failed requests, first: {failures[:3]} ({summary})"
    assert counts["digests"] == 5 + len(files) and counts["failures"] == 0, (counts, summary)
    assert "database is locked" not in log and "Traceback" not in log, summary
    assert len(latencies) > CLIENTS * 10, summary
