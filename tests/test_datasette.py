"""Datasette over a real database file, in process (Datasette's own test client): what a
person asking questions of their history finds. The daemon side, over real HTTP, is in
test_explore.py."""

import json
import sqlite3
from datetime import date, datetime, timezone
from pathlib import Path

import datasette_dashboards
import pytest

from seenpapers import datasette_plugin, explore, ingest, store

from .conftest import FIXTURES, copy_with_mtime

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "daemon" / "seenpapers" / "samples"
REAL = {p["arxiv_id"]: p for p in json.loads((FIXTURES / "dedup" / "real-pairs.json").read_text(encoding="utf-8"))}
MATRYOSHKA = "Matryoshka Representation Learning"
MATRYOSHKA_ID = "2205.13147"


def hf_api_digest(folder: Path, day: str, *papers: dict) -> Path:
    """A Hugging Face API digest named by its day, as the daily-papers endpoint gives it."""
    items = [{"paper": {"id": p["arxiv_id"], "title": p["title"], "summary": p.get("abstract", "")}, "title": p["title"]}
             for p in papers]
    path = folder / f"{day}.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def history(tmp_path_factory):
    """The five sample digests (dated as if saved on 2026-03-20), then two API digests: one
    gives Matryoshka Representation Learning its arXiv id and brings a paper, the next a
    re-post of that paper under a new title and id (a duplicate). Two papers are read."""
    tmp = tmp_path_factory.mktemp("history")
    digests = tmp / "digests"
    for sample in sorted(SAMPLES.glob("*.txt")):
        copy_with_mtime(sample, digests, "2026-03-20T12:00:00")
    files = sorted(digests.glob("*.txt"))
    files.append(hf_api_digest(digests, "2026-03-18", REAL["2503.23402"],
                               {"arxiv_id": MATRYOSHKA_ID, "title": MATRYOSHKA}))
    files.append(hf_api_digest(digests, "2026-03-20", REAL["2507.13739"]))
    path = tmp / "data" / "seenpapers.db"
    db = store.open_db(path)
    for file in files:
        assert ingest.ingest_file(db, file).status == "ingested"
    store.update_search_index(db)
    ids = {title: pid for pid, title in db.execute("SELECT id, title FROM papers")}
    store.mark_read(db, [ids["2D Matryoshka Sentence Embeddings"], ids[REAL["2503.23402"]["title"]]])
    db.close()  # Datasette alone on the file, as `seenpapers explore` with no daemon running
    return path


@pytest.fixture
def ds(history):
    return explore.datasette(history)


def raw(path: Path):
    """The same file through plain SQLite, to compute what Datasette should answer."""
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True)


async def get_json(ds, path: str):
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


async def query(ds, name: str, **params) -> list[dict]:
    qs = "&".join(f"{k}={v}" for k, v in params.items())
    return await get_json(ds, f"/seenpapers/{name}.json?_shape=array&{qs}")


# --- metadata, tables --------------------------------------------------------------------


async def test_metadata_is_served_and_describes_every_table_view_and_column(ds, history):
    served = await get_json(ds, "/-/metadata.json")
    assert served == explore.load_metadata()
    assert served["title"] == "seenpapers" and served["description_html"]
    tables = served["databases"]["seenpapers"]["tables"]
    conn = raw(history)
    names = [n for (n,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%'"
        " AND name NOT LIKE 'papers_fts_%'")]
    assert {"paper_history", "digest_history", "digests", "papers", "sightings", "duplicates", "reads"} <= set(names)
    for name in names:
        assert tables[name]["description"], name
        columns = [c[1] for c in conn.execute(f"PRAGMA table_info([{name}])")]
        assert set(columns) == set(tables[name]["columns"]), name
        assert all(tables[name]["columns"].values()), name


