"""Which known paper an entry is, or which known paper it is another record of.

Identity (``find_paper``): entries are the same paper when their arXiv ids match (versions
ignored) or, when one of them has no id, their title keys match (see ``text.title_key``).
Two different ids are two papers even under one title: that is a duplicate, not a sighting.

Near-duplicates (``find_duplicates``): a retitled version, the same work under another id,
an edited abstract. Three steps, none of which compares against every paper:
1. candidates: papers under the same title key, and papers that share rare word 4-grams of
   the abstract. Each paper stores a few of its 4-grams (``match_keys``, filled at ingest,
   so nothing is rebuilt at start) and a fingerprint of all of them (``match_shingles``);
   a query looks up the same few of its own, for a whole request in one statement.
2. features of each (entry, candidate) pair: title and abstract overlap, containment for a
   truncated abstract, numbers in the titles, the two ids (``pair_features``).
3. a decision: fixed rules first (``ruled_out``: "X 2" is not X), then a logistic model
   trained by ``scripts/train-dedup`` on a labelled set of real papers and shipped as
   ``dedup_model.json``; a link is made only above its threshold, because a wrong
   "duplicate" hides a new paper.
"""

from __future__ import annotations

import json
import math
import zlib
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import sqlite_utils

from . import text

SHINGLE = 4  # words per abstract n-gram
SAMPLE = 4  # keep the n-grams whose hash is 0 mod SAMPLE: the same ones in every copy
STORED_FIRST = 6  # stored per paper: the first sampled n-grams (what a truncated copy keeps) ...
STORED_LOWEST = 4  # ... and the lowest-hashed ones (what survives a dropped sentence)
COMMON = 24  # an n-gram stored for more papers than this says nothing ("in this paper we")
SHORT_PROBE = 8  # a query with fewer probes than this has a short (truncated) abstract
CANDIDATES = 3  # best-voted abstract candidates per entry that are compared in full
MIN_TITLE_ONLY = 24  # a title key shorter than this is too generic to link on by itself

@dataclass
class Known:
    id: int
    abstract: str
    title: str


@dataclass
class Duplicate:
    paper_id: int
    title: str
    similarity: float
    reason: str


@dataclass
class Query:
    """An entry looking for the known paper it duplicates."""

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    exclude: int | None = None  # its own paper id, at ingest
    hashes: np.ndarray | None = None  # shingles(abstract), when the caller has them already
    title_key: str | None = None  # text.title_key(title), likewise


def find_paper(db: sqlite_utils.Database, arxiv_id: str | None, title_key: str, abstract: str = "") -> Known | None:
    """The known paper this (id, title key) is, or None. When several known papers share
    the title (one title re-posted under two ids), the abstract says which one it is."""
    if arxiv_id:
        row = db.execute("SELECT id, abstract, title FROM papers WHERE arxiv_id = ?", [arxiv_id]).fetchone()
        if row is None and title_key:
            # The same title seen earlier without an id (a copied page) is this paper.
            row = db.execute(
                "SELECT id, abstract, title FROM papers WHERE title_key = ? AND arxiv_id IS NULL"
                " ORDER BY id LIMIT 1",
                [title_key],
            ).fetchone()
    elif title_key:
        rows = db.execute(
            "SELECT id, abstract, title FROM papers WHERE title_key = ? ORDER BY id LIMIT 5", [title_key]
        ).fetchall()
        row = rows[0] if rows else None
        if len(rows) > 1 and abstract:
            # Compare on the stored fingerprints (match_shingles), not by re-hashing abstracts.
            mine = Side.of("", abstract, None).shingles
            stored = dict(db.execute(
                "SELECT paper_id, shingles FROM match_shingles WHERE paper_id IN (SELECT value FROM json_each(?))",
                [json.dumps([r[0] for r in rows])],
            ).fetchall())
            row = max(rows, key=lambda r: len(mine.intersection(_unpack(stored.get(r[0])))))
    else:
        row = None
    return Known(row[0], row[1] or "", row[2]) if row else None


# --- abstract n-grams ---------------------------------------------------------------------


_word_hashes: dict[str, int] = {}  # words repeat: hash each once (cleared when it grows)
_MIX = [np.uint64(m) for m in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)]


