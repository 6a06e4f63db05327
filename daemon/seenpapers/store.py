"""The SQLite file: schema (sqlite-utils migrations), connections, and the few queries
that more than one module needs.

Tables (described for Datasette users in datasette_metadata.json):
- digests    one ingested file, unique by the SHA-256 of its bytes; a visit (the papers the
             extension saw on screen) or any other digest (m008)
- papers     one work; arxiv_id (no version), doi (m009) and title_key identify it
- sightings  paper x digest: where and how a paper was shown
- duplicates a paper that is another record of the same work as another paper
- reads      papers the person marked read
- failures   files that could not be ingested, and why
- match_keys a few abstract n-grams per paper: where the matcher finds near-duplicates
- match_shingles all of a paper's abstract n-grams, packed, and its title's words: what
             the matcher compares
- papers_fts full-text search over papers (title, abstract), filled in batches from
             search_pending
Views, for Datasette (m003): paper_history (a paper's whole story in one row) and
digest_history (each digest's new and seen-again papers).
"""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import sqlite_utils
from sqlite_utils.migrations import Migrations

migrations = Migrations("seenpapers")


@migrations()
def m001_initial(db: sqlite_utils.Database):
    db["digests"].create(
        {
            "id": int,
            "sha256": str,
            "name": str,
            "path": str,
            "format": str,
            "date": str,
            "size": int,
            "entries": int,
            "ingested_at": str,
        },
        pk="id",
        not_null={"sha256", "name", "format", "date", "ingested_at"},
    )
    db["digests"].create_index(["sha256"], unique=True)
    db["digests"].create_index(["date"])
    db["papers"].create(
        {
            "id": int,
            "arxiv_id": str,
            "title": str,
            "title_key": str,
            "abstract": str,
            "authors": str,
            "authors_count": int,
            "published": str,
            "url": str,
            "first_ingested_at": str,
        },
        pk="id",
        not_null={"title", "title_key"},
    )
    # One paper per arXiv id; papers without one are many.
    db.execute("CREATE UNIQUE INDEX idx_papers_arxiv_id ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL")
    db["papers"].create_index(["title_key"])
    db["sightings"].create(
        {
            "id": int,
            "paper_id": int,
            "digest_id": int,
            "position": int,
            "title": str,
            "arxiv_id": str,
            "authors_count": int,
            "published": str,
            "upvotes": int,
            "abstract": str,
        },
        pk="id",
        foreign_keys=[("paper_id", "papers", "id"), ("digest_id", "digests", "id")],
        not_null={"paper_id", "digest_id", "position", "title"},
    )
    db["sightings"].create_index(["digest_id", "position"], unique=True)
    db["sightings"].create_index(["paper_id"])
    db["duplicates"].create(
        {
            "id": int,
            "paper_id": int,
            "duplicate_of": int,
            "similarity": float,
            "reason": str,
            "found_at": str,
        },
        pk="id",
        foreign_keys=[("paper_id", "papers", "id"), ("duplicate_of", "papers", "id")],
        not_null={"paper_id", "duplicate_of", "similarity", "reason"},
    )
    db["duplicates"].create_index(["paper_id", "duplicate_of"], unique=True)
    db["duplicates"].create_index(["duplicate_of"])
    db["reads"].create(
        {"paper_id": int, "read_at": str},
        pk="paper_id",
        foreign_keys=[("paper_id", "papers", "id")],
        not_null={"read_at"},
    )
    db["failures"].create(
        {
            "id": int,
            "sha256": str,
            "name": str,
            "path": str,
            "size": int,
            "error": str,
            "failed_at": str,
        },
        pk="id",
        not_null={"name", "error", "failed_at"},
    )
    db["failures"].create_index(["sha256"], unique=True)
    db["papers"].enable_fts(["title", "abstract"], tokenize="porter")
    # Index papers for full-text search in batches, not row by row: FTS5 indexing was most
    # of an ingest's time with one trigger per paper. A new or changed paper is queued in
    # search_pending by a cheap trigger; update_search_index indexes the queue at once.
    # A paper already indexed that changes is taken out at once, while its old text is
    # still known (an external-content index can only forget text it is told), and queued.
    db.executescript(
        """
        CREATE TABLE search_pending (paper_id INTEGER PRIMARY KEY);
        CREATE TRIGGER papers_search_insert AFTER INSERT ON papers BEGIN
          INSERT OR IGNORE INTO search_pending (paper_id) VALUES (new.id);
        END;
        CREATE TRIGGER papers_search_update AFTER UPDATE OF title, abstract ON papers
        WHEN old.id NOT IN (SELECT paper_id FROM search_pending) BEGIN
          INSERT INTO papers_fts (papers_fts, rowid, title, abstract) VALUES ('delete', old.id, old.title, old.abstract);
          INSERT INTO search_pending (paper_id) VALUES (new.id);
        END;
        CREATE TRIGGER papers_search_delete AFTER DELETE ON papers BEGIN
          INSERT INTO papers_fts (papers_fts, rowid, title, abstract)
            SELECT 'delete', old.id, old.title, old.abstract WHERE old.id NOT IN (SELECT paper_id FROM search_pending);
          DELETE FROM search_pending WHERE paper_id = old.id;
        END;
        """
    )


