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
from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np
import sqlite_utils

from . import text

SHINGLE = 4  # words per abstract n-gram
SAMPLE = 4  # keep the n-grams whose hash is 0 mod SAMPLE: the same ones in every copy
STORED_FIRST = 4  # stored per paper: the first sampled n-grams (what a truncated copy keeps) ...
STORED_LOWEST = 3  # ... and the lowest-hashed ones (what survives a dropped sentence)
COMMON = 24  # an n-gram stored for more papers than this says nothing ("in this paper we")
CANDIDATES = 2  # best-voted abstract candidates per entry that are compared in full
MIN_CONTAINMENT = 0.5  # under another title, the share of the shorter abstract both must have
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
    arxiv_id: str | None = None


@dataclass
class Abstract:
    """What the matcher makes of an abstract, once: the keys it is stored and looked up
    under (``stored_keys``) and its fingerprint: the low 32 bits of all its n-grams'
    hashes, sorted and unique, as ``match_shingles`` stores them."""

    keys: list[int]
    fingerprint: np.ndarray  # uint32


@dataclass
class Query:
    """An entry looking for the known paper it duplicates."""

    title: str
    abstract: str = ""
    arxiv_id: str | None = None
    before: int | None = None  # at ingest, its own paper id: only older papers are candidates
    made: Abstract | None = None  # abstracts_of([abstract]), when the caller has it already
    title_key: str | None = None  # text.title_key(title), likewise


def find_paper(db: sqlite_utils.Database, arxiv_id: str | None, title_key: str, abstract: str = "",
               doi: str | None = None) -> Known | None:
    """The known paper this (id, DOI, title key) is, or None. When several known papers share
    the title (one title re-posted under two ids), the abstract says which one it is."""
    return find_papers(db, [(arxiv_id, doi, title_key, abstract)])[0]


def find_papers(db: sqlite_utils.Database, entries: list[tuple[str | None, str | None, str, str]]) -> list[Known | None]:
    """find_paper for many (arXiv id, DOI, title key, abstract) at once, in four statements.

    An arXiv id is the paper; else a DOI is (a journal's, a preprint server's); else the
    title. A DOI does not link an entry to a paper with another arXiv id."""
    by_id = {row[3]: row for row in db.execute(
        "SELECT id, title, title_key, arxiv_id FROM papers WHERE arxiv_id IN (SELECT value FROM json_each(?))",
        [json.dumps([arxiv_id for arxiv_id, _, _, _ in entries if arxiv_id])],
    )}
    dois = [doi for _, doi, _, _ in entries if doi]
    by_doi = {row[4]: row[:4] for row in db.execute(
        "SELECT id, title, title_key, arxiv_id, doi FROM papers WHERE doi IN (SELECT value FROM json_each(?))"
        " ORDER BY id DESC",  # the first paper of a DOI wins
        [json.dumps(dois)],
    )} if dois else {}
    # Per title, its first 5 papers and its first without an id (a copied page's).
    by_key: dict[str, list[tuple]] = {}
    for row in db.execute(
        "SELECT id, title, title_key, arxiv_id FROM (SELECT id, title, title_key, arxiv_id,"
        " row_number() OVER (PARTITION BY title_key ORDER BY id) AS n,"
        " row_number() OVER (PARTITION BY title_key, arxiv_id IS NULL ORDER BY id) AS m"
        " FROM papers WHERE title_key IN (SELECT value FROM json_each(?)))"
        " WHERE n <= 5 OR (arxiv_id IS NULL AND m = 1) ORDER BY id",
        [json.dumps([key for _, _, key, _ in entries if key])],
    ):
        by_key.setdefault(row[2], []).append(row)
    found = []
    for arxiv_id, doi, key, abstract in entries:
        same_doi = by_doi.get(doi) if doi else None
        if same_doi is not None and arxiv_id and same_doi[3] not in (None, arxiv_id):
            same_doi = None
        if arxiv_id:
            # The same title seen earlier without an id (a copied page) is this paper.
            row = (by_id.get(arxiv_id) or same_doi
                   or next((r for r in by_key.get(key, ()) if r[3] is None), None))
        elif same_doi is not None:
            row = same_doi
        else:
            rows = by_key.get(key, [])[:5]
            row = rows[0] if rows else None
            if len(rows) > 1 and abstract:
                row = _closest(db, rows, abstract)
        found.append(row)
    abstracts = dict(db.execute(
        "SELECT id, abstract FROM papers WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps([row[0] for row in found if row])],
    ).fetchall()) if any(found) else {}
    return [Known(row[0], abstracts.get(row[0]) or "", row[1]) if row else None for row in found]


