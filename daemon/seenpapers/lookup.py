"""Answers about papers, for the API and the CLI alike. Nothing here writes.

``lookup`` says for each paper on a page whether it is new, seen, read or a duplicate;
``paper`` gives one paper with its sightings and duplicate links.
"""

from __future__ import annotations

import json

import sqlite_utils

from . import matcher, text
from .entry import MAX_ABSTRACT

RECENT_DIGESTS = 5


def lookup(db: sqlite_utils.Database, items: list[dict]) -> list[dict]:
    """One answer per item, in input order (see the HTTP contract in DESIGN.md)."""
    keyed = [_keys(item) for item in items]
    # As sent: the matcher's words are the same as of the unwrapped text (text.words).
    abstracts = [(item.get("abstract") or "")[:MAX_ABSTRACT] for item in items]
    dois = [_doi(item) for item in items]
    found = matcher.find_papers(db, [(arxiv_id, doi, key, abstract)
                                     for (_, arxiv_id, key), doi, abstract in zip(keyed, dois, abstracts)])
    paper_ids = sorted({k.id for k in found if k})
    known = _known_papers(db, paper_ids)
    unknown = [i for i, (hit, (_, _, key)) in enumerate(zip(found, keyed)) if hit is None and key]
    duplicates = dict(zip(unknown, matcher.find_duplicates(db, [
        matcher.Query(keyed[i][0], abstracts[i], keyed[i][1], title_key=keyed[i][2]) for i in unknown
    ])))
    results = []
    for i, hit in enumerate(found):
        if hit is not None:
            results.append(known[hit.id])
            continue
        result = _empty()
        duplicate = duplicates.get(i)
        if duplicate is not None:
            result["status"] = "duplicate"
            result["duplicate_of"] = _duplicate_json(duplicate.paper_id, duplicate.title, duplicate.similarity,
                                                     duplicate.reason, duplicate.arxiv_id)
        results.append(result)
    for i, index in enumerate(_same_as(keyed, found)):
        results[i] = dict(results[i], same_as_index=index)
    return results


def _keys(item: dict) -> tuple[str, str | None, str]:
    title = text.clean(item.get("title"))
    # arXiv's own DOI (10.48550/arXiv.…) is an arXiv id.
    arxiv_id = (text.arxiv_id(item.get("arxiv_id")) or text.arxiv_id(text.doi_arxiv_id(text.doi(item.get("doi"))))
                or text.arxiv_id(item.get("url")))
    return title, arxiv_id, text.title_key(title)


def _doi(item: dict) -> str | None:
    doi = text.doi(item.get("doi")) or text.doi(item.get("url"))  # a doi.org or bioRxiv address
    return None if text.doi_arxiv_id(doi) else doi


def _same_as(keyed, found) -> list[int | None]:
    """For each item, the first earlier item of the request that is the same work."""
    by_paper: dict[int, int] = {}
    by_id: dict[str, int] = {}
    by_key: dict[str, list[tuple[int, str | None]]] = {}
    answer: list[int | None] = []
    for i, ((_, arxiv_id, key), hit) in enumerate(zip(keyed, found)):
        candidates = []
        if hit is not None and hit.id in by_paper:
            candidates.append(by_paper[hit.id])
        if arxiv_id and arxiv_id in by_id:
            candidates.append(by_id[arxiv_id])
        for j, other_id in by_key.get(key, ()):
            if not (arxiv_id and other_id and arxiv_id != other_id):
                candidates.append(j)
                break
        answer.append(min(candidates) if candidates else None)
        if hit is not None:
            by_paper.setdefault(hit.id, i)
        if arxiv_id:
            by_id.setdefault(arxiv_id, i)
        if key:
            by_key.setdefault(key, []).append((i, arxiv_id))
    return answer


def _empty() -> dict:
    return {
        "status": "new",
        "paper_id": None,
        "title": None,
        "first_seen": None,
        "last_seen": None,
        "times_seen": 0,
        "read_at": None,
        "digests": [],
        "duplicate_of": None,
        "same_as_index": None,
    }