@migrations()
def m002_match_keys(db: sqlite_utils.Database):
    """Near-duplicate candidates (see matcher): a few abstract n-grams per paper. Title keys
    are recomputed too, as the key learnt LaTeX symbols and "++"."""
    from . import matcher, text

    db.execute(
        "CREATE TABLE match_keys (key INTEGER NOT NULL, paper_id INTEGER NOT NULL REFERENCES papers(id),"
        " PRIMARY KEY (key, paper_id)) WITHOUT ROWID"
    )
    db.execute("CREATE INDEX idx_match_keys_paper_id ON match_keys(paper_id)")
    db.execute("CREATE TABLE match_shingles (paper_id INTEGER PRIMARY KEY REFERENCES papers(id),"
               " shingles BLOB NOT NULL, title_parts TEXT NOT NULL)")
    db.execute("CREATE TRIGGER papers_match_keys_delete AFTER DELETE ON papers BEGIN"
               " DELETE FROM match_keys WHERE paper_id = old.id;"
               " DELETE FROM match_shingles WHERE paper_id = old.id; END")
    rows = db.execute("SELECT id, title, title_key, abstract FROM papers").fetchall()
    for pid, title, key, abstract in rows:
        matcher.index_papers(db, [(pid, text.title_parts(title), matcher.abstracts_of([abstract or ""])[0])])
        if text.title_key(title) != key:
            db.execute("UPDATE papers SET title_key = ? WHERE id = ?", [text.title_key(title), pid])


# The address of a paper on Hugging Face and on arXiv: its page when its arXiv id is known,
# else a title search (the few characters that break a query string escaped; SQLite has no
# URL encoding). Datasette links any cell that holds a URL, so views need no plugin.
_QUERY_TITLE = ("replace(replace(replace(replace(replace(p.title, '%', '%25'), '&', '%26'), '#', '%23'),"
                " '+', '%2B'), ' ', '+')")


# Per-paper columns are correlated subqueries, not a join on one big GROUP BY: a page of
# rows, a row, a count or a status facet then reads only the papers it shows (at 100k papers
# ~5 ms instead of ~300 ms); sorting or faceting on a date column still reads every sighting.
_SEEN_IN = "sightings s JOIN digests d ON d.id = s.digest_id WHERE s.paper_id = p.id"