def _closest(db: sqlite_utils.Database, rows: list[tuple], abstract: str) -> tuple:
    """Of papers under one title, the one whose stored fingerprint shares most of abstract."""
    mine = Side.of("", abstract, None).shingles
    stored = dict(db.execute(
        "SELECT paper_id, shingles FROM match_shingles WHERE paper_id IN (SELECT value FROM json_each(?))",
        [json.dumps([r[0] for r in rows])],
    ).fetchall())
    return max(rows, key=lambda r: len(mine.intersection(_unpack(stored.get(r[0])))))


# --- abstract n-grams ---------------------------------------------------------------------


def shingles(abstract: str) -> np.ndarray:
    """Hashes of the abstract's word 4-grams, in text order (numbers count as one word).
    Stable across processes and machines: match_keys stores some of them."""
    return shingles_of([abstract])[0]


def shingles_of(abstracts: list[str]) -> list[np.ndarray]:
    """shingles() of many abstracts, hashed together in a few numpy passes: splitting 50
    abstracts into Python strings and hashing them one by one took most of a lookup."""
    data = [text.word_bytes(a) for a in abstracts]
    answer: list[np.ndarray] = []
    block: list[bytes] = []
    size = 0
    for one in data:
        if size + len(one) > _BLOCK:
            answer.extend(_shingles_of_block(block))
            block, size = [], 0
        block.append(one)
        size += len(one) + 1
    return answer + _shingles_of_block(block) if block else answer


def _shingles_of_block(data: list[bytes]) -> list[np.ndarray]:
    joined = b" ".join(data)  # a space between two texts: no word spans them
    words, starts = _word_hashes(joined)
    offsets = np.cumsum([0] + [len(one) + 1 for one in data[:-1]])
    first = np.searchsorted(starts, offsets).tolist() + [len(words)]  # each text's first word
    n = max(0, len(words) - SHINGLE + 1)
    w = words
    h = w[:n] * _MIX[0] + w[1:n + 1] * _MIX[1] + w[2:n + 2] * _MIX[2] + w[3:n + 3] * _MIX[3]
    h = (h ^ (h >> np.uint64(31))) >> np.uint64(2)  # 62 bits: a SQLite integer
    # Each text's 4-grams; those that run over into the next text are never sliced out.
    return [h[a:b - SHINGLE + 1] if b - a >= SHINGLE else _NONE for a, b in zip(first, first[1:])]


