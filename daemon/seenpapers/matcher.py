"""Which known paper an entry is.

Identity: entries are the same paper when their arXiv ids match (versions ignored) or,
when one of them has no id, their title keys match (see ``text.title_key``). Two different
ids are two papers even under one title: that is a duplicate, not a sighting.

``find_duplicate`` is the seam for near-duplicates (retitled versions, re-posted ids,
edited abstracts); until the matcher lands it finds none, so nothing is ever hidden.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils


@dataclass
class Known:
    id: int
    abstract: str


@dataclass
class Duplicate:
    paper_id: int
    title: str
    similarity: float
    reason: str


def find_paper(db: sqlite_utils.Database, arxiv_id: str | None, title_key: str) -> Known | None:
    """The known paper this (id, title key) is, or None."""
    if arxiv_id:
        row = db.execute("SELECT id, abstract FROM papers WHERE arxiv_id = ?", [arxiv_id]).fetchone()
        if row is None and title_key:
            # The same title seen earlier without an id (a copied page) is this paper.
            row = db.execute(
                "SELECT id, abstract FROM papers WHERE title_key = ? AND arxiv_id IS NULL"
                " ORDER BY id LIMIT 1",
                [title_key],
            ).fetchone()
    elif title_key:
        row = db.execute(
            "SELECT id, abstract FROM papers WHERE title_key = ? ORDER BY id LIMIT 1", [title_key]
        ).fetchone()
    else:
        row = None
    return Known(row[0], row[1] or "") if row else None


def find_duplicate(db: sqlite_utils.Database, title: str, abstract: str, exclude: int | None = None) -> Duplicate | None:
    """The known paper this new one is another record of, or None (near-duplicates: to come)."""
    return None
