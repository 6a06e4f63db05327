"""Visits end to end: the browser extension posts what was on screen to a real daemon
(POST /api/v1/digests, application/json, named as the extension names them), the watcher
ingests it, and the digests table says it was a visit of which page. The format itself is in
test_format_visit.py, the Datasette questions about visits in test_datasette.py."""

import json
import shutil
import sqlite3
import subprocess
import time

import pytest

from seenpapers import ingest, store

from .conftest import FIXTURES, HF_API, SEEDS, SEENPAPERS, Daemon

VISITS = FIXTURES / "visits"
PART_1, PART_2 = sorted(VISITS.glob("visit_huggingface.co_papers_date_*.json"))
ABS = next(VISITS.glob("visit_arxiv.org_abs_*.json"))
SEED = SEEDS / "000_be2405954437598b.txt"


def sent(path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def titles(path) -> list[str]:
    return [p["title"] for p in sent(path)["papers"]]


def read_db(running, sql, params=()):
    conn = sqlite3.connect(f"file:{running.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def post_visit(running, path) -> str:
    status, _, body = running.request("POST", f"/api/v1/digests?name={path.name}", raw=path.read_bytes(),
                                      content_type="application/json")
    assert status == 202, body
    return body["name"]


@pytest.fixture(scope="module")
def visited(tmp_path_factory):
    """A daemon that knew none of the papers, then got both parts of one visit of a Hugging
    Face daily page from the extension, and a page copy dropped in its inbox."""
    running = Daemon(tmp_path_factory.mktemp("visits") / "data")
    before = running.lookup(*titles(PART_1), *titles(PART_2))
    names = [post_visit(running, PART_1), post_visit(running, PART_2)]
    shutil.copyfile(SEED, running.inbox / SEED.name)
    running.wait_idle(digests=3)
    yield running, before, names
    running.stop()


def test_a_posted_visit_is_a_digest_of_kind_visit_with_its_page_and_start(visited):
    running, _, names = visited
    assert names == [PART_1.name, PART_2.name]  # the extension's names are kept
    rows = read_db(running, "SELECT name, kind, format, page, started, date, entries FROM digests"
                            " WHERE name LIKE 'visit_%' ORDER BY name")
    first = sent(PART_1)
    assert rows == [
        (PART_1.name, "visit", "visit", first["page"], "2026-12-01T09:15:00Z", "2026-12-01", 5),
        (PART_2.name, "visit", "visit", first["page"], "2026-12-01T09:15:00Z", "2026-12-01", 3),
    ]


def test_a_visits_papers_are_sightings_in_the_order_they_were_noted(visited):
    running, _, _ = visited
    for path in (PART_1, PART_2):
        rows = read_db(running, "SELECT s.position, s.title, p.arxiv_id FROM sightings s"
                                " JOIN digests d ON d.id = s.digest_id JOIN papers p ON p.id = s.paper_id"
                                " WHERE d.name = ? ORDER BY s.position", [path.name])
        assert rows == [(n, p["title"], p["arxiv_id"]) for n, p in enumerate(sent(path)["papers"], 1)]


def test_papers_on_screen_are_seen_afterwards_and_name_the_visit(visited):
    running, before, _ = visited
    assert {r["status"] for r in before} == {"new"}
    after = running.lookup(*titles(PART_1), *titles(PART_2))
    assert [r["status"] for r in after] == ["seen"] * 8
    assert all(r["times_seen"] == 1 and r["first_seen"] == "2026-12-01" for r in after)
    assert [r["digests"][0]["name"] for r in after] == [PART_1.name] * 5 + [PART_2.name] * 3


def test_the_second_part_of_a_visit_is_a_digest_of_its_own(visited):
    running, _, _ = visited
    [(digests, papers)] = read_db(running, "SELECT count(DISTINCT d.id), count(DISTINCT s.paper_id) FROM digests d"
                                           " JOIN sightings s ON s.digest_id = d.id WHERE d.kind = 'visit'")
    assert (digests, papers) == (2, 8)
    assert not set(titles(PART_1)) & set(titles(PART_2))


def test_ordinary_digests_are_of_kind_digest_with_no_page(visited):
    running, _, _ = visited
    assert read_db(running, "SELECT kind, format, page, started FROM digests WHERE name = ?", [SEED.name]) == [
        ("digest", "hf-text", None, None)]


def test_a_visit_sent_again_is_one_digest_and_a_malformed_one_a_readable_failure(visited):
    # The extension sends again what the daemon may not have got (it was down, a timeout).
    running, _, _ = visited
    again = post_visit(running, PART_1)
    assert again != PART_1.name  # a capture never replaces a file
    bad = {**sent(ABS), "papers": {"title": "not a list"}}
    status, _, _ = running.request("POST", "/api/v1/digests?name=visit_bad.json", raw=json.dumps(bad).encode())
    assert status == 202
    post_visit(running, ABS)
    running.wait_idle(digests=4, failures=1)
    time.sleep(0.3)  # the copy of part 1 is looked at by then too: a known digest leaves no row
    assert read_db(running, "SELECT count(*) FROM digests WHERE kind = 'visit'") == [(3,)]
    assert read_db(running, "SELECT name, error FROM failures") == [
        ("visit_bad.json", '"papers" is an object, not a list of papers')]
    [swe] = running.lookup(sent(ABS)["papers"][0]["title"])
    assert swe["status"] == "seen" and swe["times_seen"] == 2  # on the daily page, then its own page
    assert running.health()["status"] == "ok"


# --- without a daemon: the backfill, and databases made before visits ------------------------


def test_seenpapers_ingest_records_visits_like_the_watcher(data_dir):
    done = subprocess.run([SEENPAPERS, "ingest", str(VISITS), str(HF_API / "2025-02-18.json")],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    db = store.open_db(data_dir / "seenpapers.db")
    kinds = {name: (kind, page) for name, kind, page in db.execute("SELECT name, kind, page FROM digests")}
    db.close()
    assert kinds.pop("2025-02-18.json") == ("digest", None)
    assert kinds == {path.name: ("visit", sent(path)["page"]) for path in VISITS.glob("*.json")}


def test_a_database_made_before_visits_calls_its_digests_digest(tmp_path):
    path = tmp_path / "seenpapers.db"
    old = store.open_db(path)  # as m007 left it: no kind, page or start
    old.execute("DELETE FROM _sqlite_migrations WHERE name = 'm008_digest_kind_page_started'")
    for column in ("kind", "page", "started"):
        old.execute(f"ALTER TABLE digests DROP COLUMN {column}")
    old.execute("INSERT INTO digests (sha256, name, format, date, entries, ingested_at)"
                " VALUES ('ab', 'old.txt', 'hf-text', '2025-01-02', 0, '2025-01-02T00:00:00Z')")
    old.conn.commit()
    old.close()
    db = store.open_db(path)
    assert db.execute("SELECT name, kind, page, started FROM digests").fetchall() == [("old.txt", "digest", None, None)]
    assert ingest.ingest_file(db, PART_2).status == "ingested"
    assert db.execute("SELECT kind FROM digests ORDER BY id").fetchall() == [("digest",), ("visit",)]
    db.close()