def shingles(abstract: str) -> np.ndarray:
    """Hashes of the abstract's word 4-grams, in text order (numbers count as one word).
    Stable across processes and machines: match_keys stores some of them."""
    words = text.words(abstract)
    if len(words) < SHINGLE:
        return np.zeros(0, dtype=np.uint64)
    cache = _word_hashes
    if len(cache) > 1 << 19:
        cache.clear()
    hashes = list(map(cache.get, words))
    if None in hashes:
        for i, w in enumerate(words):
            if hashes[i] is None:
                hashes[i] = cache[w] = zlib.crc32(w.encode())
    word = np.array(hashes, dtype=np.uint64)
    n = len(word) - SHINGLE + 1
    h = word[:n] * _MIX[0] + word[1:n + 1] * _MIX[1] + word[2:n + 2] * _MIX[2] + word[3:n + 3] * _MIX[3]
    return (h ^ (h >> np.uint64(31))) >> np.uint64(2)  # 62 bits: a SQLite integer


def sampled(hashes: np.ndarray) -> list[int]:
    """The n-grams that are looked up and stored: the same ones in every copy of a text."""
    return hashes[hashes % np.uint64(SAMPLE) == 0].tolist()


def stored_keys(hashes: np.ndarray) -> list[int]:
    """The few n-grams stored for a paper (match_keys), and looked up for a query: enough
    that a truncated, re-wrapped or edited copy shares some of them (its first ones are
    the original's, unless a sentence was dropped at the start, when the lowest-hashed ones
    still are), few enough to keep the index small."""
    keys = sampled(hashes)
    chosen = dict.fromkeys(keys[:STORED_FIRST])
    chosen.update(dict.fromkeys(sorted(keys)[:STORED_LOWEST]))
    return list(chosen)


def fingerprint(hashes: np.ndarray) -> bytes:
    """All of an abstract's n-grams, 32 bits each: what a candidate is compared on, kept
    (match_shingles) so a lookup never re-reads and re-hashes a known abstract."""
    return (hashes & _LOW32).astype("<u4").tobytes()


def index_paper(db: sqlite_utils.Database, paper_id: int, title: str, abstract: str | np.ndarray) -> None:
    """Store what finds and compares a paper: its keys, its fingerprint (from its abstract,
    or the shingles already made of it) and its title's words. No abstract, nothing stored."""
    hashes = shingles(abstract) if isinstance(abstract, str) else abstract
    if not len(hashes):
        return
    db.conn.executemany(
        "INSERT OR IGNORE INTO match_keys (key, paper_id) VALUES (?, ?)",
        [(key, paper_id) for key in stored_keys(hashes)],
    )
    db.execute(
        "INSERT OR REPLACE INTO match_shingles (paper_id, shingles, title_parts) VALUES (?, ?, ?)",
        [paper_id, fingerprint(hashes), _pack_parts(text.title_parts(title))],
    )


def _unpack(fingerprint: bytes | None) -> set[int]:
    return set(np.frombuffer(fingerprint, dtype="<u4").tolist()) if fingerprint else set()


def _pack_parts(parts: list[list[str]]) -> str:
    return "|".join(" ".join(part) for part in parts)  # words are letters and digits only


_LOW32 = np.uint64(0xFFFFFFFF)


# --- candidates ---------------------------------------------------------------------------


def _abstract_candidates(db, probes: list[list[int]], excluded: list[int | None]) -> list[list[int]]:
    """For each entry, the papers sharing most of its sampled n-grams (common ones skipped)."""
    keys = sorted({k for keys in probes for k in keys})
    if not keys:
        return [[] for _ in probes]
    owners: dict[int, list[int]] = {}
    rows = db.execute(
        "SELECT q.value, (SELECT group_concat(paper_id) FROM"
        " (SELECT paper_id FROM match_keys WHERE key = q.value LIMIT ?))"
        " FROM json_each(?) q",
        [COMMON + 1, json.dumps(keys)],
    )
    for key, ids in rows:
        if ids:
            found = [int(i) for i in ids.split(",")]
            if len(found) <= COMMON:
                owners[key] = found
    answer = []
    for keys, exclude in zip(probes, excluded):
        votes: dict[int, int] = {}
        for key in set(keys):
            for pid in owners.get(key, ()):
                if pid != exclude:
                    votes[pid] = votes.get(pid, 0) + 1
        # One shared 4-gram is chance for a whole abstract (a copy shares several of its
        # keys), but may be all a short truncated copy has.
        least = 1 if len(keys) < SHORT_PROBE else 2
        ranked = sorted((pid for pid in votes if votes[pid] >= least), key=lambda pid: (-votes[pid], pid))
        answer.append(ranked[:CANDIDATES])
    return answer


