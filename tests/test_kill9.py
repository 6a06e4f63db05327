"""kill -9, twenty times, while the daemon ingests the 306 real API files; then a restart.
The database must equal what a clean, uninterrupted ingest of the same files gives, table by
table (ids and the clock aside), and SQLite must find nothing wrong with the file.

The files are in the inbox before the first start, oldest first by name, so every start
ingests the rest in the order a one-shot `seenpapers ingest` of the sorted files does.
"""

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

import pytest

from .conftest import SEENPAPERS, SHARED, Daemon, _table_counts

pytestmark = [pytest.mark.shared, pytest.mark.slow]

API_FILES = SHARED / "digests" / "hf-api"
KILLS = 20
if not API_FILES.is_dir():
    pytest.skip(f"{API_FILES} is not there (the full data set of ../shared)", allow_module_level=True)

# What a person sees of each table, by natural keys: digests by their bytes (sha256), papers by
# arXiv id (else title key), sightings by digest and position. Left out: row ids, paths (the
# inbox vs. where the clean run read them) and the times rows were written.
CANONICAL = {
    "digests": "SELECT sha256, name, format, date, size, entries FROM digests",
    "papers": "SELECT coalesce(arxiv_id, title_key), arxiv_id, title, title_key, abstract, authors,"
              " authors_count, published, url FROM papers",
    "sightings": "SELECT d.sha256, s.position, coalesce(p.arxiv_id, p.title_key), s.title, s.arxiv_id,"
                 " s.authors_count, s.published, s.upvotes, s.abstract"
                 " FROM sightings s JOIN digests d ON d.id = s.digest_id JOIN papers p ON p.id = s.paper_id",
    "duplicates": "SELECT coalesce(p.arxiv_id, p.title_key), coalesce(o.arxiv_id, o.title_key), x.similarity, x.reason"
                  " FROM duplicates x JOIN papers p ON p.id = x.paper_id JOIN papers o ON o.id = x.duplicate_of",
    "failures": "SELECT sha256, name, size, error FROM failures",
    "reads": "SELECT coalesce(p.arxiv_id, p.title_key) FROM reads r JOIN papers p ON p.id = r.paper_id",
    # The matcher's own index, and what full-text search finds, must agree too.
    "match_keys": "SELECT k.key, coalesce(p.arxiv_id, p.title_key) FROM match_keys k JOIN papers p ON p.id = k.paper_id",
    "match_shingles": "SELECT coalesce(p.arxiv_id, p.title_key), m.shingles, m.title_parts"
                      " FROM match_shingles m JOIN papers p ON p.id = m.paper_id",
    "search_pending": "SELECT paper_id FROM search_pending",
    "search": "SELECT coalesce(p.arxiv_id, p.title_key) FROM papers_fts f JOIN papers p ON p.id = f.rowid"
              " WHERE papers_fts MATCH 'language OR vision OR diffusion OR agent OR reasoning'",
}
# With the same order of ingest even the ids agree: a rolled-back insert takes no id.
BY_ID = ["SELECT id, sha256 FROM digests", "SELECT id, coalesce(arxiv_id, title_key) FROM papers",
         "SELECT id, paper_id, digest_id, position FROM sightings"]


def dump(db_path) -> dict:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return {name: sorted(conn.execute(sql), key=repr) for name, sql in {**CANONICAL, **dict(enumerate(BY_ID))}.items()}
    finally:
        conn.close()


def pending_search(db_path) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM search_pending").fetchone()[0]
    finally:
        conn.close()


def sound(db_path) -> None:
    """SQLite's own checks, and the full-text index against its content table (on a copy:
    the FTS check is written as an INSERT)."""
    copy = db_path.with_name("check.db")
    src = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    dest = sqlite3.connect(copy)
    src.backup(dest)
    src.close()
    try:
        assert dest.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert dest.execute("PRAGMA foreign_key_check").fetchall() == []
        dest.execute("INSERT INTO papers_fts (papers_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        dest.close()
        copy.unlink()


def test_twenty_kill_9s_during_ingest_then_a_restart_equal_a_clean_ingest(tmp_path):
    files = sorted(API_FILES.glob("*.json"))
    assert len(files) == 306
    started = time.monotonic()
    clean = subprocess.run([SEENPAPERS, "ingest", "--data-dir", str(tmp_path / "clean"), *map(str, files)],
                           capture_output=True, text=True, timeout=600)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    clean_seconds = time.monotonic() - started

    data = tmp_path / "data"
    inbox = data / "inbox"
    inbox.mkdir(parents=True)
    stamp = time.time() - 10_000
    for n, path in enumerate(files):  # oldest first = by name, as the clean run took them
        shutil.copyfile(path, inbox / path.name)
        os.utime(inbox / path.name, (stamp + n, stamp + n))

    seed = int(os.environ.get("KILL9_SEED", time.time_ns() % 10**6))
    rng = random.Random(seed)
    db_path = data / "seenpapers.db"
    progress, logs = [], []
    started = time.monotonic()
    for kill in range(KILLS):
        if kill % 4 == 3:
            # Some kills land while it starts: opening, migrating, catching up on the search index.
            proc = subprocess.Popen([SEENPAPERS, "run", "--data-dir", str(data), "--port", "0", "--no-datasette"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.2, 1.0))
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        else:
            # The rest while it ingests: it is listening by then, and working through the inbox.
            running = Daemon(data)
            time.sleep(rng.uniform(0.03, 0.25))  # a digest commits in a few ms: keep files for the last kills
            running.proc.send_signal(signal.SIGKILL)
            running.proc.wait()
            logs.append(running.log_text())
            running.stop()
        progress.append(_table_counts(db_path)["digests"] if db_path.exists() else 0)
    killed_seconds = time.monotonic() - started
    context = f"seed {seed}; digests after each kill: {progress}"
    assert progress[-1] < len(files), f"the ingest was over before the last kill ({context})"
    assert len(set(progress)) >= 5, context  # kills all along the ingest, not all at its start

    last = Daemon(data)
    last.wait_idle(digests=len(files))
    last.wait_for(lambda: not pending_search(db_path), what="the search index")
    logs.append(last.log_text())
    assert last.stop() == 0

    for log in logs:
        assert "Traceback" not in log and "database is locked" not in log and "malformed" not in log, context
    sound(db_path)
    killed, expected = dump(db_path), dump(tmp_path / "clean" / "seenpapers.db")
    assert len(expected["papers"]) > 4000 and len(expected["sightings"]) == len(expected["papers"])
    for table in expected:
        assert killed[table] == expected[table], f"{table} differs ({context})"
    print(f"\nkill -9 x{KILLS} ({context}): clean ingest {clean_seconds:.1f} s, "
          f"kill loop {killed_seconds:.1f} s, restart to done {time.monotonic() - started - killed_seconds:.1f} s")
