import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from seenpapers import ingest, lookup, store

from .conftest import HF_API, HF_API_ODD, SEEDS, api_item, refuse_title


def table_counts(db):
    return {t: db[t].count for t in ("digests", "papers", "sightings", "duplicates", "reads", "failures")}


def ingest_all(db, paths):
    return [ingest.ingest_file(db, p) for p in ingest.files_under(paths)]


def test_the_five_sample_dumps_give_5_digests_172_papers_239_sightings(db):
    results = ingest_all(db, [SEEDS])
    assert [r.status for r in results] == ["ingested"] * 5
    assert table_counts(db) == {"digests": 5, "papers": 172, "sightings": 239, "duplicates": 0, "reads": 0, "failures": 0}
    assert sum(r.new_papers for r in results) == 172 and sum(r.seen_again for r in results) == 67


def test_matryoshka_is_seen_in_all_five_dumps(db):
    ingest_all(db, [SEEDS])
    [answer] = lookup.lookup(db, [{"title": "Matryoshka Representation Learning"}])
    assert answer["status"] == "seen" and answer["times_seen"] == 5
    assert len(answer["digests"]) == 5


def test_a_second_ingest_changes_nothing(db):
    ingest_all(db, [SEEDS, HF_API])
    before = table_counts(db)
    results = ingest_all(db, [SEEDS, HF_API])
    assert {r.status for r in results} == {"known"}
    assert table_counts(db) == before


def test_the_same_bytes_under_another_name_are_one_digest(db, tmp_path):
    copy = tmp_path / "renamed.txt"
    shutil.copyfile(SEEDS / "000_be2405954437598b.txt", copy)
    ingest_all(db, [SEEDS / "000_be2405954437598b.txt"])
    assert ingest.ingest_file(db, copy).status == "known"
    assert db["digests"].count == 1


def test_a_paper_copied_from_a_page_without_id_meets_its_api_record_by_title(db):
    # "Knowledge Composition using Task Vectors..." is in a seed dump and in 2024-07-10's API file.
    ingest_all(db, [SEEDS, HF_API / "2024-06-13.json", HF_API / "2025-03-12.json"])
    api_titles = {e["title"] for f in ("2024-06-13.json", "2025-03-12.json") for e in json.loads((HF_API / f).read_text())}
    seed_and_api = [row for row in db.query(
        "SELECT p.id, p.arxiv_id, count(*) AS n FROM papers p JOIN sightings s ON s.paper_id = p.id"
        " GROUP BY p.id HAVING count(DISTINCT s.digest_id) > 1 AND p.arxiv_id IS NOT NULL")]
    assert seed_and_api, "a seed paper should have been matched to its API record"
    # the id-less paper from the page gained the arXiv id from the API file
    assert db.execute("SELECT count(*) FROM papers WHERE arxiv_id IS NOT NULL").fetchone()[0] == len(api_titles)


def write(tmp_path, name, body):
    path = tmp_path / name
    path.write_bytes(body.encode() if isinstance(body, str) else body)
    return path


def test_arxiv_versions_are_one_paper(db, tmp_path):
    ingest_all(db, [write(tmp_path, "a.json", json.dumps([api_item("2501.00001v1", "First Title")])),
                    write(tmp_path, "b.json", json.dumps([api_item("2501.00001v3", "A Retitled Second Version")]))])
    assert db["papers"].count == 1 and db["sightings"].count == 2
    sightings = [r["title"] for r in db.query("SELECT title FROM sightings ORDER BY id")]
    assert sightings == ["First Title", "A Retitled Second Version"]  # each as it was shown


def test_two_ids_under_one_title_stay_two_papers(db, tmp_path):
    ingest_all(db, [write(tmp_path, "a.json", json.dumps([api_item("2501.00001", "Same Title"),
                                                           api_item("2502.00002", "Same Title")]))])
    assert db["papers"].count == 2


def test_a_page_seen_twice_in_one_digest_is_two_sightings_of_one_paper(db, tmp_path):
    ingest_all(db, [write(tmp_path, "a.json", json.dumps([api_item("2501.00001", "T"), api_item("2501.00001", "T")]))])
    assert (db["papers"].count, db["sightings"].count) == (1, 2)