# --- pair features and the decision -------------------------------------------------------


@dataclass
class Side:
    """What the features need of one side of a pair, computed once."""

    title_key: str
    title_words: set[str]
    numbered_parts: list[tuple[list[str], list[str]]]  # (words, numbers) of title parts with numbers
    shingles: set[int]
    arxiv_id: str | None

    @classmethod
    def of(cls, title: str, abstract: str, arxiv_id: str | None, hashes: np.ndarray | None = None) -> "Side":
        """A query's side, from its text (or the shingles already made of its abstract)."""
        hashes = shingles(abstract) if hashes is None else hashes
        side = cls.stored(title, None, arxiv_id)
        side.shingles = set((hashes & _LOW32).tolist())  # what fingerprint() stores, unpacked
        return side

    @classmethod
    def stored(cls, title: str, fingerprint: bytes | None, arxiv_id: str | None, packed: str | None = None) -> "Side":
        """A known paper's side, from its title (or its words as stored) and fingerprint."""
        parts = [p.split() for p in packed.split("|")] if packed else text.title_parts(title)
        words = [w for part in parts for w in part]
        return cls(
            title_key="".join(words),
            title_words=set(words),
            numbered_parts=[(part, numbers) for part in parts if (numbers := _numbers(part))],
            shingles=_unpack(fingerprint),
            arxiv_id=arxiv_id,
        )


FEATURES = [
    "title_same", "title_jaccard", "title_containment", "title_numbers_differ", "title_long",
    "abstract_both", "abstract_containment", "abstract_jaccard", "abstract_length_ratio",
    "abstract_short", "ids_differ",
]


def _numbers(words: list[str]) -> list[str]:
    # What tells "X 2", "X 2020", "X II", "X v2" and "X++" from X, in order ("3.0" is 3, 0).
    return [w for w in words if w.isdigit() or w in _SERIES_WORDS or (w[0] == "v" and w[1:].isdigit())]


_SERIES_WORDS = {"ii", "iii", "iv", "vi", "vii", "viii", "plus", "pro", "max", "mini", "lite", "next", "version"}


def _series_numbers(side: Side, other: Side) -> list[str]:
    """The numbers of a title that speak of the work the other title names. A part the
    other title lacks entirely ("SAMSA 2.0: ..." retitled "...") is a dropped name, not a
    version -- unless it is nothing but a version ("...: Version 2")."""
    found = []
    for part, numbers in side.numbered_parts:
        if other.title_words.intersection(part) or len(numbers) == len(part):
            found.extend(numbers)
    return found


def pair_features(a: Side, b: Side) -> dict[str, float]:
    """The evidence that a and b are one work, each as a number (see FEATURES)."""
    tw_a, tw_b = a.title_words, b.title_words
    t_shared = len(tw_a & tw_b)
    s_a, s_b = a.shingles, b.shingles
    both = bool(s_a) and bool(s_b)
    s_shared = len(s_a & s_b) if both else 0
    return {
        "title_same": float(a.title_key == b.title_key and bool(a.title_key)),
        "title_jaccard": t_shared / max(1, len(tw_a) + len(tw_b) - t_shared),
        "title_containment": t_shared / max(1, min(len(tw_a), len(tw_b))),
        "title_numbers_differ": float(bool(a.numbered_parts or b.numbered_parts)
                                      and _series_numbers(a, b) != _series_numbers(b, a)),
        "title_long": min(len(a.title_key), len(b.title_key)) / 60,
        "abstract_both": float(both),
        "abstract_containment": s_shared / min(len(s_a), len(s_b)) if both else 0.0,
        "abstract_jaccard": s_shared / (len(s_a) + len(s_b) - s_shared) if both else 0.0,
        "abstract_length_ratio": min(len(s_a), len(s_b)) / max(len(s_a), len(s_b)) if both else 0.0,
        # A truncated copy's few n-grams are less evidence than a whole abstract's.
        "abstract_short": float(min(len(s_a), len(s_b)) < 40) if both else 0.0,
        "ids_differ": float(bool(a.arxiv_id and b.arxiv_id and a.arxiv_id != b.arxiv_id)),
    }


@cache
def model() -> dict:
    """The shipped decision: logistic weights per feature and the threshold to link at."""
    return json.loads(resources.files(__package__).joinpath("dedup_model.json").read_text())


