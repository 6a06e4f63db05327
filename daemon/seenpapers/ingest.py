"""One file in, one transaction out: read, parse, match every entry, commit.

A digest is the SHA-256 of its bytes: the same bytes twice are skipped as known. A file
that cannot be parsed is recorded in ``failures`` with its reason and nothing else changes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from stat import S_ISREG

import sqlite_utils

from . import formats, matcher, store
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


def ingest_file(db: sqlite_utils.Database, path: Path) -> Result:
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
        return _failed(db, name, printable(str(path)), None, stat.st_size, str(e))
    except OSError as e:
        return _failed(db, name, printable(str(path)), None, None, f"cannot read the file: {e.strerror or e}")
    mtime = datetime.fromtimestamp(stat.st_mtime)
    return ingest_bytes(db, data, name=name, path=printable(str(path.resolve())), mtime=mtime)


def printable(name: str) -> str:
    """A file name as text SQLite can store: undecodable bytes in names become U+FFFD."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def ingest_bytes(db: sqlite_utils.Database, data: bytes, *, name: str, path: str | None, mtime: datetime) -> Result:
    sha256 = hashlib.sha256(data).hexdigest()
    if _known(db, sha256):
        return Result(name, "known")
    try:
        digest = formats.parse(data, name=name, mtime=mtime)
    except ParseError as e:
        return _failed(db, name, path, sha256, len(data), str(e))
    except Exception as e:  # a parser bug must not stop the daemon; keep the trace in the log
        log.exception("parser crashed on %s", name)
        return _failed(db, name, path, sha256, len(data), f"internal error while parsing: {type(e).__name__}: {e}")
    with store.write_transaction(db):
        if _known(db, sha256):  # another process committed it while we parsed
            return Result(name, "known")
        result = _commit(db, digest, sha256=sha256, name=name, path=path, size=len(data))
        db.execute("DELETE FROM failures WHERE sha256 = ?", [sha256])
    return result


def _known(db: sqlite_utils.Database, sha256: str) -> bool:
    return db.execute("SELECT 1 FROM digests WHERE sha256 = ?", [sha256]).fetchone() is not None


def _commit(db, digest: ParsedDigest, *, sha256, name, path, size) -> Result:
    now = store.now()
    digest_id = db.execute(
        "INSERT INTO digests (sha256, name, path, format, date, size, entries, ingested_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [sha256, name, path, digest.format, digest.date.isoformat(), size, len(digest.entries), now],
    ).lastrowid
    result = Result(name, "ingested", entries=len(digest.entries))
    all_hashes = matcher.shingles_of([entry.abstract for entry in digest.entries])  # at once: much faster
    for position, (entry, hashes) in enumerate(zip(digest.entries, all_hashes), 1):
        known = matcher.find_paper(db, entry.arxiv_id, entry.title_key, entry.abstract)
        if known is None:
            paper_id = _insert_paper(db, entry, now)
            result.new_papers += 1
            duplicate = matcher.find_duplicates(
                db, [matcher.Query(entry.title, entry.abstract, entry.arxiv_id, exclude=paper_id, hashes=hashes,
                                   title_key=entry.title_key)]
            )[0]
            if duplicate is not None:
                db.execute(
                    "INSERT OR IGNORE INTO duplicates (paper_id, duplicate_of, similarity, reason, found_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [paper_id, duplicate.paper_id, duplicate.similarity, duplicate.reason, now],
                )
                result.duplicates += 1
            matcher.index_paper(db, paper_id, entry.title, hashes)
            shown_abstract = None
        else:
            paper_id = known.id
            result.seen_again += 1
            _fill_in(db, paper_id, entry)
            if entry.abstract and not known.abstract:
                matcher.index_paper(db, paper_id, known.title, hashes)
            # Keep the abstract as shown only when it differs: an edited abstract is evidence.
            shown_abstract = entry.abstract if entry.abstract and known.abstract and entry.abstract != known.abstract else None
        db.execute(
            "INSERT INTO sightings (paper_id, digest_id, position, title, arxiv_id, authors_count,"
            " published, upvotes, abstract) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [paper_id, digest_id, position, entry.title, entry.arxiv_id, entry.authors_count,
             entry.published, entry.upvotes, shown_abstract],
        )
    return result


def _insert_paper(db, entry: Entry, now: str) -> int:
    return db.execute(
        "INSERT INTO papers (arxiv_id, title, title_key, abstract, authors, authors_count,"
        " published, url, first_ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [entry.arxiv_id, entry.title, entry.title_key, entry.abstract,
         _authors_json(entry), entry.authors_count, entry.published, entry.url, now],
    ).lastrowid


def _authors_json(entry: Entry) -> str | None:
    return json.dumps(entry.authors, ensure_ascii=False) if entry.authors else None


def _fill_in(db, paper_id: int, entry: Entry) -> None:
    """What a later sighting knows and the paper lacks (an id, an abstract, authors)."""
    db.execute(
        """UPDATE papers SET
             arxiv_id = coalesce(arxiv_id, :arxiv_id),
             abstract = CASE WHEN coalesce(abstract, '') = '' THEN :abstract ELSE abstract END,
             authors = coalesce(authors, :authors),
             authors_count = coalesce(authors_count, :authors_count),
             published = coalesce(published, :published),
             url = coalesce(url, :url)
           WHERE id = :id AND (
             (arxiv_id IS NULL AND :arxiv_id IS NOT NULL)
             OR (coalesce(abstract, '') = '' AND :abstract != '')
             OR (authors IS NULL AND :authors IS NOT NULL)
             OR (authors_count IS NULL AND :authors_count IS NOT NULL)
             OR (published IS NULL AND :published IS NOT NULL)
             OR (url IS NULL AND :url IS NOT NULL))""",
        {
            "id": paper_id,
            "arxiv_id": entry.arxiv_id,
            "abstract": entry.abstract,
            "authors": _authors_json(entry),
            "authors_count": entry.authors_count,
            "published": entry.published,
            "url": entry.url,
        },
    )


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