def test_the_installed_package_carries_the_same_metadata_as_the_top_level_file():
    packaged = ROOT / "daemon" / "seenpapers" / "datasette_metadata.json"
    assert packaged.read_bytes() == (ROOT / "datasette_metadata.json").read_bytes(), (
        "the packaged copy differs: cp datasette_metadata.json daemon/seenpapers/")
    assert "datasette_metadata.json" in (ROOT / "pyproject.toml").read_text()
    assert explore.load_metadata(explore.PACKAGED_METADATA) == explore.load_metadata()


async def test_tables_and_views_are_listed_and_the_matchers_index_is_hidden(ds):
    listing = await get_json(ds, "/seenpapers.json")
    tables = {t["name"]: t for t in listing["tables"]}
    for name in ("digests", "papers", "sightings", "duplicates", "reads", "failures"):
        assert not tables[name]["hidden"], name
    for name in ("match_keys", "match_shingles", "search_pending", "_counts", "_sqlite_migrations"):
        assert tables[name]["hidden"], name
    assert tables["papers"]["count"] == 174 and tables["digests"]["count"] == 7
    assert {v["name"] for v in listing["views"]} == {"paper_history", "digest_history"}
    assert {q["name"] for q in listing["queries"]} >= {
        "shown_often_never_read", "new_in_last_days", "duplicate_pairs", "about_topic", "digests_over_time", "reading_log"}


async def test_foreign_keys_read_as_titles_and_digest_names(ds, history):
    matryoshka = raw(history).execute("SELECT id FROM papers WHERE title = ?", [MATRYOSHKA]).fetchone()[0]
    rows = await get_json(ds, f"/seenpapers/sightings.json?_shape=array&_labels=on&paper_id={matryoshka}")
    assert len(rows) == 6
    assert {r["paper_id"]["label"] for r in rows} == {MATRYOSHKA}
    assert {r["digest_id"]["label"] for r in rows} >= {"001_19abc27bf335d619.txt", "2026-03-18.json"}
    facet = (await get_json(ds, "/seenpapers/sightings.json"))["facet_results"]["digest_id"]["results"]
    assert {f["label"]: f["count"] for f in facet}["004_3a77ad475cd25961.txt"] == 65


async def test_paper_history_facets_by_status_and_month_first_seen(ds):
    facets = (await get_json(ds, "/seenpapers/paper_history.json"))["facet_results"]
    assert {f["value"]: f["count"] for f in facets["status"]["results"]} == {"seen": 171, "read": 2, "duplicate": 1}
    assert {f["value"]: f["count"] for f in facets["month_first_seen"]["results"]} == {"2026-03": 139, "2025-12": 35}


async def test_search_finds_matryoshka_in_papers_and_in_paper_history(ds):
    titles = {"Matryoshka Representation Learning", "2D Matryoshka Sentence Embeddings",
              "Starbucks: Improved Training for 2D Matryoshka Embeddings"}
    papers = await get_json(ds, "/seenpapers/papers.json?_search=Matryoshka&_shape=array")
    assert {r["title"] for r in papers} == titles
    history = await get_json(ds, "/seenpapers/paper_history.json?_search=matryoshka&_shape=array")
    assert {r["title"]: r["times_seen"] for r in history} == {
        "Matryoshka Representation Learning": 6, "2D Matryoshka Sentence Embeddings": 4,
        "Starbucks: Improved Training for 2D Matryoshka Embeddings": 1}


# --- canned queries ----------------------------------------------------------------------


async def test_every_canned_query_is_read_only_documented_and_runs(ds):
    queries = explore.load_metadata()["databases"]["seenpapers"]["queries"]
    assert len(queries) >= 5
    for name, canned in queries.items():
        assert canned["title"] and canned["description"] and not canned.get("write"), name
        body = await get_json(ds, f"/seenpapers/{name}.json")
        assert body["ok"] and "rows" in body, name