def test_a_later_sighting_fills_in_what_the_paper_lacked(db, tmp_path):
    page = "byAK and the research community\n\nMar 11\n\nSome Paper Title\n"
    ingest_all(db, [write(tmp_path, "page.txt", page),
                    write(tmp_path, "api.json", json.dumps([api_item("2501.00009", "Some Paper Title")]))])
    [paper] = list(db.query("SELECT * FROM papers"))
    assert paper["arxiv_id"] == "2501.00009" and paper["abstract"].startswith("An abstract")
    assert json.loads(paper["authors"]) == ["A. Author"]
    store.update_search_index(db)
    assert list(db.query("SELECT * FROM papers_fts WHERE papers_fts MATCH 'abstract'"))


def test_full_text_search_finds_papers_by_abstract_words(db):
    ingest_all(db, [SEEDS])
    assert store.update_search_index(db) == 172
    hits = [r["title"] for r in db.query(
        "SELECT p.title FROM papers_fts JOIN papers p ON p.id = papers_fts.rowid WHERE papers_fts MATCH ?",
        ["DirectPred"])]
    assert hits == ["Understanding self-supervised Learning Dynamics without Contrastive Pairs"]


@pytest.mark.parametrize(
    "name,body,reason",
    [
        ("empty.txt", b"", "empty file"),
        ("blank.txt", b"\n  \n", "empty file"),
        ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 8, "binary file"),
        ("prose.txt", b"Dear diary,\n\nNothing here.\n", "unrecognised text"),
        ("cut.json", (HF_API / "2024-11-07.json").read_bytes()[:5000], "truncated"),
        ("odd.json", b'{"error": "Not Found"}', "without a list of papers"),
    ],
)
def test_bad_input_is_a_recorded_failure_and_nothing_else_changes(db, tmp_path, name, body, reason):
    ingest_all(db, [SEEDS])
    before = table_counts(db)
    result = ingest.ingest_file(db, write(tmp_path, name, body))
    assert result.status == "failed" and reason in result.error
    [failure] = list(db.query("SELECT * FROM failures"))
    assert failure["name"] == name and reason in failure["error"]
    assert table_counts(db) == dict(before, failures=1)


def test_a_failed_file_is_recorded_once_however_often_it_is_seen(db, tmp_path):
    bad = write(tmp_path, "bad.txt", b"Dear diary,\n\nNothing here.\n")
    for _ in range(3):
        ingest.ingest_file(db, bad)
    assert db["failures"].count == 1


def test_huge_files_are_refused_without_reading_them(db, tmp_path):
    huge = tmp_path / "huge.json"
    with open(huge, "wb") as f:
        f.truncate(ingest.formats.MAX_BYTES + 1)
    result = ingest.ingest_file(db, huge)
    assert result.status == "failed" and "too large" in result.error


def test_latin_1_text_is_ingested_with_its_accents(db, tmp_path):
    page = "byAK and the research community\n\nMar 11\n\nR\u00e9seaux de neurones pour la g\u00e9om\u00e9trie\n"
    result = ingest.ingest_file(db, write(tmp_path, "latin1.txt", page.encode("latin-1")))
    assert result.status == "ingested"
    assert db.execute("SELECT title FROM papers").fetchone()[0] == "Réseaux de neurones pour la géométrie"


def test_damaged_downloads_ingest_completely(db):
    results = ingest_all(db, [HF_API_ODD])
    assert {r.status for r in results} == {"ingested"}
    assert db["papers"].count == sum(r.entries for r in results)


def test_unreadable_files_are_recorded(db, tmp_path):
    folder = tmp_path / "not-a-file.json"
    folder.mkdir()
    result = ingest.ingest_file(db, folder)
    assert result.status == "failed" and "cannot read" in result.error


def test_partial_downloads_and_dotfiles_are_not_digests(tmp_path):
    for name in ("a.json", ".hidden.json", "b.json.crdownload", "c.part", "d.tmp", "e.txt~"):
        (tmp_path / name).write_text("x")
    assert [p.name for p in ingest.files_under([tmp_path])] == ["a.json"]


def test_marking_read_changes_the_status(db):
    ingest_all(db, [SEEDS])
    [answer] = lookup.lookup(db, [{"title": "Pointer Networks"}])
    assert store.mark_read(db, [answer["paper_id"], answer["paper_id"], 999999]) == 1
    [after] = lookup.lookup(db, [{"title": "pointer networks"}])
    assert after["status"] == "read" and after["read_at"]
    assert store.unmark_read(db, answer["paper_id"])
    assert lookup.lookup(db, [{"title": "Pointer Networks"}])[0]["status"] == "seen"