def _word_hashes(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A 64-bit hash of each space-separated word of data, and where each word starts:
    a polynomial hash over the bytes, computed for all words at once from prefix sums."""
    b = np.frombuffer(data, dtype=np.uint8)
    power, inverse = _powers()
    prefix = np.zeros(len(b) + 1, dtype=np.uint64)
    np.cumsum(b * power[:len(b)], out=prefix[1:])
    edges = np.flatnonzero(np.diff(np.concatenate(([False], b != 32, [False]))))
    starts, ends = edges[0::2], edges[1::2]
    # sum(b[i] * P**(i - start)) for the word: its bytes, wherever it stands (P is odd,
    # so it has an inverse mod 2**64). Then mixed, since the low bits of a sum are weak.
    h = (prefix[ends] - prefix[starts]) * inverse[starts]
    h ^= h >> np.uint64(33)
    h *= _MIX[0]
    h ^= h >> np.uint64(29)
    return h, starts


_P = 0x100000001B3
_BLOCK = 1 << 18  # bytes hashed per pass (an abstract is at most 50,000 characters)


@cache
def _powers() -> tuple[np.ndarray, np.ndarray]:
    """P**i and P**-i mod 2**64 for every byte position of a block (4 MB in all)."""
    power = np.full(_BLOCK + 1, _P, dtype=np.uint64)
    inverse = np.full(_BLOCK + 1, pow(_P, -1, 1 << 64), dtype=np.uint64)
    power[0] = inverse[0] = 1
    return np.cumprod(power), np.cumprod(inverse)


_MIX = [np.uint64(m) for m in (0x9E3779B185EBCA87, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5)]
_NONE = np.zeros(0, dtype=np.uint64)


def stored_keys(hashes: np.ndarray) -> list[int]:
    """The few n-grams stored for a paper (match_keys), and looked up for a query: enough
    that a truncated, re-wrapped or edited copy shares some of them (its first ones are
    the original's, unless a sentence was dropped at the start, when the lowest-hashed ones
    still are), few enough to keep the index small."""
    return stored_keys_of([hashes])[0]


def stored_keys_of(many: list[np.ndarray]) -> list[list[int]]:
    """stored_keys() of many abstracts' n-grams, with one numpy pass over all of them."""
    if not many:
        return []
    every = np.concatenate(many)
    # Sampled: the n-grams whose hash is 0 mod SAMPLE, the same ones in every copy of a text.
    where = np.flatnonzero(every % np.uint64(SAMPLE) == 0)
    keys = every[where].tolist()
    bounds = np.searchsorted(where, np.cumsum([0] + [len(h) for h in many])).tolist()
    answer = []
    for a, b in zip(bounds, bounds[1:]):
        chosen = dict.fromkeys(keys[a:min(b, a + STORED_FIRST)])
        chosen.update(dict.fromkeys(sorted(keys[a:b])[:STORED_LOWEST]))
        answer.append(list(chosen))
    return answer


def abstracts_of(texts: list[str]) -> list[Abstract]:
    """Abstract() of many abstracts: hashed together, keys chosen in one pass, and every
    fingerprint sorted in one numpy sort (tagged by its abstract in the high bits)."""
    hashes = shingles_of(texts)
    if not hashes:
        return []
    tags = np.repeat(np.arange(len(hashes), dtype=np.uint64) << np.uint64(32), [len(h) for h in hashes])
    every = _sorted_unique((np.concatenate(hashes) & _LOW32) | tags)
    bounds = np.searchsorted(every, np.arange(len(hashes) + 1, dtype=np.uint64) << np.uint64(32)).tolist()
    low = every.astype(np.uint32)
    return [Abstract(keys, low[a:b]) for keys, a, b in zip(stored_keys_of(hashes), bounds, bounds[1:])]


def index_papers(db: sqlite_utils.Database, papers: list[tuple[int, list[list[str]], Abstract]]) -> None:
    """Store what finds and compares each paper (id, text.title_parts of its title, what
    abstracts_of made of its abstract): its keys, its fingerprint and its title's words.
    No abstract, nothing stored."""
    keys, rows = index_rows(papers)
    db.conn.executemany("INSERT OR IGNORE INTO match_keys (key, paper_id) VALUES (?, ?)", keys)
    db.conn.executemany("INSERT OR REPLACE INTO match_shingles (paper_id, shingles, title_parts) VALUES (?, ?, ?)", rows)


def index_rows(papers: list[tuple[int, list[list[str]], Abstract]]) -> tuple[list[tuple], list[tuple]]:
    """What index_papers stores: the match_keys rows and the match_shingles rows."""
    papers = [paper for paper in papers if len(paper[2].fingerprint)]
    keys = [(key, pid) for pid, _, made in papers for key in made.keys]
    return keys, [(pid, made.fingerprint.astype("<u4").tobytes(), _pack_parts(parts)) for pid, parts, made in papers]


def _unpack(fingerprint: bytes | None) -> set[int]:
    return set(np.frombuffer(fingerprint, dtype="<u4").tolist()) if fingerprint else set()


def _pack_parts(parts: list[list[str]]) -> str:
    return "|".join(" ".join(part) for part in parts)  # words are letters and digits only


_LOW32 = np.uint64(0xFFFFFFFF)


def warm_up_reads(db: sqlite_utils.Database, budget_mb: int, chunk: int = 1024) -> list[tuple[str, list]]:
    """Statements that read what lookups probe into this connection's page cache, a
    thousand papers' worth each, so a caller can run them between lookups: match_keys
    (every lookup reads hundreds of its pages) when it fits in budget_mb, and then
    match_shingles (its candidates' fingerprints) when both do. What does not fit would
    only push the rest out."""
    top = db.execute("SELECT max(paper_id) FROM match_shingles").fetchone()[0]
    if not top:
        return []
    keys_mb = top * (STORED_FIRST + STORED_LOWEST) * 20 / 1e6  # some 20 bytes a key as stored
    if keys_mb > budget_mb:
        return []
    # match_keys is ordered by key (random 62-bit values): read it in slices of that range.
    step = (1 << 62) // max(1, top // chunk + 1)
    reads = [("SELECT count(*) FROM match_keys WHERE key >= ? AND key < ?", [low, low + step])
             for low in range(0, 1 << 62, step)]
    sampled = db.execute("SELECT avg(length(shingles) + length(title_parts)) FROM"
                         " (SELECT shingles, title_parts FROM match_shingles ORDER BY paper_id DESC LIMIT 1000)").fetchone()[0]
    if keys_mb + top * (sampled + 20) / 1e6 <= budget_mb:
        reads += [("SELECT count(*), sum(length(shingles)) FROM match_shingles WHERE paper_id BETWEEN ? AND ?",
                   [start, start + chunk - 1]) for start in range(0, top + 1, chunk)]
    return reads


# --- candidates ---------------------------------------------------------------------------


def _abstract_candidates(db, probes: list[list[int]], before: list[int | None]) -> list[list[int]]:
    """For each entry, the papers sharing most of its sampled n-grams (common ones skipped).
    One statement reads each distinct key's first COMMON + 1 holders (one B-tree seek per
    key; a common key's thousands of holders are never read); the votes are counted here,
    for all entries in one numpy pass (a dict of votes per entry was most of the matching)."""
    keys = sorted({key for keys in probes for key in keys})
    if not keys:
        return [[] for _ in probes]
    holders: dict[int, tuple[str, int]] = {}  # key -> its holders' ids ("3,5,7") and how many
    for key, found in db.execute(
        "SELECT k.value, (SELECT group_concat(paper_id) FROM (SELECT paper_id FROM match_keys m"
        " WHERE m.key = k.value LIMIT :limit)) FROM json_each(:keys) k",
        {"keys": json.dumps(keys), "limit": COMMON + 1},
    ):
        # a key held by more than COMMON papers says nothing ("in this paper we")
        if found and (held := found.count(",") + 1) <= COMMON:
            holders[key] = found, held
    # Every (entry, holder) pair of a key the entry has: one vote each.
    texts, entry_of, counts = [], [], []
    for i, keys in enumerate(probes):
        for key in set(keys):
            if key in holders:
                found, held = holders[key]
                texts.append(found)
                entry_of.append(i)
                counts.append(held)
    answer: list[list[int]] = [[] for _ in probes]
    if not texts:
        return answer
    pid = np.fromstring(",".join(texts), dtype=np.int64, sep=",")
    entry = np.repeat(np.asarray(entry_of, dtype=np.int64), counts)
    older = np.asarray([1 << 62 if b is None else b for b in before], dtype=np.int64)
    ok = pid < older[entry]  # at ingest, only papers older than the entry's own
    # One rare key in common makes a candidate: a truncated copy may have no more.
    pair, votes = np.unique((entry[ok] << 32) | pid[ok], return_counts=True)  # paper ids < 2**32
    entry, pid = pair >> 32, pair & 0xFFFFFFFF
    order = np.lexsort((pid, -votes, entry))  # by entry, then most votes, then oldest
    entry, pid = entry[order], pid[order]
    best = np.arange(len(entry)) - np.searchsorted(entry, entry) < CANDIDATES  # rank within its entry
    for i, p in zip(entry[best].tolist(), pid[best].tolist()):
        answer[i].append(p)
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
    def of(cls, title: str, abstract: str, arxiv_id: str | None, made: Abstract | None = None) -> "Side":
        """A query's side, from its text (or what abstracts_of already made of its abstract)."""
        made = abstracts_of([abstract])[0] if made is None else made
        side = cls.stored(title, None, arxiv_id)
        side.shingles = set(made.fingerprint.tolist())
        return side

    @classmethod
    def stored(cls, title: str, shingles: set[int], arxiv_id: str | None, packed: str | None = None) -> "Side":
        """A known paper's side, from its title (or its words as stored) and unpacked fingerprint."""
        parts = [p.split() for p in packed.split("|")] if packed else text.title_parts(title)
        words = [w for part in parts for w in part]
        return cls(
            title_key="".join(words),
            title_words=set(words),
            numbered_parts=[(part, numbers) for part in parts if (numbers := _numbers(part))],
            shingles=shingles,
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
        return features["abstract_containment"] < MIN_CONTAINMENT or features["title_jaccard"] == 0
    # The same title under another id: a short title ("Introduction") is no evidence.
    return features["abstract_containment"] < MIN_CONTAINMENT and features["title_long"] * 60 < MIN_TITLE_ONLY


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
    new = iter(abstracts_of([q.abstract for q in queries if q.made is None]))
    made = [next(new) if q.made is None else q.made for q in queries]
    abstract_candidates = _abstract_candidates(db, [m.keys for m in made], [q.before for q in queries])
    title_keys = [text.title_key(q.title) if q.title_key is None else q.title_key for q in queries]
    same_title: dict[str, list[int]] = {}
    for pid, key in db.execute(
        "SELECT id, title_key FROM papers WHERE title_key IN (SELECT value FROM json_each(?)) ORDER BY id",
        [json.dumps([k for k in title_keys if k])],
    ):
        same_title.setdefault(key, []).append(pid)
    candidates = []
    for q, key, by_abstract in zip(queries, title_keys, abstract_candidates):
        by_title = [pid for pid in same_title.get(key, ()) if q.before is None or pid < q.before][:CANDIDATES]
        candidates.append(list(dict.fromkeys(by_title + by_abstract)))
    # Under another title, a paper sharing under half of the abstract is ruled out (see
    # ruled_out): most of a page's candidates go here, on their fingerprints alone, before
    # their rows in papers (large, rarely in cache) are read.
    fingerprints = {pid: (shingles, packed) for pid, shingles, packed in db.execute(
        "SELECT paper_id, shingles, title_parts FROM match_shingles WHERE paper_id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted({pid for ids in candidates for pid in ids}))],
    )}
    pairs = [(i, pid) for i, ids in enumerate(candidates) for pid in ids]
    keep = _may_match([m.fingerprint for m in made], title_keys, pairs, fingerprints)
    candidates = [[] for _ in queries]
    for (i, pid), kept in zip(pairs, keep):
        if kept:
            candidates[i].append(pid)
    papers = {}
    for pid, title, arxiv_id in db.execute(
        "SELECT id, title, arxiv_id FROM papers WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(sorted({pid for ids in candidates for pid in ids}))],
    ):
        shingles, packed = fingerprints.get(pid, (None, None))
        papers[pid] = (pid, title, Side.stored(title, _unpack(shingles), arxiv_id, packed))
    return [
        (Side.of(q.title, q.abstract, q.arxiv_id, made=m) if ids else None, [papers[pid] for pid in ids])
        for q, m, ids in zip(queries, made, candidates)
    ]


def _may_match(prints: list[np.ndarray], title_keys: list[str], pairs: list[tuple[int, int]],
               fingerprints: dict[int, tuple[bytes, str]]) -> list[bool]:
    """Which (query, candidate) pairs ruled_out may still accept: the same title, or at
    least MIN_CONTAINMENT of the shorter abstract shared. All pairs' shared n-grams are
    counted in one numpy pass: a set per candidate was most of a backfill's matching."""
    stored = [fingerprints.get(pid) for _, pid in pairs]
    both = [n for n, ((i, _), f) in enumerate(zip(pairs, stored)) if f is not None and len(prints[i])]
    shared = np.zeros(len(pairs), dtype=np.int64)
    size_q = np.zeros(len(pairs), dtype=np.int64)
    size_c = np.zeros(len(pairs), dtype=np.int64)
    if both:
        mine = [prints[pairs[n][0]] for n in both]
        theirs = [np.frombuffer(stored[n][0], dtype="<u4") for n in both]
        size_q[both] = [len(x) for x in mine]
        size_c[both] = [len(x) for x in theirs]
        # Tag each n-gram with its pair (high 32 bits). Fingerprints are sorted and unique
        # and the tags grow, so both sides come out sorted without sorting.
        tag = np.asarray(both, dtype=np.uint64) << np.uint64(32)
        a = np.concatenate(mine).astype(np.uint64) | np.repeat(tag, size_q[both])
        b = np.concatenate(theirs).astype(np.uint64) | np.repeat(tag, size_c[both])
        found = a[np.minimum(np.searchsorted(a, b), len(a) - 1)] == b
        shared = np.bincount((b[found] >> np.uint64(32)).astype(np.int64), minlength=len(pairs))
    enough = ((shared > 0) & (shared >= MIN_CONTAINMENT * np.minimum(size_q, size_c))).tolist()
    return [
        f is None  # no abstract: a candidate by its title
        or f[1].replace(" ", "").replace("|", "") == title_keys[i]
        or ok
        for (i, _), f, ok in zip(pairs, stored, enough)
    ]


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    x = np.sort(x)  # np.unique hashes instead, many times slower on these arrays
    return x[np.concatenate(([True], x[1:] != x[:-1]))] if len(x) else x


def find_duplicates(db: sqlite_utils.Database, queries: list[Query]) -> list[Duplicate | None]:
    """For each query, the known paper it is another record of, or None."""
    answers: list[Duplicate | None] = []
    for side, candidates in candidate_pairs(db, queries):
        best = None
        for pid, title, other in candidates:
            features = pair_features(side, other)
            p = score(features)
            if is_duplicate(features, p) and (best is None or p > best.similarity):
                best = Duplicate(pid, title, p, reason(features), other.arxiv_id)
        answers.append(best)
    return answers