async def test_shown_often_never_read_lists_papers_in_several_digests_not_read(ds, history):
    conn = raw(history)
    expected = [title for title, in conn.execute(
        "SELECT p.title FROM papers p JOIN sightings s ON s.paper_id = p.id"
        " WHERE p.id NOT IN (SELECT paper_id FROM reads)"
        " GROUP BY p.id HAVING count(DISTINCT s.digest_id) >= 4")]
    rows = await query(ds, "shown_often_never_read", min_digests=4)
    assert sorted(r["title"] for r in rows) == sorted(expected)
    assert rows[0]["title"] == MATRYOSHKA and rows[0]["digests"] == 6  # the most shown first
    assert "2D Matryoshka Sentence Embeddings" not in {r["title"] for r in rows}  # shown 4 times, but read
    assert all(r["digests"] >= 4 for r in rows)
    default = await query(ds, "shown_often_never_read")
    assert min(r["digests"] for r in default) == 3 and len(default) > len(rows)


async def test_new_in_last_days_lists_papers_first_seen_since_then(ds, history):
    days = (datetime.now(timezone.utc).date() - date(2026, 3, 13)).days  # since 2026-03-13
    expected = {title for title, in raw(history).execute(
        "SELECT p.title FROM papers p JOIN sightings s ON s.paper_id = p.id JOIN digests d ON d.id = s.digest_id"
        " GROUP BY p.id HAVING min(d.date) >= '2026-03-13'")}
    rows = await query(ds, "new_in_last_days", days=days)
    assert {r["title"] for r in rows} == expected and len(rows) == 58
    assert {r["first_seen"] for r in rows} == {"2026-03-13", "2026-03-14", "2026-03-18", "2026-03-20"}
    assert rows[0]["first_seen"] == "2026-03-20"
    assert [r["title"] for r in await query(ds, "new_in_last_days", days=days - 7)] == [REAL["2507.13739"]["title"]]
    assert await query(ds, "new_in_last_days", days=days - 8) == []  # since 2026-03-21


async def test_duplicate_pairs_show_both_titles_similarity_and_reason(ds):
    rows = await query(ds, "duplicate_pairs")
    assert len(rows) == 1
    pair = rows[0]
    assert pair["title"] == REAL["2507.13739"]["title"]
    assert pair["duplicate_of_title"] == REAL["2503.23402"]["title"] == "Diffusion Meets Few-shot Class Incremental Learning"
    assert 0 < pair["similarity"] <= 1 and "same abstract" in pair["reason"] and pair["found_at"]
    assert await query(ds, "duplicate_pairs", since=pair["found_at"][:10]) == rows
    assert await query(ds, "duplicate_pairs", since="2999-01-01") == []


async def test_about_topic_finds_everything_seen_on_a_topic(ds):
    rows = await query(ds, "about_topic", topic="Matryoshka")
    assert {r["title"]: (r["status"], r["times_seen"]) for r in rows} == {
        "Matryoshka Representation Learning": ("seen", 6),
        "2D Matryoshka Sentence Embeddings": ("read", 4),
        "Starbucks: Improved Training for 2D Matryoshka Embeddings": ("seen", 1),
    }
    two_words = await query(ds, "about_topic", topic="matryoshka%20embeddings")  # stemmed: "embedding(s)"
    assert {r["title"] for r in two_words} >= {"2D Matryoshka Sentence Embeddings",
                                               "Starbucks: Improved Training for 2D Matryoshka Embeddings"}
    assert all("atryoshka" in r["title"] or r["title"] == MATRYOSHKA for r in two_words)
    assert await query(ds, "about_topic", topic="") == []
    assert await query(ds, "about_topic", topic="%22Matryoshka") != []  # a stray quote is no syntax error