def score(features: dict[str, float]) -> float:
    m = model()
    z = m["intercept"] + sum(w * features[name] for name, w in zip(m["features"], m["weights"]))
    return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))


def ruled_out(features: dict[str, float]) -> bool:
    """Pairs that are never one work, whatever the model says."""
    # "X 2020" after "X 2019", "X 2" after X: the next paper of a series, even when it
    # reuses its abstract. (The same arXiv id never gets here: that is one paper.)
    if features["title_numbers_differ"]:
        return True
    if not features["title_same"]:
        # Another title: the abstracts must mostly agree ("Progressive Limb-Aware Virtual
        # Try-On" and "Limb-Aware Virtual Try-On Network with ..." share a title, not a
        # work), and the titles must share a word (a short abstract quoted inside an
        # unrelated one is not its paper).
        return features["abstract_containment"] < 0.5 or features["title_jaccard"] == 0
    # The same title under another id: a short title ("Introduction") is no evidence.
    return features["abstract_containment"] < 0.5 and features["title_long"] * 60 < MIN_TITLE_ONLY


def is_duplicate(features: dict[str, float], probability: float) -> bool:
    return probability >= model()["threshold"] and not ruled_out(features)


def reason(f: dict[str, float]) -> str:
    """The evidence in words, for the badge's hover text and the duplicates table."""
    parts = []
    if f["title_same"]:
        parts.append("same title")
    else:
        parts.append(f"title {f['title_jaccard']:.2f}")
    if f["abstract_both"]:
        if f["abstract_jaccard"] >= 0.9:
            parts.append("same abstract")
        elif f["abstract_containment"] - f["abstract_jaccard"] > 0.2:
            parts.append(f"abstract contained {f['abstract_containment']:.2f}")
        else:
            parts.append(f"abstract {f['abstract_jaccard']:.2f}")
    if f["ids_differ"]:
        parts.append("another arXiv id")
    return " + ".join(parts)


# --- the entry points ---------------------------------------------------------------------


def candidate_pairs(db: sqlite_utils.Database, queries: list[Query]) -> list[tuple[Side | None, list[tuple[int, str, Side]]]]:
    """For each query, its own Side (None when it has no candidates) and its candidates as
    (paper id, title, Side)."""
    hashes = [shingles(q.abstract) if q.hashes is None else q.hashes for q in queries]
    abstract_candidates = _abstract_candidates(db, [stored_keys(h) for h in hashes], [q.exclude for q in queries])
    title_keys = [text.title_key(q.title) if q.title_key is None else q.title_key for q in queries]
    same_title: dict[str, list[int]] = {}
    for pid, key in db.execute(
        "SELECT id, title_key FROM papers WHERE title_key IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps([k for k in title_keys if k])],
    ):
        same_title.setdefault(key, []).append(pid)
    candidates = []
    for q, key, by_abstract in zip(queries, title_keys, abstract_candidates):
        by_title = [pid for pid in same_title.get(key, ()) if pid != q.exclude][:CANDIDATES]
        candidates.append(list(dict.fromkeys(by_title + by_abstract)))
    wanted = sorted({pid for ids in candidates for pid in ids})
    papers = {}
    if wanted:
        for pid, title, stored, packed, arxiv_id in db.execute(
            "SELECT p.id, p.title, s.shingles, s.title_parts, p.arxiv_id FROM papers p"
            " LEFT JOIN match_shingles s ON s.paper_id = p.id WHERE p.id IN (SELECT value FROM json_each(?))",
            [json.dumps(wanted)],
        ):
            papers[pid] = (pid, title, Side.stored(title, stored, arxiv_id, packed))
    return [
        (Side.of(q.title, q.abstract, q.arxiv_id, hashes=h) if ids else None, [papers[pid] for pid in ids])
        for q, h, ids in zip(queries, hashes, candidates)
    ]


def find_duplicates(db: sqlite_utils.Database, queries: list[Query]) -> list[Duplicate | None]:
    """For each query, the known paper it is another record of, or None."""
    answers: list[Duplicate | None] = []
    for side, candidates in candidate_pairs(db, queries):
        best = None
        for pid, title, other in candidates:
            features = pair_features(side, other)
            p = score(features)
            if is_duplicate(features, p) and (best is None or p > best.similarity):
                best = Duplicate(pid, title, p, reason(features))
        answers.append(best)
    return answers