@migrations()
def m003_history_views(db: sqlite_utils.Database):
    """Views for Datasette (see datasette_metadata.json):

    - paper_history   one row per paper: status, times seen, first and last seen (digest
                      dates), the month first seen, when read, what it duplicates, links
    - digest_history  one row per digest: papers shown, how many were new and how many
                      seen again (a paper is new in the first digest that showed it, by
                      digest date, then ingest order, then position)
    """
    db.executescript(
        f"""
        CREATE VIEW paper_history AS
        SELECT
          p.id AS paper_id,
          p.title,
          CASE WHEN r.paper_id IS NOT NULL THEN 'read'
               WHEN EXISTS (SELECT 1 FROM duplicates x WHERE x.paper_id = p.id) THEN 'duplicate'
               ELSE 'seen' END AS status,
          (SELECT count(*) FROM sightings s WHERE s.paper_id = p.id) AS times_seen,
          (SELECT count(DISTINCT s.digest_id) FROM sightings s WHERE s.paper_id = p.id) AS digests,
          (SELECT min(d.date) FROM {_SEEN_IN}) AS first_seen,
          (SELECT max(d.date) FROM {_SEEN_IN}) AS last_seen,
          (SELECT substr(min(d.date), 1, 7) FROM {_SEEN_IN}) AS month_first_seen,
          r.read_at,
          (SELECT x.duplicate_of FROM duplicates x WHERE x.paper_id = p.id
           ORDER BY x.similarity DESC LIMIT 1) AS duplicate_of,
          p.arxiv_id,
          p.published,
          CASE WHEN p.arxiv_id IS NOT NULL THEN 'https://huggingface.co/papers/' || p.arxiv_id
               ELSE 'https://huggingface.co/papers?q=' || {_QUERY_TITLE} END AS hf_url,
          CASE WHEN p.arxiv_id IS NOT NULL THEN 'https://arxiv.org/abs/' || p.arxiv_id
               ELSE 'https://arxiv.org/search/?searchtype=title&query=' || {_QUERY_TITLE} END AS arxiv_url
        FROM papers p
        LEFT JOIN reads r ON r.paper_id = p.id;

        -- Read whole (charts, a canned query), so each paper's sightings are numbered once
        -- over the table (a window) rather than per digest: ~0.5 s at 150k sightings.
        CREATE VIEW digest_history AS
        WITH ranked AS (
          SELECT s.digest_id, s.paper_id,
                 row_number() OVER (PARTITION BY s.paper_id ORDER BY d.date, d.id, s.position) AS nth
          FROM sightings s JOIN digests d ON d.id = s.digest_id
        )
        SELECT
          d.id AS digest_id,
          d.date,
          substr(d.date, 1, 7) AS month,
          d.name,
          d.format,
          count(r.paper_id) AS papers,
          coalesce(sum(r.nth = 1), 0) AS new_papers,
          coalesce(sum(r.nth > 1), 0) AS seen_again,
          coalesce(sum(r.nth = 1 AND r.paper_id IN (SELECT paper_id FROM duplicates)), 0) AS duplicates,
          d.ingested_at
        FROM digests d LEFT JOIN ranked r ON r.digest_id = d.id
        GROUP BY d.id;
        """
    )


@migrations()
def m004_rehash_abstracts(db: sqlite_utils.Database):
    """The matcher hashes abstract words another way (all of a request's in one numpy
    pass): every paper's keys and fingerprint are made again."""
    from . import matcher, text

    # Keys go in sorted (numpy sorts 10M of them in seconds; SQLite's sorter spilled to disk
    # for many minutes), and without the paper_id index (m005): inserted paper by paper, 1M
    # papers' random keys rewrite the same B-tree pages over and over for an hour.
    db.execute("DROP INDEX IF EXISTS idx_match_keys_paper_id")
    db.execute("DELETE FROM match_keys")
    db.execute("DELETE FROM match_shingles")
    keys = []
    rows = db.conn.execute("SELECT id, title, abstract FROM papers WHERE abstract <> '' ORDER BY id")
    while chunk := rows.fetchmany(2000):
        chunk_keys, fingerprints = matcher.index_rows(
            [(pid, text.title_parts(title), made)
             for (pid, title, _), made in zip(chunk, matcher.abstracts_of([r[2] for r in chunk]))])
        keys.append(np.array(chunk_keys, dtype=np.int64).reshape(-1, 2))
        db.conn.executemany("INSERT INTO match_shingles (paper_id, shingles, title_parts) VALUES (?, ?, ?)", fingerprints)
    if keys:
        every = np.concatenate(keys)
        every = every[np.lexsort((every[:, 1], every[:, 0]))]
        for start in range(0, len(every), 100_000):
            db.conn.executemany("INSERT OR IGNORE INTO match_keys (key, paper_id) VALUES (?, ?)",
                                every[start:start + 100_000].tolist())


@migrations()
def m005_no_match_keys_paper_index(db: sqlite_utils.Database):
    """match_keys is only ever searched by key. Its paper_id index doubled the cost of
    every key a backfill writes; deleting a paper (by hand) now scans match_keys instead."""
    db.execute("DROP INDEX IF EXISTS idx_match_keys_paper_id")


@migrations()
def m006_sorted_fingerprints(db: sqlite_utils.Database):
    """Fingerprints are stored sorted and unique, so the matcher compares a whole page's
    candidates without sorting them (matcher._may_match relies on it)."""
    last = 0
    while chunk := db.execute("SELECT paper_id, shingles FROM match_shingles WHERE paper_id > ?"
                              " ORDER BY paper_id LIMIT 5000", [last]).fetchall():
        db.conn.executemany("UPDATE match_shingles SET shingles = ? WHERE paper_id = ?", [
            (np.unique(np.frombuffer(blob, dtype="<u4")).astype("<u4").tobytes(), pid) for pid, blob in chunk])
        last = chunk[-1][0]