async def test_digests_over_time_count_new_and_seen_again_papers(ds):
    rows = await query(ds, "digests_over_time")
    assert [(r["date"], r["name"], r["papers"], r["new_papers"], r["seen_again"], r["duplicates"]) for r in rows] == [
        ("2025-12-11", "001_19abc27bf335d619.txt", 35, 35, 0, 0),
        ("2026-03-11", "000_be2405954437598b.txt", 46, 34, 12, 0),
        ("2026-03-11", "004_3a77ad475cd25961.txt", 65, 47, 18, 0),
        ("2026-03-13", "003_5fcda699d96b63a4.txt", 45, 23, 22, 0),
        ("2026-03-14", "002_1b60d9b1a3c1c899.txt", 48, 33, 15, 0),
        ("2026-03-18", "2026-03-18.json", 2, 1, 1, 0),
        ("2026-03-20", "2026-03-20.json", 1, 1, 0, 1),
    ]
    assert sum(r["new_papers"] for r in rows) == 174  # every paper is new once


async def test_reading_log_lists_what_was_read_and_when(ds, history):
    reads = dict(raw(history).execute("SELECT p.title, r.read_at FROM reads r JOIN papers p ON p.id = r.paper_id"))
    rows = await query(ds, "reading_log")
    assert {r["title"]: r["read_at"] for r in rows} == reads
    by_title = {r["title"]: r for r in rows}
    sentence = by_title["2D Matryoshka Sentence Embeddings"]
    assert (sentence["times_seen"], sentence["first_seen"], sentence["last_seen"]) == (4, "2025-12-11", "2026-03-14")
    assert sentence["days_to_read"] == (date.fromisoformat(sentence["read_at"][:10]) - date(2025, 12, 11)).days


# --- links, charts, read-only ------------------------------------------------------------


async def test_paper_rows_link_to_hugging_face_arxiv_and_their_sightings(ds, history):
    conn = raw(history)
    matryoshka = conn.execute("SELECT id FROM papers WHERE title = ?", [MATRYOSHKA]).fetchone()[0]
    page = (await ds.client.get(f"/seenpapers/papers/{matryoshka}")).text
    assert f'href="https://huggingface.co/papers/{MATRYOSHKA_ID}"' in page
    assert f'href="https://arxiv.org/abs/{MATRYOSHKA_ID}"' in page
    assert f'href="/seenpapers/sightings?paper_id={matryoshka}"' in page
    # A paper known only by its title links to a title search on both sites.
    starbucks = conn.execute("SELECT id FROM papers WHERE title LIKE 'Starbucks%'").fetchone()[0]
    page = (await ds.client.get(f"/seenpapers/papers/{starbucks}")).text
    assert 'href="https://huggingface.co/papers?q=Starbucks%3A+Improved+Training+for+2D+Matryoshka+Embeddings"' in page
    assert 'href="https://arxiv.org/search/?searchtype=title&amp;query=Starbucks%3A+Improved' in page
    # paper_history carries the same addresses as columns, for JSON and CSV too.
    row = await get_json(ds, f"/seenpapers/paper_history.json?_shape=array&paper_id={matryoshka}")
    assert (row[0]["hf_url"], row[0]["arxiv_url"]) == tuple(datasette_plugin.paper_links(MATRYOSHKA_ID, MATRYOSHKA).values())
    # Canned queries link each paper to its row.
    page = (await ds.client.get("/seenpapers/shown_often_never_read?min_digests=6")).text
    assert f'<a href="/seenpapers/papers/{matryoshka}">{MATRYOSHKA}</a>' in page