def test_a_fifo_is_refused_instead_of_blocking(db, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    result = ingest.ingest_file(db, fifo)
    assert result.status == "failed" and "not a regular file" in result.error


def test_undecodable_file_names_are_stored_readably(db, tmp_path):
    odd = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9.json"))
    odd.write_bytes((HF_API / "2025-07-07.json").read_bytes())
    result = ingest.ingest_file(db, odd)
    assert result.status == "ingested"
    assert db.execute("SELECT name FROM digests").fetchone()[0] == "caf\ufffd.json"


def test_a_file_with_absurdly_many_papers_is_not_a_digest(db, tmp_path):
    items = json.dumps([{"title": f"Paper {i}"} for i in range(10_001)])
    result = ingest.ingest_file(db, write(tmp_path, "flood.json", items))
    assert result.status == "failed" and "limit 10,000" in result.error
    assert db["papers"].count == 0


def test_deeply_nested_json_is_a_clear_error(db, tmp_path):
    result = ingest.ingest_file(db, write(tmp_path, "deep.json", "[" * 100_000 + "]" * 100_000))
    assert result.status == "failed" and "nested too deeply" in result.error


def test_hostile_megabyte_titles_are_cut_to_a_readable_length(db, tmp_path):
    result = ingest.ingest_file(db, write(tmp_path, "long.json", json.dumps([{"title": "<script>" + "A" * 1_000_000}])))
    assert result.status == "ingested"
    assert len(db.execute("SELECT title FROM papers").fetchone()[0]) == 1000


def search(db, words):
    return [r["id"] for r in db.query(
        "SELECT rowid AS id FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rowid", [words])]


def test_search_index_follows_papers_that_change_before_and_after_indexing(db, tmp_path):
    page = "byAK and the research community\n\nMar 11\n\nZebra Paper Title\n\nOkapi Paper Title\n"
    ingest_all(db, [write(tmp_path, "page.txt", page)])
    assert search(db, "zebra") == []  # queued, not indexed yet
    store.update_search_index(db)
    zebra, okapi = search(db, "zebra"), search(db, "okapi")
    # Indexed papers gain an abstract; then one changes again before the next indexing.
    ingest_all(db, [write(tmp_path, "api.json", json.dumps([
        api_item("2501.00001", "Zebra Paper Title", "Giraffes stand tall."),
        api_item("2501.00002", "Okapi Paper Title", "Hippos swim."),
    ]))])
    db.execute("UPDATE papers SET abstract = 'Hippos dive.' WHERE id = ?", okapi)
    store.update_search_index(db)
    assert (search(db, "giraffes"), search(db, "dive"), search(db, "swim")) == (zebra, okapi, [])
    db.execute("DELETE FROM sightings WHERE paper_id = ?", zebra)
    db.execute("DELETE FROM papers WHERE id = ?", zebra)
    assert search(db, "zebra") == []
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")


def test_the_search_index_is_whole_after_a_real_backfill(db):
    ingest_all(db, [SEEDS, HF_API, HF_API_ODD])
    store.update_search_index(db)
    assert db["search_pending"].count == 0
    db.execute("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')")
    assert db.execute("SELECT count(*) FROM papers_fts_docsize").fetchone()[0] == db["papers"].count


def test_a_database_error_is_raised_not_recorded_against_the_file(db, tmp_path):
    path = write(tmp_path, "day.json", json.dumps([api_item("2501.00001", "Fine Paper")]))
    other = store.open_db(tmp_path / "seenpapers.db")
    other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    db.execute("PRAGMA busy_timeout = 50")
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        ingest.ingest_file(db, path)
    other.execute("ROLLBACK")
    assert table_counts(db)["failures"] == 0  # nothing wrong with the file: the next try ingests it
    assert ingest.ingest_file(db, path).status == "ingested"


def test_a_transaction_inside_another_is_part_of_it(tmp_path):
    db = store.open_db(tmp_path / "seenpapers.db")

    def record(name):
        db.execute("INSERT INTO failures (sha256, name, error, failed_at) VALUES (?, ?, 'x', 'now')", [name, name])

    with store.write_transaction(db):  # what `seenpapers ingest` does around many files
        with store.write_transaction(db):
            record("written")
        assert db.conn.in_transaction  # not committed yet: the batch commits it
    assert db["failures"].count == 1
    with pytest.raises(RuntimeError), store.write_transaction(db):
        with store.write_transaction(db):
            record("first file")
        with store.write_transaction(db):
            record("second file")
            raise RuntimeError("a file fails half-way")
    assert [name for (name,) in db.execute("SELECT name FROM failures")] == ["written"]  # the batch undone whole


def test_a_file_that_cannot_be_written_is_undone_and_recorded_as_failed(db, tmp_path):
    refuse_title(db, "Refused Paper")
    path = write(tmp_path, "day.json", json.dumps([api_item("2501.00001", "Fine Paper"),
                                                   api_item("2501.00002", "Refused Paper")]))
    result = ingest.ingest_file(db, path)
    assert result.status == "failed"
    assert result.error == "internal error while writing: IntegrityError: refused by a test trigger"
    assert table_counts(db) == {"digests": 0, "papers": 0, "sightings": 0, "duplicates": 0, "reads": 0, "failures": 1}
    db.execute("DROP TRIGGER refuse")
    assert ingest.ingest_file(db, path).status == "ingested"  # tried again: in, and no longer a failure
    assert table_counts(db)["papers"] == 2 and table_counts(db)["failures"] == 0


def test_within_one_digest_a_retitled_copy_is_linked_to_the_entry_before_it(db, tmp_path):
    abstract = ("We introduce a benchmark of long-horizon agent tasks with verifiable outcomes and show that "
                "frontier models solve fewer than a third of them, failing mostly at planning and recovery.")
    [result] = ingest_all(db, [write(tmp_path, "day.json", json.dumps([
        api_item("2501.00001", "Horizon: Long Agent Tasks with Verifiable Outcomes", abstract),
        api_item("2501.00002", "Long Agent Tasks with Verifiable Outcomes", abstract),  # re-posted, retitled
        api_item("2501.00001", "Horizon: Long Agent Tasks with Verifiable Outcomes", abstract),  # shown again
    ]))])
    assert (result.new_papers, result.seen_again, result.duplicates) == (2, 1, 1)
    [(paper, original)] = db.execute("SELECT p.arxiv_id, o.arxiv_id FROM duplicates d JOIN papers p ON p.id = d.paper_id"
                                     " JOIN papers o ON o.id = d.duplicate_of").fetchall()
    assert (paper, original) == ("2501.00002", "2501.00001")  # the later one is the duplicate


def entries_of(files):
    return [item for f in files for item in json.loads(f.read_text(encoding="utf-8"))]


def history(db):
    """What ingest decided, without digest ids and times: papers, sightings, duplicates."""
    return (
        db.execute("SELECT id, arxiv_id, title, title_key, abstract, authors FROM papers ORDER BY id").fetchall(),
        db.execute("SELECT paper_id, title, abstract FROM sightings ORDER BY digest_id, position").fetchall(),
        db.execute("SELECT paper_id, duplicate_of, similarity, reason FROM duplicates ORDER BY paper_id").fetchall(),
        db.execute("SELECT key, paper_id FROM match_keys ORDER BY key, paper_id").fetchall(),
    )


def test_a_digest_written_at_once_decides_as_its_entries_written_one_by_one(tmp_path):
    # Real days of Hugging Face papers, every seventh shown again: one file holding all of
    # them must give the same papers, sightings and duplicates as one file per entry.
    items = entries_of(sorted(HF_API.glob("*.json")) + sorted(HF_API_ODD.glob("*.json"))[:6])
    items += items[::7]
    one_file = store.open_db(tmp_path / "one.db")
    ingest_all(one_file, [write(tmp_path, "all.json", json.dumps(items))])
    each = store.open_db(tmp_path / "each.db")
    folder = tmp_path / "each"
    folder.mkdir()
    # (n makes each file's bytes differ: the same bytes twice are one digest)
    ingest_all(each, [write(folder, f"{n:04d}.json", json.dumps({"dailyPapers": [item], "n": n})) for n, item in enumerate(items)])
    assert history(one_file) == history(each)
    assert one_file["sightings"].count == len(items) > one_file["papers"].count  # some were seen again
