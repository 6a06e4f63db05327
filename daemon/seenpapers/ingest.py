"""One file in, one transaction out: read, parse, match every entry, commit.

Two halves: ``prepare_file`` reads, parses and hashes (no database: a backfill runs it in
other processes), ``commit`` matches and writes. A digest is the SHA-256 of its bytes: the
same bytes twice are skipped as known. A file that cannot be parsed, or written, is
recorded in ``failures`` with its reason and nothing else changes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from stat import S_ISREG

import sqlite_utils

from . import formats, matcher, store, text
from .entry import Entry, ParsedDigest, ParseError

log = logging.getLogger(__name__)


@dataclass
class Result:
    """What ingesting one file did. ``status`` is ingested, known or failed."""

    name: str
    status: str
    entries: int = 0
    new_papers: int = 0
    seen_again: int = 0
    duplicates: int = 0
    error: str | None = None
    format: str | None = None  # what the file was (formats.describe says it in words)


@dataclass
class Prepared:
    """A file read, parsed and hashed, ready to commit: the part of an ingest that needs no
    database, so a backfill can run it in other processes (see cli.ingest_command)."""

    name: str
    path: str | None
    size: int | None
    sha256: str | None = None
    digest: ParsedDigest | None = None
    made: list[matcher.Abstract] | None = None  # what the matcher makes of each entry's abstract
    error: str | None = None


def ingest_file(db: sqlite_utils.Database, path: Path) -> Result:
    """Read, parse and commit one file in a transaction of its own. An error while writing
    it (a bug on one of its entries, a trigger added by hand) undoes the file and is recorded
    as its failure, so that whoever ingests many files goes on past it. The database's own
    errors (a full disk, a lock held too long) are not the file's: they are raised."""
    prepared = prepare_file(path, known=partial(_known, db))
    try:
        return commit(db, prepared)
    except Exception as e:
        # Not the file's: the database's own errors, and any inside a caller's transaction
        # (only the caller can undo that).
        if isinstance(e, sqlite3.OperationalError) or db.conn.in_transaction:
            raise
        log.exception("could not commit %s", prepared.name)
        error = f"internal error while writing: {type(e).__name__}: {e}"
        return _failed(db, prepared.name, prepared.path, prepared.sha256, prepared.size, error)


def ingest_bytes(db: sqlite_utils.Database, data: bytes, *, name: str, path: str | None, mtime: datetime) -> Result:
    return commit(db, prepare_bytes(data, name=name, path=path, mtime=mtime, known=partial(_known, db)))


def prepare_file(path: Path, known=None) -> Prepared:
    """Read and parse a file; ``known(sha256)`` says whether to stop at its hash."""
    path = Path(path)
    name = printable(path.name)
    try:
        stat = path.stat()
        if not S_ISREG(stat.st_mode):  # a FIFO or a device would block or never end
            raise OSError("not a regular file")
        if stat.st_size > formats.MAX_BYTES:
            raise ParseError(f"file too large: {stat.st_size:,} bytes (limit {formats.MAX_BYTES:,})")
        data = path.read_bytes()
    except ParseError as e:
        return Prepared(name, printable(str(path)), stat.st_size, error=str(e))
    except OSError as e:
        return Prepared(name, printable(str(path)), None, error=f"cannot read the file: {e.strerror or e}")
    mtime = datetime.fromtimestamp(stat.st_mtime)
    return prepare_bytes(data, name=name, path=printable(str(path.resolve())), mtime=mtime, known=known)


def prepare_bytes(data: bytes, *, name: str, path: str | None, mtime: datetime, known=None) -> Prepared:
    prepared = Prepared(name, path, len(data), hashlib.sha256(data).hexdigest())
    if known is not None and known(prepared.sha256):
        return prepared  # commit() skips it
    try:
        prepared.digest = formats.parse(data, name=name, mtime=mtime)
        entries = prepared.digest.entries
        prepared.made = matcher.abstracts_of([entry.abstract for entry in entries])
        for entry in entries:  # made here, in the parsing process, and sent back with the entry
            _ = entry.title_parts, entry.authors_json
    except ParseError as e:
        prepared.digest, prepared.error = None, str(e)
    except Exception as e:  # a parser bug must not stop the daemon; keep the trace in the log
        log.exception("parser crashed on %s", name)
        prepared.digest, prepared.error = None, f"internal error while parsing: {type(e).__name__}: {e}"
    return prepared