async def test_charts_load_their_scripts_from_the_package_and_their_queries_run(ds):
    page = await ds.client.get("/-/dashboards/history")
    assert page.status_code == 200 and "Your reading history" in page.text
    for script in ("vega.min.js", "vega-lite.min.js", "vega-embed.min.js", "dashboards.js"):
        src = f"/-/static-plugins/datasette_dashboards/{script}"
        assert src in page.text
        assert (await ds.client.get(src)).status_code == 200
    assert "cdn" not in page.text.lower()
    charts = explore.load_metadata()["plugins"]["datasette-dashboards"]["history"]["charts"]
    assert {"new-vs-seen-again", "papers-per-digest"} <= set(charts)
    for name, chart in charts.items():
        # What the page's script asks for: the chart's SQL, with the unused filters dropped.
        sql = datasette_dashboards.replace_opts_in_query(chart["query"], {})
        rows = (await ds.client.get("/seenpapers.json", params={"sql": sql, "_shape": "objects"})).json()["rows"]
        assert rows, name
    per_day = (await ds.client.get("/seenpapers.json", params={
        "sql": datasette_dashboards.replace_opts_in_query(charts["new-vs-seen-again"]["query"], {"date_start": "x"}),
        "date_start": "2026-03-14", "_shape": "array"})).json()
    assert per_day == [{"date": "2026-03-14", "new": 33, "seen again": 15},
                       {"date": "2026-03-18", "new": 1, "seen again": 1},
                       {"date": "2026-03-20", "new": 1, "seen again": 0}]


async def test_datasette_refuses_every_write(ds, history):
    before = raw(history).execute("SELECT count(*) FROM reads").fetchone()[0]
    for sql in ("DELETE FROM reads", "INSERT INTO reads (paper_id, read_at) VALUES (1, 'x')",
                "UPDATE papers SET title = 'x'", "DROP VIEW paper_history"):
        response = await ds.client.get("/seenpapers.json", params={"sql": sql})
        assert response.status_code == 400, sql
    response = await ds.client.post("/seenpapers/reading_log", data={})
    assert response.status_code != 200
    # Even a plugin asking Datasette for its write connection cannot write.
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await ds.get_database("seenpapers").execute_write("DELETE FROM reads")
    assert raw(history).execute("SELECT count(*) FROM reads").fetchone()[0] == before == 2


async def test_datasette_wants_the_database_file_under_its_own_name(tmp_path):
    with pytest.raises(ValueError, match="seenpapers.db"):
        explore.datasette(tmp_path / "other.db")


# --- the views' migration ----------------------------------------------------------------


def test_an_older_database_gets_the_history_views_when_opened(tmp_path, history):
    path = tmp_path / "old.db"
    path.write_bytes(history.read_bytes())
    db = store.open_db(path)  # back to what m002 left
    db.execute("DROP VIEW paper_history")
    db.execute("DROP VIEW digest_history")
    db.execute("DELETE FROM _sqlite_migrations WHERE name = 'm003_history_views'")
    db.conn.commit()
    db.close()
    db = store.open_db(path)
    assert db.execute("SELECT count(*), sum(status = 'read') FROM paper_history").fetchone() == (174, 2)
    assert db.execute("SELECT sum(new_papers), sum(seen_again) FROM digest_history").fetchone() == (174, 68)
    db.close()


# --- visits: what was on screen --------------------------------------------------------------

VISITS = FIXTURES / "visits"


@pytest.fixture(scope="module")
def visits_db(tmp_path_factory):
    """A Hugging Face API digest (of other papers), then four visits the extension recorded:
    ReLearn's Hugging Face page on Monday 2026-11-30; on Tuesday 2026-12-01 the daily page of
    2025-02-18 in two parts (ReLearn among its papers) and, later, SWE-Lancer's arXiv page
    (SWE-Lancer was on the daily page)."""
    path = tmp_path_factory.mktemp("visits") / "seenpapers.db"
    db = store.open_db(path)
    for file in [FIXTURES / "hf-api" / "2024-05-27.json", *sorted(VISITS.glob("*.json"))]:
        assert ingest.ingest_file(db, file).status == "ingested"
    db.close()
    return path


@pytest.fixture
def ds_visits(visits_db):
    return explore.datasette(visits_db)


def visit_papers(name: str) -> list[tuple]:
    sent = json.loads((VISITS / name).read_text(encoding="utf-8"))
    return [(sent["page"], len(sent["papers"]), n, p["title"], p["arxiv_id"]) for n, p in enumerate(sent["papers"], 1)]


