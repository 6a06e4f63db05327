"""What scripts/train-dedup and scripts/eval-dedup share: the labelled set, and a real
seenpapers database of its known papers, built by the real ingest."""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "daemon"))

from seenpapers import ingest, store  # noqa: E402,F401

SET = ROOT / "build" / "dedup"


def read_jsonl(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def load_set(folder: Path) -> tuple[list[dict], list[dict]]:
    if not (folder / "queries.jsonl").exists():
        sys.exit(f"no labelled set in {folder}: run scripts/make-dedup-set first")
    return read_jsonl(folder / "known.jsonl"), read_jsonl(folder / "queries.jsonl")


def known_db(folder: Path, known: list[dict], fresh: bool = False):
    """The known papers in a seenpapers database, ingested as HF API files (cached by the
    content of known.jsonl and the package's matcher, so a changed matcher rebuilds it)."""
    import seenpapers

    stamp = hashlib.sha256((folder / "known.jsonl").read_bytes())
    for module in ("matcher.py", "text.py", "ingest.py", "store.py", "dedup_model.json"):
        stamp.update((Path(seenpapers.__file__).parent / module).read_bytes())
    path = folder / f"known-{stamp.hexdigest()[:12]}.db"
    if path.exists() and not fresh:
        return store.open_db(path, readonly=True)
    for old in folder.glob("known-*.db*"):
        old.unlink()
    db = store.open_db(path)
    with tempfile.TemporaryDirectory() as tmp:
        for n, start in enumerate(range(0, len(known), 500)):
            items = [{"paper": {"id": p["arxiv_id"], "title": p["title"], "summary": p["abstract"]},
                      "title": p["title"]} for p in known[start:start + 500]]
            file = Path(tmp) / f"known-{n:04d}.json"
            file.write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
            result = ingest.ingest_bytes(db, file.read_bytes(), name=file.name, path=None, mtime=datetime(2025, 9, 30))
            if result.status != "ingested":
                sys.exit(f"could not ingest the known papers: {result.error}")
    store.update_search_index(db)
    db.conn.close()
    return store.open_db(path, readonly=True)


def arxiv_ids(db) -> dict[int, str]:
    return dict(db.execute("SELECT id, arxiv_id FROM papers").fetchall())