def printable(name: str) -> str:
    """A file name as text SQLite can store: undecodable bytes in names become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def commit(db: sqlite_utils.Database, prepared: Prepared) -> Result:
    """Write a prepared file in one transaction, or as part of a caller's."""
    p = prepared
    if p.sha256 and _known(db, p.sha256):
        return Result(p.name, "known")
    if p.digest is None:
        return _failed(db, p.name, p.path, p.sha256, p.size, p.error or "not parsed")
    with store.write_transaction(db):
        if _known(db, p.sha256):  # another process committed it while we parsed
            return Result(p.name, "known")
        result = _commit(db, p.digest, p.made, sha256=p.sha256, name=p.name, path=p.path, size=p.size)
        db.execute("DELETE FROM failures WHERE sha256 = ?", [p.sha256])
    return result


def _known(db: sqlite_utils.Database, sha256: str) -> bool:
    return db.execute("SELECT 1 FROM digests WHERE sha256 = ?", [sha256]).fetchone() is not None


def _commit(db, digest: ParsedDigest, made: list[matcher.Abstract], *, sha256, name, path, size) -> Result:
    now = store.now()
    digest_id = db.execute(
        "INSERT INTO digests (sha256, name, path, format, date, size, entries, ingested_at, kind, page, started)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [sha256, name, path, digest.format, digest.date.isoformat(), size, len(digest.entries), now,
         digest.kind, digest.page, digest.started],
    ).lastrowid
    result = Result(name, "ingested", entries=len(digest.entries), format=digest.format)
    shown = list(enumerate(zip(digest.entries, made), 1))
    for start, end in _runs(digest.entries):
        _commit_run(db, digest_id, shown[start:end], now, result)
    return result


def _runs(entries: list[Entry]) -> list[tuple[int, int]]:
    """Consecutive runs of entries in which no two share an arXiv id, a DOI or a title key. Within
    a run, no entry can be the paper another one adds, so a run's identities are all found
    before any of it is written, and come out as they would one entry at a time."""
    runs, start, ids, keys = [], 0, set(), set()
    for i, entry in enumerate(entries):
        if entry.title_key in keys or (entry.arxiv_id and entry.arxiv_id in ids) or (entry.doi and entry.doi in ids):
            runs.append((start, i))
            start, ids, keys = i, set(), set()
        keys.add(entry.title_key)
        ids.update(value for value in (entry.arxiv_id, entry.doi) if value)
    return runs + [(start, len(entries))] if entries else runs