def local_time(conn, utc: str) -> str:
    return conn.execute("SELECT time(?, 'localtime')", [utc]).fetchone()[0]


async def test_visits_on_day_lists_that_days_visits_latest_first_with_their_papers(ds_visits, visits_db):
    rows = await query(ds_visits, "visits_on_day", day="2026-12-01")
    [abs_page] = VISITS.glob("visit_arxiv.org_*.json")
    part_1, part_2 = sorted(VISITS.glob("visit_huggingface.co_papers_date_*.json"))
    assert [(r["page"], r["papers"], r["position"], r["title"], r["arxiv_id"]) for r in rows] == (
        visit_papers(abs_page.name) + visit_papers(part_1.name) + visit_papers(part_2.name))
    conn = raw(visits_db)
    assert [r["time"] for r in rows] == [local_time(conn, "2026-12-01T14:02:00Z")] + [
        local_time(conn, "2026-12-01T09:15:00Z")] * 8
    ids = dict(conn.execute("SELECT name, id FROM digests"))
    assert [r["digest_id"] for r in rows] == [ids[abs_page.name]] + [ids[part_1.name]] * 5 + [ids[part_2.name]] * 3
    assert rows[0]["hf_url"] == "https://huggingface.co/papers/2502.12115"
    assert rows[0]["arxiv_url"] == "https://arxiv.org/abs/2502.12115"
    [monday] = await query(ds_visits, "visits_on_day", day="2026-11-30")
    assert (monday["title"], monday["page"]) == ("ReLearn: Unlearning via Learning for Large Language Models",
                                                 "https://huggingface.co/papers/2502.11190")
    assert await query(ds_visits, "visits_on_day", day="2024-05-27") == []  # the API digest is no visit
    assert await query(ds_visits, "visits_on_day", day="2026-12-02") == []


async def test_visits_on_day_links_each_paper_to_its_row(ds_visits, visits_db):
    paper = raw(visits_db).execute("SELECT id FROM papers WHERE arxiv_id = '2502.11190'").fetchone()[0]
    page = (await ds_visits.client.get("/seenpapers/visits_on_day?day=2026-11-30")).text
    assert f'<a href="/seenpapers/papers/{paper}">ReLearn: Unlearning via Learning for Large Language Models</a>' in page
    assert 'href="https://huggingface.co/papers/2502.11190"' in page


async def test_recent_visits_lists_each_visit_with_how_many_papers_had_reached_you_before(ds_visits):
    days = (date.today() - date(2026, 11, 30)).days  # since Monday 2026-11-30 (local time)
    rows = await query(ds_visits, "recent_visits", days=days)
    assert [(r["date"], r["page"], r["papers"], r["seen_before"]) for r in rows] == [
        ("2026-12-01", "https://arxiv.org/abs/2502.12115", 1, 1),  # ingested first, but visited after the daily page
        ("2026-12-01", "https://huggingface.co/papers/date/2025-02-18", 3, 0),  # part 2
        ("2026-12-01", "https://huggingface.co/papers/date/2025-02-18", 5, 1),  # ReLearn, visited on Monday
        ("2026-11-30", "https://huggingface.co/papers/2502.11190", 1, 0),
    ]
    assert [r["date"] for r in await query(ds_visits, "recent_visits", days=days - 1)] == ["2026-12-01"] * 3
    listing = await get_json(ds_visits, "/seenpapers.json")
    assert {"visits_on_day", "recent_visits"} <= {q["name"] for q in listing["queries"]}


async def test_digests_facet_by_kind(ds_visits):
    facets = (await get_json(ds_visits, "/seenpapers/digests.json"))["facet_results"]
    assert {f["value"]: f["count"] for f in facets["kind"]["results"]} == {"visit": 4, "digest": 1}
