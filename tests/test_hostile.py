"""Hostile content end to end: titles, abstracts and file names made to break a page, a query
or a terminal go through the real daemon (a file dropped in the inbox, a capture posted like
the extension's) and come out as the same text in SQLite, the API, Datasette and the CLI.

"The same text" is the display text every entry gets (entry.Entry): control and zero-width
characters dropped, spaces collapsed, titles cut at 1,000 characters. Nothing else is
changed, escaped or interpreted on the way in; each surface escapes for itself on the way out.
The extension's side (badges set as text) is in test_extension.py.
"""

import html
import json
import os
import sqlite3
import subprocess
import urllib.parse
import urllib.request

import pytest

from seenpapers.entry import MAX_TITLE, Entry

from .conftest import SEENPAPERS, Daemon, _table_counts

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"
HOSTILE = {  # arXiv id: title
    "2501.00001": f"{SCRIPT} Attention Is All You Need Again",
    "2501.00002": f"{IMG} Scaling Laws for Image Tags",
    "2501.00003": "Robert'); DROP TABLE papers;-- Learning to Sanitize Inputs",
    "2501.00004": "\" OR 1=1 -- UNION SELECT token FROM secrets; A Survey",
    "2501.00005": "\u202eالتعلم العميق \u05dc\u05de\u05d9\u05d3\u05d4 \u05e2\u05de\u05d5\u05e7\u05d4 for Right-to-Left Scripts",
    "2501.00006": "Zero\u200bWidth\u200d Joiners\ufeff and\u2060 Invisible Marks",
    "2501.00007": "[bold red]Rich[/] markup [/] and {{7*7}} ${7*7} %s %n {0} Templates",
    "2501.00008": "A Very Long Title " + "about everything " * 6000,  # 100 kB
}
LONG = "2501.00008"
# What the extension captures from a page: its visible text. Same titles, other ids.
CAPTURED = [f"{SCRIPT} Captured Pages Stay Text", f"{IMG} And So Do Their Images",
            "'; DELETE FROM digests WHERE '1'='1 Captured", "\u05e2\u05d1\u05e8\u05d9\u05ea\u200f Captured RTL"]
BAD_NAME = f"{IMG} [bold red]broken.txt"  # no "/" in a file name
GOOD_NAME = f"{IMG} [red]day 2025-01-06.json"
ABSTRACT = f"{SCRIPT} An abstract with {IMG} and '; DROP TABLE x;-- in it."
RAW = (SCRIPT, IMG)  # never in any HTML page as markup


def shown(title: str) -> str:
    """The display text a title is stored and answered as."""
    return Entry(title).title


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    running = Daemon(tmp_path_factory.mktemp("hostile") / "data", datasette=True)
    items = [{"paper": {"id": i, "title": t, "authors": [{"name": IMG}]}, "title": t} for i, t in HOSTILE.items()]
    items[0]["paper"]["summary"] = ABSTRACT  # one only: the same abstract twice is a duplicate
    (running.inbox / GOOD_NAME).write_text(json.dumps(items), encoding="utf-8")
    (running.inbox / BAD_NAME).write_bytes(b"\x00\x01binary")
    page = "Daily Papers\n\nbyAK and the research community\n\nJan 6\n\n" + "\n\n".join(
        f"{t}\n\n\u2022 3 authors\n\u00b7\nJan 5, 2025 7" for t in CAPTURED) + "\n"
    status, _, body = running.request("POST", "/api/v1/digests?name=capture.txt", raw=page.encode(),
                                      content_type="text/plain")
    assert status == 202, body
    running.wait_idle(digests=2, failures=1)
    running.wait_for(lambda: _search_indexed(running), what="the search index")
    yield running
    running.stop()


def _search_indexed(running) -> bool:
    conn = sqlite3.connect(f"file:{running.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM search_pending").fetchone()[0] == 0
    finally:
        conn.close()


