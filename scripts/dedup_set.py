"""Build a labelled duplicate-detection set from the real papers in ../shared.

    scripts/make-dedup-set [--out build/dedup] [--seed 7] [--per-kind 400]

Writes two files:
- known.jsonl    the papers a user already has (real arXiv and Hugging Face papers)
- queries.jsonl  one entry as some page shows it, labelled with the known paper it is
                 ("target", an arXiv id) or null when it is no known paper

Every paper is drawn into one of two splits, dev (to train and tune on) and test (to report),
by a hash of its id, so no paper lends variants to both. Positives are variants of known
papers, of the kinds the matcher must recognise; negatives are real papers that are not known
(the hard ones have the nearest known title) and made-up neighbours of known ones (series
"X 2", "A Survey of A" -> "of B", one title word swapped), with and without abstracts.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT / "daemon"))
from seenpapers.text import title_key  # noqa: E402

POSITIVE_KINDS = [
    "title_only", "title_unicode", "title_latex", "abstract_truncated", "abstract_rewrapped",
    "abstract_edited", "versioned_id_retitled", "retitled_same_abstract", "retitled_reworded",
    "reposted_new_id",
]
NEGATIVE_KINDS = ["unrelated", "nearest_title", "series", "series_shared_abstract", "survey_topic",
                  "title_word_swapped", "abstract_partly_shared"]


# --- the pool of real papers --------------------------------------------------------------


def real_papers() -> list[dict]:
    """Real papers with an id, a title and an abstract: the arXiv sample, then the HF days."""
    papers: dict[str, dict] = {}
    with open(SHARED / "corpus" / "arxiv-listings-sample.jsonl", encoding="utf-8") as f:
        for line in f:
            p = json.loads(line)
            papers[p["arxiv_id"]] = {"arxiv_id": p["arxiv_id"], "title": " ".join(p["title"].split()),
                                     "abstract": " ".join(p["abstract"].split())}
    for path in sorted(glob.glob(str(SHARED / "digests" / "hf-api" / "*.json"))):
        for item in json.load(open(path, encoding="utf-8")):
            p = item.get("paper", item)
            if p.get("id") and p["id"] not in papers and p.get("summary"):
                papers[p["id"]] = {"arxiv_id": p["id"], "title": " ".join(p["title"].split()),
                                   "abstract": " ".join(p["summary"].split())}
    return list(papers.values())


def bucket(arxiv_id: str, salt: str) -> float:
    return int(hashlib.sha256(f"{salt}:{arxiv_id}".encode()).hexdigest()[:8], 16) / 0xFFFFFFFF


# --- variants of a title ------------------------------------------------------------------

HYPHENS = ["\u2010", "\u2011", "\u2013", "\u2014", "\u2212"]
LIGATURES = [("fi", "\ufb01"), ("fl", "\ufb02"), ("ff", "\ufb00")]
GREEK = {"alpha": "α", "beta": "β", "gamma": "γ", "delta": "δ", "epsilon": "ε", "lambda": "λ",
         "mu": "μ", "pi": "π", "sigma": "σ", "tau": "τ", "phi": "φ", "omega": "ω", "theta": "θ"}
SYMBOLS = {"textpertenthousand": "‱", "times": "×", "infty": "∞", "ell": "ℓ", "circ": "°", "rightarrow": "→", "leq": "≤", "geq": "≥", "pm": "±"}


def unicode_variant(title: str, rng: random.Random) -> str:
    """The same title as another page types it: case, ligatures, quotes, hyphens, spacing."""
    edits = rng.sample(["case", "ligature", "quotes", "hyphen", "colon", "spaces", "accent"], rng.randint(1, 3))
    for edit in edits:
        if edit == "case":
            title = rng.choice([str.lower, str.upper, str.title])(title)
        elif edit == "ligature":
            for plain, lig in LIGATURES:
                title = title.replace(plain, lig)
        elif edit == "quotes":
            title = re.sub(r"'", "\u2019", title)
            title = re.sub(r'"([^"]*)"', "\u201c\\1\u201d", title)
            if "'" not in title and '"' not in title:
                title = title.replace(" ", " \u2018", 1) + "\u2019" if rng.random() < 0.3 else title
        elif edit == "hyphen":
            title = title.replace("-", rng.choice(HYPHENS))
        elif edit == "colon":
            title = title.replace(": ", rng.choice([" : ", " :  ", ":", " \uff1a "]))
        elif edit == "spaces":
            title = title.replace(" ", rng.choice(["\u00a0", "  ", " \u200b", "\u2009"]), rng.randint(1, 3))
        elif edit == "accent":
            title = title.replace("e", "\u00e9", 1).replace("o", "o\u0308", 1)
    return title


def latex_variant(title: str, rng: random.Random) -> str:
    """The title as LaTeX source gives it, or LaTeX rendered to text."""
    if "$" in title or "\\" in title:
        return render_latex(title)
    words = title.split()
    for name, letter in GREEK.items():
        if letter in title:
            return title.replace(letter, f"${chr(92)}{name}$")
    candidates = [i for i, w in enumerate(words) if re.fullmatch(r"[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*", w.rstrip(":,"))]
    if not candidates:
        candidates = [0]
    i = rng.choice(candidates)
    word = words[i]
    tail = word[len(word.rstrip(":,")):]
    core = word[: len(word) - len(tail)]
    command = rng.choice(["\\textsc{%s}", "$\\mathrm{%s}$", "\\texttt{%s}", "\\textbf{%s}", "$\\textit{%s}$", "{\\sc %s}"])
    words[i] = command % core + tail
    return " ".join(words)


def render_latex(title: str) -> str:
    """What a page shows for a LaTeX title: commands become symbols, $ and braces go."""
    text = re.sub(r"\\(?:textit|textbf|texttt|textsc|textrm|text|mathrm|mathbf|mathcal|mathsf|underline|emph)\s*", "", title)
    for name, letter in {**GREEK, **SYMBOLS}.items():
        text = re.sub(r"\\%s(?![A-Za-z])" % name, letter, text)
    text = re.sub(r"\^\{?(\d)\}?", lambda m: "⁰¹²³⁴⁵⁶⁷⁸⁹"[int(m.group(1))], text)
    return " ".join(text.replace("$", "").replace("{", "").replace("}", "").split())


SUBTITLES = ["A Unified Framework", "An Empirical Study", "Towards Robust and Efficient Learning",
             "A Simple Baseline", "Benchmark and Analysis", "Scaling Up", "Method and Evaluation",
             "A Case Study", "Theory and Practice", "Beyond the Obvious"]


def acronym(title: str) -> str:
    letters = [w[0] for w in re.findall(r"[A-Za-z]+", title) if w.lower() not in STOP][:5]
    return "".join(letters).upper() or "X"


def retitle(title: str, rng: random.Random) -> tuple[str, str]:
    """A retitled version of the same work: (new title, how)."""
    options = []
    if ": " in title:
        head, tail = title.split(": ", 1)
        if len(tail.split()) >= 3:
            options.append(("prefix dropped", tail[0].upper() + tail[1:]))
        if len(head.split()) >= 3:
            options.append(("subtitle dropped", head))
    else:
        options.append(("acronym prefix added", f"{acronym(title)}: {title}"))
        options.append(("subtitle added", f"{title}: {rng.choice(SUBTITLES)}"))
    if title.lower().startswith("towards "):
        rest = title[8:]
        options.append(("towards dropped", rest[0].upper() + rest[1:]))
    else:
        options.append(("towards added", "Towards " + title[0].lower() + title[1:]))
    how, new = rng.choice(options)
    return new, how


REWORDINGS = ["{} at Scale", "{} for Everyone", "{}: Methods and Results", "On {}", "{} Revisited",
              "Learning {}", "{} with Weak Supervision", "Efficient {}", "{}: Lessons Learned"]


def reword(title: str, rng: random.Random) -> str:
    """A re-posted version's title written anew: some of its words kept, in order, in a
    new phrase ("Towards Scalable SOAP Note Generation: ..." -> "SOAP Note Generation at Scale")."""
    words = [w.strip(":,") for w in title.split() if w.lower().strip(":,") not in STOP]
    if len(words) < 3:
        return rng.choice(REWORDINGS).format(title)
    keep = sorted(rng.sample(range(len(words)), max(2, round(len(words) * rng.uniform(0.4, 0.7)))))
    return rng.choice(REWORDINGS).format(" ".join(words[i] for i in keep))


# --- variants of an abstract --------------------------------------------------------------


def sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(])", text) if s]


def truncate(text: str, rng: random.Random) -> str:
    limit = rng.randint(150, 400)
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    return cut + rng.choice(["…", "...", " …", " [...]"])


def rewrap(text: str, rng: random.Random) -> str:
    width, lines, line = rng.randint(50, 90), [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])


def edit(text: str, rng: random.Random, donor: str | None = None) -> tuple[str, str]:
    """A lightly edited abstract: one number changed, one sentence dropped, or (with a
    donor abstract) one sentence rewritten."""
    if donor and rng.random() < 0.3:
        parts, other = sentences(text), sentences(donor)
        if len(parts) >= 6 and other:
            parts[rng.randrange(1, len(parts))] = rng.choice(other)
            return " ".join(parts), "sentence rewritten"
    numbers = list(re.finditer(r"\d+(?:\.\d+)?", text))
    if numbers and rng.random() < 0.5:
        m = rng.choice(numbers)
        new = str(int(float(m.group()) + rng.randint(1, 9))) if "." not in m.group() else f"{float(m.group()) + rng.randint(1, 9) / 10:.1f}"
        return text[: m.start()] + new + text[m.end():], "number changed"
    parts = sentences(text)
    if len(parts) >= 4:
        del parts[rng.randrange(len(parts))]
        return " ".join(parts), "sentence dropped"
    return text.replace(" the ", " a ", 2), "words changed"


def any_abstract(text: str, rng: random.Random, donor: str) -> tuple[str, str]:
    how = rng.choice(["full", "truncated", "rewrapped", "edited"])
    if how == "truncated":
        return truncate(text, rng), how
    if how == "rewrapped":
        return rewrap(text, rng), how
    if how == "edited":
        return edit(text, rng, donor)
    return text, how


# --- negatives ----------------------------------------------------------------------------

STOP = set("a an the of for in on to and with via by from at is are as its into using towards toward".split())
SERIES = [" 2", " 2.0", "-2", " v2", "++", " 3", " II", ": Version 2", " Plus", " III"]


def series(title: str, rng: random.Random) -> str:
    """The next paper of a series: a year or number moved on, or a "2" / "++" added."""
    years = re.findall(r"\b(?:19|20)\d\d\b", title)
    if years and rng.random() < 0.7:
        year = rng.choice(years)
        return title.replace(year, str(int(year) + rng.choice([-2, -1, 1, 2])), 1)
    if ": " in title:
        head, tail = title.split(": ", 1)
        return f"{head}{rng.choice(SERIES[:6])}: {tail}"
    return title + rng.choice(SERIES)


def mix(first: str, second: str, rng: random.Random) -> tuple[str, float]:
    """The first sentences of one abstract, then the rest of another: shared boilerplate,
    as two papers of one group or one challenge series have it."""
    a, b = sentences(first), sentences(second)
    keep = max(1, round(len(a) * rng.uniform(0.2, 0.7)))
    mixed = a[:keep] + b[min(len(b) - 1, keep):] if len(b) > 1 else a[:keep] + b
    return " ".join(mixed), keep / max(1, len(a))


def swap_word(title: str, vocabulary: list[str], rng: random.Random) -> str | None:
    words = title.split()
    content = [i for i, w in enumerate(words) if w.lower() not in STOP and w.isalpha() and len(w) > 3]
    if not content:
        return None
    i = rng.choice(content)
    replacement = rng.choice(vocabulary)
    if replacement.lower() == words[i].lower():
        return None
    words[i] = replacement if words[i][0].isupper() == replacement[0].isupper() else replacement.capitalize()
    return " ".join(words)


SURVEY = re.compile(r"^((?:A |An )?(?:Comprehensive |Systematic |Brief |Empirical )?(?:Survey|Review|Overview|Study|Benchmark) (?:of|on|for))"
                    r" (.+)$", re.I)


def nearest_known_titles(outside: list[dict], known: list[dict]) -> list[tuple[float, int]]:
    """For each outside paper, (cosine, index) of the most similar known title (TF-IDF)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.neighbors import NearestNeighbors

    vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 4), sublinear_tf=True)
    known_matrix = vectorizer.fit_transform(p["title"] for p in known)
    nn = NearestNeighbors(n_neighbors=1, metric="cosine").fit(known_matrix)
    distance, index = nn.kneighbors(vectorizer.transform(p["title"] for p in outside))
    return [(1 - d[0], i[0]) for d, i in zip(distance, index)]


