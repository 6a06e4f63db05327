"""Precision, recall and F1 of the matcher on the labelled set, per kind and overall, beside
two baselines run on the same set in the same run.

    scripts/make-dedup-set && scripts/eval-dedup [--split test|dev|all] [--set build/dedup]

- seenpapers: the real lookup (``lookup.lookup``, what the API answers) against a real
  database of the known papers; an answer names a paper when it is seen/read (exact keys)
  or a duplicate (``duplicate_of``).
- zotero: the same title after removing diacritics and punctuation, in lower case.
- minhash: datasketch MinHash LSH over 5-character shingles of title + abstract, Jaccard >= 0.5.

A positive is right when the answer is its paper; any answer to a negative, or a wrong paper
for a positive, is a false link. Precision = right / all links; recall = right / positives.
"""

from __future__ import annotations

import argparse
import re
import time
import unicodedata
from collections import defaultdict
from pathlib import Path

from dedup_common import SET, arxiv_ids, known_db, load_set
from dedup_set import NEGATIVE_KINDS, POSITIVE_KINDS

from seenpapers import lookup

TARGETS = {"precision": 0.998, "recall": 0.985}


def ours(db, queries: list[dict]) -> list[str | None]:
    ids = arxiv_ids(db)
    answers = []
    for start in range(0, len(queries), 50):
        for result in lookup.lookup(db, [q["query"] for q in queries[start:start + 50]]):
            if result["status"] in ("seen", "read"):
                answers.append(ids[result["paper_id"]])
            elif result["status"] == "duplicate":
                answers.append(ids[result["duplicate_of"]["paper_id"]])
            else:
                answers.append(None)
    return answers


def zotero_key(title: str) -> str:
    text = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^\w\s]|_", "", text.lower()).split())


def zotero(known: list[dict], queries: list[dict]) -> list[str | None]:
    index: dict[str, str] = {}
    for p in known:
        index.setdefault(zotero_key(p["title"]), p["arxiv_id"])
    return [index.get(zotero_key(q["query"]["title"])) for q in queries]


def minhash(known: list[dict], queries: list[dict]) -> list[str | None]:
    from datasketch import MinHash, MinHashLSH

    def sketch(title: str, abstract: str | None) -> MinHash:
        doc = " ".join(f"{title} {abstract or ''}".lower().split())
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([s.encode() for s in {doc[i:i + 5] for i in range(max(1, len(doc) - 4))}])
        return m

    lsh = MinHashLSH(threshold=0.5, num_perm=128)
    sketches = {}
    for p in known:
        sketches[p["arxiv_id"]] = m = sketch(p["title"], p["abstract"])
        lsh.insert(p["arxiv_id"], m)
    answers = []
    for q in queries:
        m = sketch(q["query"]["title"], q["query"].get("abstract"))
        scored = [(m.jaccard(sketches[key]), key) for key in lsh.query(m)]
        best = max(scored, default=(0.0, None))
        answers.append(best[1] if best[0] >= 0.5 else None)
    return answers


def scores(queries: list[dict], answers: list[str | None]) -> dict:
    """Per kind and overall: positives, right, wrong links, missed, and P/R/F1."""
    table: dict[str, dict] = defaultdict(lambda: {"n": 0, "right": 0, "false": 0, "missed": 0})
    for q, a in zip(queries, answers):
        for kind in (q["kind"], "overall"):
            row = table[kind]
            row["n"] += 1
            if q["label"]:
                if a == q["target"]:
                    row["right"] += 1
                else:
                    row["missed"] += 1
                    row["false"] += a is not None
            elif a is not None:
                row["false"] += 1
    for row in table.values():
        links = row["right"] + row["false"]
        positives = row["right"] + row["missed"]
        row["precision"] = row["right"] / links if links else None
        row["recall"] = row["right"] / positives if positives else None
        p, r = row["precision"], row["recall"]
        row["f1"] = 2 * p * r / (p + r) if p and r else (0.0 if positives else None)
    return table


def fmt(value) -> str:
    return "   –  " if value is None else f"{value:.4f}"


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=SET)
    ap.add_argument("--split", choices=["test", "dev", "all"], default="test")
    ap.add_argument("--show", type=int, default=0, metavar="N", help="print N of our errors per kind")
    args = ap.parse_args(argv)
    known, queries = load_set(args.set)
    queries = [q for q in queries if args.split == "all" or q["split"] == args.split]
    started = time.perf_counter()
    db = known_db(args.set, known)
    built = time.perf_counter() - started
    results = {}
    timings = {}
    for name, run in (("seenpapers", lambda: ours(db, queries)), ("zotero", lambda: zotero(known, queries)),
                      ("minhash", lambda: minhash(known, queries))):
        started = time.perf_counter()
        results[name] = run()
        timings[name] = time.perf_counter() - started
    tables = {name: scores(queries, answers) for name, answers in results.items()}
    print(f"{len(known):,} known papers; {len(queries):,} {args.split} queries (database built in {built:.1f} s)")
    print(f"{'kind':24} {'n':>5} | {'seenpapers P':>12} {'R':>6} {'F1':>6} {'false':>5} | {'zotero P':>8} {'R':>6} {'F1':>6}"
          f" {'false':>5} | {'minhash P':>9} {'R':>6} {'F1':>6} {'false':>5}")
    for kind in POSITIVE_KINDS + NEGATIVE_KINDS + ["overall"]:
        if kind not in tables["seenpapers"]:
            continue
        cells = [f"{kind:24} {tables['seenpapers'][kind]['n']:5}"]
        for name in results:
            row = tables[name][kind]
            cells.append(f"{fmt(row['precision']):>{12 if name == 'seenpapers' else 8 if name == 'zotero' else 9}}"
                         f" {fmt(row['recall'])} {fmt(row['f1'])} {row['false']:5}")
        print(" | ".join(cells))
    overall = tables["seenpapers"]["overall"]
    met = all(overall[k] is not None and overall[k] >= v for k, v in TARGETS.items())
    beats = all(overall["f1"] > tables[b]["overall"]["f1"] for b in ("zotero", "minhash"))
    print(f"targets: precision >= {TARGETS['precision']}, recall >= {TARGETS['recall']}: {'met' if met else 'MISSED'};"
          f" F1 above both baselines: {'yes' if beats else 'NO'}")
    print("time: " + ", ".join(f"{name} {t:.1f} s ({1000 * t / len(queries):.2f} ms per query)" for name, t in timings.items()))
    if args.show:
        shown: dict[str, int] = defaultdict(int)
        for q, a in zip(queries, results["seenpapers"]):
            wrong = (q["label"] and a != q["target"]) or (not q["label"] and a is not None)
            if wrong and shown[q["kind"]] < args.show:
                shown[q["kind"]] += 1
                print(f"- {q['kind']} {q['note']!r}: target {q['target']}, answered {a}: {q['query']['title']!r}")


if __name__ == "__main__":
    main()