def _known_papers(db: sqlite_utils.Database, ids: list[int]) -> dict[int, dict]:
    """The answer for each known paper id, in a handful of queries whatever the count."""
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    answers = {}
    for pid, title in db.execute(f"SELECT id, title FROM papers WHERE id IN ({marks})", ids):
        answers[pid] = dict(_empty(), status="seen", paper_id=pid, title=title)
    for pid, times, first, last in db.execute(
        "SELECT s.paper_id, count(*), min(d.date), max(d.date) FROM sightings s"
        f" JOIN digests d ON d.id = s.digest_id WHERE s.paper_id IN ({marks}) GROUP BY s.paper_id",
        ids,
    ):
        answers[pid].update(times_seen=times, first_seen=first, last_seen=last)
    for pid, digest_id, name, day in db.execute(
        "SELECT DISTINCT s.paper_id, d.id, d.name, d.date FROM sightings s"
        f" JOIN digests d ON d.id = s.digest_id WHERE s.paper_id IN ({marks})"
        " ORDER BY d.date DESC, d.id DESC",
        ids,
    ):
        recent = answers[pid]["digests"]
        if len(recent) < RECENT_DIGESTS:
            recent.append({"id": digest_id, "name": name, "date": day})
    for pid, read_at in db.execute(f"SELECT paper_id, read_at FROM reads WHERE paper_id IN ({marks})", ids):
        answers[pid].update(status="read", read_at=read_at)
    for pid, other, title, similarity, reason, arxiv_id in db.execute(
        "SELECT x.paper_id, x.duplicate_of, p.title, x.similarity, x.reason, p.arxiv_id FROM duplicates x"
        f" JOIN papers p ON p.id = x.duplicate_of WHERE x.paper_id IN ({marks}) ORDER BY x.similarity DESC",
        ids,
    ):
        if answers[pid]["duplicate_of"] is None:
            answers[pid]["duplicate_of"] = _duplicate_json(other, title, similarity, reason, arxiv_id)
    return answers


def _duplicate_json(paper_id: int, title: str, similarity: float, reason: str, arxiv_id: str | None) -> dict:
    return {"paper_id": paper_id, "title": title, "similarity": round(similarity, 4), "reason": reason,
            "arxiv_id": arxiv_id}


def paper(db: sqlite_utils.Database, paper_id: int) -> dict | None:
    """One paper with its sightings (newest first) and duplicate links, or None."""
    rows = list(db.query("SELECT * FROM papers WHERE id = ?", [paper_id]))
    if not rows:
        return None
    result = rows[0]
    result.pop("title_key", None)
    result["authors"] = json.loads(result["authors"]) if result["authors"] else []
    read = db.execute("SELECT read_at FROM reads WHERE paper_id = ?", [paper_id]).fetchone()
    result["read_at"] = read[0] if read else None
    result["sightings"] = list(
        db.query(
            "SELECT s.digest_id, d.name AS digest_name, d.date AS digest_date, s.position, s.title,"
            " s.arxiv_id, s.authors_count, s.published, s.upvotes, s.abstract"
            " FROM sightings s JOIN digests d ON d.id = s.digest_id WHERE s.paper_id = ?"
            " ORDER BY d.date DESC, d.id DESC, s.position",
            [paper_id],
        )
    )
    result["duplicates"] = list(
        db.query(
            "SELECT x.duplicate_of AS paper_id, p.title, x.similarity, x.reason, 'duplicate_of' AS direction"
            " FROM duplicates x JOIN papers p ON p.id = x.duplicate_of WHERE x.paper_id = :id"
            " UNION ALL SELECT x.paper_id, p.title, x.similarity, x.reason, 'duplicated_by'"
            " FROM duplicates x JOIN papers p ON p.id = x.paper_id WHERE x.duplicate_of = :id",
            {"id": paper_id},
        )
    )
    result["status"] = "read" if result["read_at"] else "seen"
    return result