def stored(running) -> dict:
    conn = sqlite3.connect(f"file:{running.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    try:
        return {title: (pid, arxiv_id, abstract, authors)
                for pid, title, arxiv_id, abstract, authors in conn.execute(
                    "SELECT id, title, arxiv_id, abstract, authors FROM papers")}
    finally:
        conn.close()


def page(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_hostile_titles_are_stored_as_written(hostile):
    papers = stored(hostile)
    assert set(papers) == {shown(t) for t in [*HOSTILE.values(), *CAPTURED]}
    # Only the documented clean-up: markup, quotes, SQL and RTL letters untouched ...
    for arxiv_id, title in HOSTILE.items():
        if arxiv_id not in (LONG, "2501.00006"):
            assert shown(title) == " ".join(title.split()) and shown(title) in papers
    assert shown(HOSTILE["2501.00006"]) == "ZeroWidth Joiners and\u2060 Invisible Marks"  # zero-width marks out
    # ... and a 100 kB title cut to a readable length, whole words of it kept as they were.
    long_title = shown(HOSTILE[LONG])
    assert len(HOSTILE[LONG]) > 100_000 and len(long_title) == MAX_TITLE
    assert HOSTILE[LONG].startswith(long_title)
    _, _, abstract, authors = papers[shown(HOSTILE["2501.00001"])]
    assert abstract == ABSTRACT
    assert json.loads(authors) == [IMG]


def test_sql_looking_titles_change_nothing_else(hostile):
    counts = _table_counts(hostile.data_dir / "seenpapers.db")
    assert counts == {"digests": 2, "papers": len(HOSTILE) + len(CAPTURED),
                      "sightings": len(HOSTILE) + len(CAPTURED), "duplicates": 0, "reads": 0, "failures": 1}
    results = hostile.lookup("x' OR '1'='1", "'; DROP TABLE papers;--", "\" OR \"\"=\"")
    assert [r["status"] for r in results] == ["new", "new", "new"]
    assert _table_counts(hostile.data_dir / "seenpapers.db") == counts


def test_the_api_answers_hostile_titles_verbatim_as_json(hostile):
    titles = [t for i, t in HOSTILE.items() if i != LONG] + CAPTURED
    status, headers, body = hostile.request("POST", "/api/v1/lookup", {"papers": [{"title": t} for t in titles]})
    assert status == 200 and headers["Content-Type"].startswith("application/json")
    assert [(r["status"], r["title"]) for r in body["results"]] == [("seen", shown(t)) for t in titles]
    paper_id = body["results"][0]["paper_id"]
    status, _, paper = hostile.request("GET", f"/api/v1/papers/{paper_id}")
    assert paper["title"] == shown(HOSTILE["2501.00001"]) and paper["authors"] == [IMG]
    assert [(s["digest_name"], s["title"]) for s in paper["sightings"]] == [(GOOD_NAME, shown(HOSTILE["2501.00001"]))]
    # The long one by its id; asked about by its whole title, a clear refusal of the size.
    [by_id] = hostile.request("POST", "/api/v1/lookup", {"papers": [{"title": "", "arxiv_id": LONG}]})[2]["results"]
    assert by_id["status"] == "seen" and by_id["title"] == shown(HOSTILE[LONG])
    status, _, error = hostile.request("POST", "/api/v1/lookup", {"papers": [{"title": HOSTILE[LONG]}]})
    assert (status, error["error"]["code"]) == (413, "too_large")
    assert hostile.health()["status"] == "ok"


def test_a_hostile_file_name_is_recorded_as_written(hostile):
    conn = sqlite3.connect(f"file:{hostile.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    try:
        assert conn.execute("SELECT name FROM failures").fetchall() == [(BAD_NAME,)]
        assert (GOOD_NAME,) in conn.execute("SELECT name FROM digests").fetchall()
    finally:
        conn.close()
    [result] = hostile.lookup(HOSTILE["2501.00002"])
    assert [d["name"] for d in result["digests"]] == [GOOD_NAME]


def datasette_pages(running) -> list[str]:
    papers = stored(running)
    base = f"{running.datasette_url}/seenpapers"
    ids = [papers[shown(t)][0] for t in (HOSTILE["2501.00001"], HOSTILE["2501.00002"], CAPTURED[0])]
    return [
        *(f"{base}/papers/{i}" for i in ids),
        f"{base}/papers",
        f"{base}/papers?_search=alert",
        f"{base}/sightings?paper_id={ids[0]}",
        f"{base}/digests",
        f"{base}/failures",
        f"{base}/paper_history",
        f"{base}/about_topic?topic=alert",
        f"{base}/shown_often_never_read?min_digests=1",
        f"{base}/new_in_last_days?days=100000",
        f"{base}/duplicate_pairs?since=2000-01-01",
        f"{base}?sql=" + urllib.parse.quote("select title, abstract from papers"),
    ]


def test_datasette_shows_hostile_titles_as_text_on_every_page(hostile):
    for url in datasette_pages(hostile):
        status, text = page(url)
        assert status == 200, (url, text[:300])
        for raw in RAW:
            assert raw not in text, f"{raw} unescaped in {url}"
    _, row = page(datasette_pages(hostile)[0])
    assert html.escape(SCRIPT, quote=False) in row or html.escape(SCRIPT) in row
    _, failures = page(f"{hostile.datasette_url}/seenpapers/failures")
    assert "&lt;img src=x onerror=alert(2)&gt; [bold red]broken.txt" in failures


def test_datasette_json_gives_hostile_titles_verbatim(hostile):
    status, text = page(f"{hostile.datasette_url}/seenpapers/papers.json?_shape=array&_size=max")
    assert status == 200
    assert {r["title"] for r in json.loads(text)} == set(stored(hostile))


def test_the_cli_prints_hostile_titles_as_text(hostile):
    titles = [HOSTILE["2501.00007"], HOSTILE["2501.00001"], HOSTILE["2501.00005"]]
    done = subprocess.run([SEENPAPERS, "lookup", "--data-dir", str(hostile.data_dir), "--json", *titles],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert [r["title"] for r in json.loads(done.stdout)["results"]] == [shown(t) for t in titles]
    # The table: rich markup in a title is text too (it used to be read as markup, "[/]" crashed it).
    done = subprocess.run([SEENPAPERS, "lookup", "--data-dir", str(hostile.data_dir), HOSTILE["2501.00007"]],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "400"})
    assert done.returncode == 0, done.stderr
    assert shown(HOSTILE["2501.00007"]) in done.stdout and GOOD_NAME in done.stdout