def _commit_run(db, digest_id: int, run: list[tuple[int, tuple[Entry, matcher.Abstract]]], now: str, result: Result) -> None:
    """A run of entries in a few statements: a statement per entry was most of a backfill."""
    known = matcher.find_papers(db, [(entry.arxiv_id, entry.doi, entry.title_key, entry.abstract) for _, (entry, _) in run])
    # New papers get the ids SQLite would give them one by one (max + 1; papers are never
    # deleted by the daemon), so each one's duplicates are looked for among older papers.
    next_id = db.execute("SELECT coalesce(max(id), 0) + 1 FROM papers").fetchone()[0]
    new_papers, fill_ins, to_index, queries, sightings = [], [], [], [], []
    abstracts: dict[int, str] = {}  # a known paper's abstract as this run leaves it
    for (position, (entry, made)), paper in zip(run, known):
        if paper is None:
            paper_id, next_id = next_id, next_id + 1
            new_papers.append([paper_id, entry.arxiv_id, entry.doi, entry.title, entry.title_key, entry.abstract,
                               entry.authors_json, entry.authors_count, entry.published, entry.url, now])
            to_index.append((paper_id, entry.title_parts, made))
            queries.append(matcher.Query(entry.title, entry.abstract, entry.arxiv_id, before=paper_id,
                                         made=made, title_key=entry.title_key))
            shown_abstract = None
        else:
            paper_id = paper.id
            fill_ins.append(_fill_in_values(paper_id, entry))
            had = abstracts.setdefault(paper_id, paper.abstract)
            if entry.abstract and not had:
                to_index.append((paper_id, text.title_parts(paper.title), made))
                abstracts[paper_id] = entry.abstract
            # Keep the abstract as shown only when it differs: an edited abstract is evidence.
            shown_abstract = entry.abstract if entry.abstract and had and entry.abstract != had else None
        sightings.append([paper_id, digest_id, position, entry.title, entry.arxiv_id, entry.authors_count,
                          entry.published, entry.upvotes, shown_abstract, entry.version, int(entry.truncated)])
    db.conn.executemany(_FILL_IN, fill_ins)
    db.conn.executemany(
        "INSERT INTO papers (id, arxiv_id, doi, title, title_key, abstract, authors, authors_count,"
        " published, url, first_ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        new_papers,
    )
    matcher.index_papers(db, to_index)
    duplicates = [
        [query.before, found.paper_id, found.similarity, found.reason, now]
        for query, found in zip(queries, matcher.find_duplicates(db, queries)) if found is not None
    ]
    db.conn.executemany(
        "INSERT OR IGNORE INTO duplicates (paper_id, duplicate_of, similarity, reason, found_at)"
        " VALUES (?, ?, ?, ?, ?)",
        duplicates,
    )
    db.conn.executemany(
        "INSERT INTO sightings (paper_id, digest_id, position, title, arxiv_id, authors_count,"
        " published, upvotes, abstract, version, truncated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        sightings,
    )
    result.new_papers += len(new_papers)
    result.seen_again += len(run) - len(new_papers)
    result.duplicates += len(duplicates)


# What a later sighting knows and the paper lacks (an id, a DOI, an abstract, authors).
_FILL_IN = """UPDATE papers SET
     arxiv_id = coalesce(arxiv_id, :arxiv_id),
     doi = coalesce(doi, :doi),
     abstract = CASE WHEN coalesce(abstract, '') = '' THEN :abstract ELSE abstract END,
     authors = coalesce(authors, :authors),
     authors_count = coalesce(authors_count, :authors_count),
     published = coalesce(published, :published),
     url = coalesce(url, :url)
   WHERE id = :id AND (
     (arxiv_id IS NULL AND :arxiv_id IS NOT NULL)
     OR (doi IS NULL AND :doi IS NOT NULL)
     OR (coalesce(abstract, '') = '' AND :abstract != '')
     OR (authors IS NULL AND :authors IS NOT NULL)
     OR (authors_count IS NULL AND :authors_count IS NOT NULL)
     OR (published IS NULL AND :published IS NOT NULL)
     OR (url IS NULL AND :url IS NOT NULL))"""


def _fill_in_values(paper_id: int, entry: Entry) -> dict:
    return {
        "id": paper_id,
        "arxiv_id": entry.arxiv_id,
        "doi": entry.doi,
        "abstract": entry.abstract,
        "authors": entry.authors_json,
        "authors_count": entry.authors_count,
        "published": entry.published,
        "url": entry.url,
    }


def _failed(db, name: str, path: str | None, sha256: str | None, size: int | None, error: str) -> Result:
    log.warning("could not ingest %s: %s", name, error)
    with store.write_transaction(db):
        db.execute(
            "INSERT INTO failures (sha256, name, path, size, error, failed_at) VALUES (?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (sha256) DO UPDATE SET name = excluded.name, path = excluded.path,"
            " error = excluded.error, failed_at = excluded.failed_at",
            [sha256, name, path, size, error, store.now()],
        )
    return Result(name, "failed", error=error)


def files_under(paths: list[Path]) -> list[Path]:
    """The files named, and the files in the folders named (recursively), in a stable order;
    hidden and partial-download files are left out."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(Path(root) / f for f in sorted(files) if not ignored(f))
        else:
            found.append(path)
    return found


_PARTIAL_SUFFIXES = (".crdownload", ".part", ".partial", ".tmp", ".download", ".swp", "~")


def ignored(name: str) -> bool:
    """Names that are never digests: dotfiles and files still being downloaded or written."""
    return name.startswith(".") or name.lower().endswith(_PARTIAL_SUFFIXES)