# --- the set ------------------------------------------------------------------------------


def build(seed: int, per_kind: int) -> tuple[list[dict], list[dict]]:
    rng = random.Random(seed)
    pool = real_papers()
    known = [p for p in pool if bucket(p["arxiv_id"], "known") < 0.85]
    outside = [p for p in pool if bucket(p["arxiv_id"], "known") >= 0.85]
    for p in pool:
        p["split"] = "dev" if bucket(p["arxiv_id"], "split") < 0.5 else "test"
    vocabulary = sorted({w for p in known for w in p["title"].split() if w.isalpha() and len(w) > 3 and w.lower() not in STOP})
    known_ids = {p["arxiv_id"] for p in pool}
    queries: list[dict] = []

    known_keys = {title_key(p["title"]) for p in known}

    def add(kind, split, label, target, title, abstract=None, arxiv_id=None, note=""):
        if label == 0 and title_key(title) in known_keys:
            return  # a made-up neighbour that is some other known paper's exact title
        query = {"title": title}
        if abstract:
            query["abstract"] = abstract
        if arxiv_id:
            query["arxiv_id"] = arxiv_id
        queries.append({"kind": kind, "split": split, "label": label, "target": target, "note": note, "query": query})

    def fresh_id() -> str:
        while True:
            candidate = f"{rng.randint(2601, 2612)}.{rng.randint(0, 99999):05d}"
            if candidate not in known_ids:
                known_ids.add(candidate)
                return candidate

    for split in ("dev", "test"):
        mine = [p for p in known if p["split"] == split]
        sources = rng.sample(mine, min(len(mine), per_kind * len(POSITIVE_KINDS)))
        chunks = [sources[i::len(POSITIVE_KINDS)] for i in range(len(POSITIVE_KINDS))]
        for kind, chunk in zip(POSITIVE_KINDS, chunks):
            for p in chunk[:per_kind]:
                t, a, i = p["title"], p["abstract"], p["arxiv_id"]
                maybe = (lambda text: text if rng.random() < 0.5 else None)
                if kind == "title_only":
                    add(kind, split, 1, i, t)
                elif kind == "title_unicode":
                    add(kind, split, 1, i, unicode_variant(t, rng), maybe(a))
                elif kind == "title_latex":
                    add(kind, split, 1, i, latex_variant(t, rng), maybe(a))
                elif kind == "abstract_truncated":
                    add(kind, split, 1, i, t, truncate(a, rng))
                elif kind == "abstract_rewrapped":
                    add(kind, split, 1, i, t, rewrap(a, rng))
                elif kind == "abstract_edited":
                    edited, how = edit(a, rng)
                    add(kind, split, 1, i, t, edited, note=how)
                elif kind == "versioned_id_retitled":
                    new, how = retitle(t, rng)
                    add(kind, split, 1, i, new, maybe(a), f"{i}v{rng.randint(2, 5)}", note=how)
                elif kind == "retitled_same_abstract":
                    new, how = retitle(t, rng)
                    abstract, treatment = any_abstract(a, rng, rng.choice(mine)["abstract"])
                    add(kind, split, 1, i, new, abstract, note=f"{how}; abstract {treatment}")
                elif kind == "retitled_reworded":
                    abstract, treatment = any_abstract(a, rng, rng.choice(mine)["abstract"])
                    add(kind, split, 1, i, reword(t, rng), abstract, rng.choice([None, fresh_id()]),
                        note=f"abstract {treatment}")
                elif kind == "reposted_new_id":
                    abstract, treatment = any_abstract(a, rng, rng.choice(mine)["abstract"])
                    title = t if rng.random() < 0.5 else unicode_variant(t, rng)
                    add(kind, split, 1, i, title, abstract, fresh_id(), note=f"abstract {treatment}")

        others = [p for p in outside if p["split"] == split]
        near = nearest_known_titles(others, known)
        ranked = sorted(zip(near, others), key=lambda x: -x[0][0])
        for p in rng.sample(others, min(len(others), per_kind)):
            add("unrelated", split, 0, None, p["title"], maybe(p["abstract"]), p["arxiv_id"] if rng.random() < 0.5 else None)
        for (cosine, index), p in ranked[:per_kind]:
            add("nearest_title", split, 0, None, p["title"], maybe(p["abstract"]), p["arxiv_id"] if rng.random() < 0.3 else None,
                note=f"nearest known: {known[index]['arxiv_id']} (title cosine {cosine:.2f})")
        neighbours = rng.sample(mine, min(len(mine), per_kind * 3))
        for p, other in zip(neighbours[:per_kind], others[::-1]):
            add("series", split, 0, None, series(p["title"], rng), maybe(other["abstract"]), note=f"next in the series of {p['arxiv_id']}")
        for p, other in zip(neighbours[2 * per_kind:3 * per_kind], others[len(others) // 2:] + others):
            if rng.random() < 0.3:
                abstract, how = p["abstract"], "the same abstract"
            else:
                abstract, share = mix(p["abstract"], other["abstract"], rng)
                how = f"{share:.0%} of the sentences shared"
            add("series_shared_abstract", split, 0, None, series(p["title"], rng), abstract,
                note=f"next in the series of {p['arxiv_id']}, {how}")
        for p, other in zip(rng.sample(mine, min(len(mine), per_kind)), rng.sample(others, min(len(others), per_kind))):
            abstract, share = mix(p["abstract"], other["abstract"], rng)
            add("abstract_partly_shared", split, 0, None, other["title"], abstract,
                note=f"{share:.0%} of the sentences of {p['arxiv_id']}")
        surveys = [(p, SURVEY.match(p["title"])) for p in known if SURVEY.match(p["title"])]
        topics = [m.group(2) for _, m in surveys]
        for p, m in [s for s in surveys if s[0]["split"] == split][:per_kind]:
            topic = rng.choice([t for t in topics if t.lower() != m.group(2).lower()])
            other = rng.choice(others)
            add("survey_topic", split, 0, None, f"{m.group(1)} {topic}", maybe(other["abstract"]), note=f"survey like {p['arxiv_id']}")
        for p, other in zip(neighbours[per_kind:2 * per_kind], others):
            swapped = swap_word(p["title"], vocabulary, rng)
            if swapped and swapped.lower() != p["title"].lower():
                add("title_word_swapped", split, 0, None, swapped, maybe(other["abstract"]), note=f"one word from {p['arxiv_id']}")
    known_rows = [{"arxiv_id": p["arxiv_id"], "title": p["title"], "abstract": p["abstract"], "split": p["split"]} for p in known]
    return known_rows, queries


def shrink(known: list[dict], queries: list[dict], n: int, rng: random.Random) -> tuple[list[dict], list[dict]]:
    """A small copy of the set: n queries per (split, kind), the known papers they name
    (targets, and the neighbours hard negatives were made from), and some others."""
    kept, seen = [], {}
    for q in queries:
        key = (q["split"], q["kind"])
        seen[key] = seen.get(key, 0) + 1
        if seen[key] <= n:
            kept.append(q)
    named = {q["target"] for q in kept} | {i for q in kept for i in re.findall(r"\d{4}\.\d{4,5}", q["note"])}
    others = [p for p in known if p["arxiv_id"] not in named]
    chosen = named | {p["arxiv_id"] for p in rng.sample(others, min(len(others), 20 * n))}
    return [p for p in known if p["arxiv_id"] in chosen], kept


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=ROOT / "build" / "dedup")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--per-kind", type=int, default=400, help="queries per kind and split")
    ap.add_argument("--small", type=int, metavar="N",
                    help="keep N queries per kind and split, and only the known papers they name plus 20*N"
                         " others (the test suite's copy: tests/fixtures/dedup)")
    args = ap.parse_args(argv)
    if not (SHARED / "corpus").exists():
        sys.exit(f"needs the real papers in {SHARED}")
    known, queries = build(args.seed, args.per_kind)
    if args.small:
        known, queries = shrink(known, queries, args.small, random.Random(args.seed))
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "known.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in known)
    with open(args.out / "queries.jsonl", "w", encoding="utf-8") as f:
        f.writelines(json.dumps(q, ensure_ascii=False) + "\n" for q in queries)
    from collections import Counter
    counts = Counter((q["split"], q["kind"]) for q in queries)
    print(f"{len(known):,} known papers, {len(queries):,} queries in {args.out}")
    for kind in POSITIVE_KINDS + NEGATIVE_KINDS:
        print(f"  {kind:24} dev {counts[('dev', kind)]:5}  test {counts[('test', kind)]:5}")


if __name__ == "__main__":
    main()