@migrations()
def m007_cached_counts(db: sqlite_utils.Database):
    """Counts of papers and digests kept by triggers (sqlite-utils' _counts, which Datasette
    reads too): /health answered count(*), which reads a whole index, 2 s on a cold disk."""
    db["papers"].enable_counts()
    db["digests"].enable_counts()


@migrations()
def m008_digest_kind_page_started(db: sqlite_utils.Database):
    """What a digest is: a visit (the papers the browser extension saw on screen during one
    visit of a page) or any other digest, and for a visit the page's address and when the
    visit began. Older digests read 'digest' (the column's default)."""
    db["digests"].add_column("kind", str, not_null_default="digest")
    db["digests"].add_column("page", str)
    db["digests"].add_column("started", str)


@migrations()
def m009_doi_version_truncated(db: sqlite_utils.Database):
    """DOIs as identity beside arXiv ids (journal and bioRxiv alerts have no arXiv id), and
    what a sighting showed of a paper: its arXiv version (a replacement is v2, v3…) and
    whether the digest cut its title or authors short (Scholar's "…")."""
    db["papers"].add_column("doi", str)
    db.execute("CREATE INDEX idx_papers_doi ON papers (doi) WHERE doi IS NOT NULL")
    db["sightings"].add_column("version", int)
    db["sightings"].add_column("truncated", int, not_null_default=0)


def update_search_index(db: sqlite_utils.Database) -> int:
    """Index the papers queued in search_pending (see m001); returns how many."""
    with write_transaction(db):
        count = db.execute(
            "INSERT INTO papers_fts (rowid, title, abstract) SELECT p.id, p.title, p.abstract"
            " FROM search_pending s JOIN papers p ON p.id = s.paper_id"
        ).rowcount
        db.execute("DELETE FROM search_pending")
    return count


def open_db(path: Path | str, *, readonly: bool = False, cache_mb: int = 64) -> sqlite_utils.Database:
    """A connection with the settings every part relies on; migrates unless read-only.

    WAL lets Datasette and lookups read while an ingest writes; the busy timeout makes a
    second writer (``seenpapers ingest`` beside the daemon) wait instead of failing.
    """
    path = Path(path)
    if readonly:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 10000")
    # 64 MB of page cache by default (SQLite's is 2 MB): a lookup probes hundreds of
    # match_keys pages. The daemon's reader asks for more (server.READER_CACHE_MB).
    conn.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")
    db = sqlite_utils.Database(conn)
    if not readonly:
        db.enable_wal()
        db.execute("PRAGMA synchronous = NORMAL")  # a commit survives kill -9; only a power cut may undo the last ones
        db.execute("PRAGMA foreign_keys = ON")
        migrations.apply(db)
    return db


def now() -> str:
    """The current UTC time as ISO 8601, as every *_at column stores it."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def counts(db: sqlite_utils.Database) -> dict:
    """What /health and the CLI report: papers, digests, the last ingest time."""
    cached = db.cached_counts(["papers", "digests"])
    last = db.execute("SELECT ingested_at FROM digests ORDER BY id DESC LIMIT 1").fetchone()
    return {"papers": cached.get("papers", 0), "digests": cached.get("digests", 0), "last_ingest": last and last[0]}


@contextmanager
def write_transaction(db: sqlite_utils.Database):
    """BEGIN IMMEDIATE ... COMMIT: take the write lock up front, so a second writer waits
    (busy timeout) instead of failing when its read snapshot turns stale. Inside another
    transaction (a backfill commits 500 files at once) it is part of that one, and an error
    undoes all of it: a savepoint per file, to undo one file alone, copied every page a
    file touched and cost a fifth of a backfill's writing (see cli._commit_batch)."""
    if db.conn.in_transaction:
        yield db
        return
    db.conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if db.conn.in_transaction:
            db.conn.execute("ROLLBACK")
        raise
    db.conn.execute("COMMIT")


def mark_read(db: sqlite_utils.Database, paper_ids: list[int]) -> int:
    """Mark known papers read (keeping the first read time); returns how many exist."""
    with write_transaction(db):
        existing = [pid for pid in dict.fromkeys(paper_ids) if db.execute("SELECT 1 FROM papers WHERE id = ?", [pid]).fetchone()]
        stamp = now()
        db.conn.executemany(
            "INSERT OR IGNORE INTO reads (paper_id, read_at) VALUES (?, ?)", [(pid, stamp) for pid in existing]
        )
    return len(existing)


def unmark_read(db: sqlite_utils.Database, paper_id: int) -> bool:
    with write_transaction(db):
        return db.execute("DELETE FROM reads WHERE paper_id = ?", [paper_id]).rowcount > 0
