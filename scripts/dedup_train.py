"""Train the matcher's decision on the dev split of the labelled set; write dedup_model.json.

    scripts/make-dedup-set && scripts/train-dedup [--set build/dedup] [--precision 0.999]

Pairs come from the matcher itself: for every dev query that no exact key finds, each
candidate the index gives is one pair, labelled by whether it is the query's paper (pairs that
the matcher's fixed rules turn down, such as "X 2" after X, never reach the model). A logistic
regression (scikit-learn) learns the weights of the pair features; the threshold is the lowest
at which the dev pairs keep the precision asked for, so a link is made only on strong evidence.
Deterministic: the same set gives the same model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from dedup_common import ROOT, SET, arxiv_ids, known_db, load_set
from sklearn.linear_model import LogisticRegression

from seenpapers import matcher, text

MODEL = ROOT / "daemon" / "seenpapers" / "dedup_model.json"


def pairs(db, queries: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    ids = arxiv_ids(db)
    rows, labels = [], []
    pending = [q for q in queries
               if matcher.find_paper(db, text.arxiv_id(q["query"].get("arxiv_id")), text.title_key(q["query"]["title"])) is None]
    for start in range(0, len(pending), 50):
        batch = pending[start:start + 50]
        found = matcher.candidate_pairs(db, [
            matcher.Query(text.clean(q["query"]["title"]), text.unwrap(q["query"].get("abstract")), text.arxiv_id(q["query"].get("arxiv_id")))
            for q in batch
        ])
        for q, (side, candidates) in zip(batch, found):
            for pid, _, other in candidates:
                features = matcher.pair_features(side, other)
                if matcher.ruled_out(features):
                    continue  # the rules decide these before the model is asked
                rows.append([features[name] for name in matcher.FEATURES])
                labels.append(int(ids[pid] == q["target"]))
    return np.array(rows), np.array(labels)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", type=Path, default=SET)
    ap.add_argument("--precision", type=float, default=0.999, help="precision the threshold keeps on dev pairs")
    args = ap.parse_args(argv)
    known, queries = load_set(args.set)
    if json.loads(MODEL.read_text())["features"] != matcher.FEATURES:
        # The features changed: until trained, a model that links nothing (ingest uses it).
        MODEL.write_text(json.dumps({"features": matcher.FEATURES, "weights": [0.0] * len(matcher.FEATURES),
                                     "intercept": -50.0, "threshold": 1.0}) + "\n", encoding="utf-8")
        matcher.model.cache_clear()
    db = known_db(args.set, known)
    x, y = pairs(db, [q for q in queries if q["split"] == "dev"])
    print(f"{len(y):,} dev pairs, {y.sum():,} of them one work")
    clf = LogisticRegression(C=1.0, max_iter=2000, class_weight="balanced").fit(x, y)
    p = clf.predict_proba(x)[:, 1]
    # The cut: the lowest dev positive above which the precision asked for holds, then
    # halfway (in log-odds) down to the highest dev negative below it, so neither side of
    # the boundary sits right on it.
    order = np.argsort(-p)
    precision = np.cumsum(y[order]) / np.arange(1, len(y) + 1)
    ok = np.where(precision >= args.precision)[0]
    cut = int(ok.max()) if len(ok) else 0
    lowest_positive = float(p[order][cut])
    below = p[(p < lowest_positive) & (y == 0)]
    highest_negative = float(below.max()) if len(below) else 0.5

    def logit(v):
        v = min(max(v, 1e-9), 1 - 1e-9)
        return np.log(v / (1 - v))

    # (Never below one half: a link is made only when one work is the likelier reading.)
    threshold = max(0.5, float(1 / (1 + np.exp(-(logit(lowest_positive) + logit(highest_negative)) / 2))))
    recall = float(y[p >= threshold].sum() / max(1, y.sum()))
    model = {
        "features": matcher.FEATURES,
        "weights": [round(float(w), 4) for w in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 4),
        "threshold": round(threshold, 4),
        "trained_on": {"pairs": int(len(y)), "positives": int(y.sum()), "dev_pair_recall": round(recall, 4),
                       "precision_asked": args.precision,
                       "lowest_positive": round(lowest_positive, 4), "highest_negative": round(highest_negative, 4),
                       "by": "scripts/train-dedup"},
    }
    MODEL.write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    for name, w in zip(matcher.FEATURES, model["weights"]):
        print(f"  {name:24} {w:+.3f}")
    print(f"  intercept {model['intercept']:+.3f}; threshold {threshold:.4f}; dev pair recall {recall:.4f}")
    print(f"wrote {MODEL.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
