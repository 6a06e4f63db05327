"""DOIs as identity beside arXiv ids and titles, versions and cuts kept on sightings, and
empty but well-formed digests recorded as digests of none."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import datetime

import pytest
from click.testing import CliRunner

from seenpapers import formats, ingest, lookup, matcher, store, text
from seenpapers.cli import cli
from seenpapers.entry import Entry, ParsedDigest

from .conftest import FIXTURES, Daemon

MTIME = datetime(2025, 2, 1, 12, 0)
# The prolog arXiv served its pages with until its HTML5 templates, as a public crawl of
# arxiv.org captured it on 2024-10-18 (see tests/fixtures/README.md).
XHTML_PROLOG = ('<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"'
                ' "http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
                '<html xmlns="http://www.w3.org/1999/xhtml" lang="en" xml:lang="en">\n')


@pytest.mark.parametrize("shown,doi", [
    ("10.1038/S41586-024-07000-1", "10.1038/s41586-024-07000-1"),
    ("doi:10.1038/s41586-024-07000-1.", "10.1038/s41586-024-07000-1"),
    ("DOI: 10.1016/j.cell.2024.01.001;", "10.1016/j.cell.2024.01.001"),
    ("https://doi.org/10.1161/CIRCULATIONAHA.123.065000", "10.1161/circulationaha.123.065000"),
    ("http://dx.doi.org/10.1161%2FCIRCULATIONAHA.123.065000", "10.1161/circulationaha.123.065000"),
    ("(see https://doi.org/10.1093/nar/gkad1000)", "10.1093/nar/gkad1000"),
    ("https://www.biorxiv.org/content/10.1101/2024.01.10.574000v2.full", "10.1101/2024.01.10.574000"),
    ("https://www.medrxiv.org/content/10.1101/2024.01.10.24301000v1?rss=1", "10.1101/2024.01.10.24301000"),
    ("doi:10.1101/2024.01.10.574000", "10.1101/2024.01.10.574000"),
    ("https://arxiv.org/abs/2501.01234", None),
    ("https://huggingface.co/papers/2310.06825", None),
    ("10.1234/", None),
    ("", None),
])
def test_a_doi_is_normalised_however_it_is_written(shown, doi):
    assert text.doi(shown) == doi


def test_arxivs_own_doi_is_that_arxiv_id_with_its_version():
    entry = Entry(title="A paper", doi="https://doi.org/10.48550/arXiv.2501.01234v3")
    assert (entry.arxiv_id, entry.version, entry.doi) == ("2501.01234", 3, None)


def test_an_entry_keeps_the_version_its_address_names():
    assert Entry(title="A paper", url="https://arxiv.org/abs/2501.01234v2").version == 2
    assert Entry(title="A paper", arxiv_id="2501.01234").version is None


def visit(*items: dict) -> bytes:
    """A visit digest (as the extension posts them) of a journal's contents page."""
    return json.dumps({"seenpapers": "visit", "version": 1, "page": "https://example.org/toc",
                       "visit": "v1", "started": "2026-12-01T09:00:00Z", "date": "2026-12-01",
                       "papers": list(items)}).encode()


def commit(db, entries: list[Entry], name: str):
    """Entries committed as one digest, the way ingest commits a parsed file."""
    prepared = ingest.Prepared(name, None, 1, name, ParsedDigest("journal-toc", MTIME.date(), entries))
    prepared.made = matcher.abstracts_of([e.abstract for e in entries])
    return ingest.commit(db, prepared)


def test_every_version_of_a_preprint_is_one_paper_by_its_doi(db):
    commit(db, [Entry(title="Cells Under Pressure", doi="doi:10.1101/2024.01.10.574000")], "v1")
    result = commit(db, [Entry(title="Cells under pressure, revisited",
                               url="https://www.biorxiv.org/content/10.1101/2024.01.10.574000v2")], "v2")
    assert (result.new_papers, result.seen_again) == (0, 1)
    result = commit(db, [Entry(title="Cells under pressure, revisited",
                               doi="https://doi.org/10.1101/2024.01.10.574000v3")], "v3")
    assert (result.new_papers, result.seen_again) == (0, 1)
    assert db.execute("SELECT count(*) FROM papers WHERE doi = '10.1101/2024.01.10.574000'").fetchone()[0] == 1


def test_a_doi_is_answered_by_lookup_and_fills_in_a_paper_known_by_title(db):
    commit(db, [Entry(title="Heart Failure With Preserved Ejection Fraction In Trials")], "toc-1")
    commit(db, [Entry(title="Heart failure with preserved ejection fraction in trials",
                      doi="doi:10.1161/CIRCULATIONAHA.123.065000")], "toc-2")
    [by_doi, by_url, other] = lookup.lookup(db, [
        {"title": "", "doi": "10.1161/circulationaha.123.065000"},
        {"title": "", "url": "https://doi.org/10.1161/CIRCULATIONAHA.123.065000"},
        {"title": "", "doi": "10.1161/circulationaha.123.099999"},
    ])
    assert (by_doi["status"], by_doi["times_seen"]) == ("seen", 2)
    assert by_url["paper_id"] == by_doi["paper_id"]
    assert other["status"] == "new"


def test_a_doi_never_links_two_papers_with_different_arxiv_ids(db):
    commit(db, [Entry(title="First", arxiv_id="2501.00001", doi="10.1000/shared")], "a")
    result = commit(db, [Entry(title="Second", arxiv_id="2501.00002", doi="10.1000/shared")], "b")
    assert result.new_papers == 1


def test_sightings_keep_the_version_shown_and_whether_the_digest_cut_the_entry(db):
    commit(db, [Entry(title="A Paper Replaced", arxiv_id="2501.01234v3"),
                Entry(title="A title Scholar cut short", truncated=True)], "mail")
    rows = db.execute("SELECT title, version, truncated FROM sightings ORDER BY position").fetchall()
    assert rows == [("A Paper Replaced", 3, 0), ("A title Scholar cut short", None, 1)]


def test_seenpapers_lookup_takes_a_doi(data_dir):
    data_dir.mkdir(parents=True)
    database = store.open_db(data_dir / "seenpapers.db")
    commit(database, [Entry(title="Cells Under Pressure", doi="10.1101/2024.01.10.574000")], "alert")
    database.close()
    result = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["lookup", "--json", "10.1101/2024.01.10.574000v2"])
    assert result.exit_code == 0, result.output
    [answer] = json.loads(result.output)["results"]
    assert (answer["status"], answer["title"]) == ("seen", "Cells Under Pressure")


# --- empty digests ------------------------------------------------------------------------

def empty_listing() -> bytes:
    page = re.sub(r"<!--.*?-->", "", (FIXTURES / "html" / "arxiv-list.html").read_text(), flags=re.S)
    start, end = page.index("<dl"), page.rindex("</dl>") + len("</dl>")
    return (page[:start] + "<dl id='articles'><h3>Mon, 20 Jan 2025</h3><p>No updates for this time period.</p></dl>"
            + page[end:]).encode()


def test_an_empty_feed_and_a_listing_without_updates_are_digests_of_none(data_dir, tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    (inbox / "weekend.xml").write_bytes((FIXTURES / "feeds" / "arxiv-rss2-empty.xml").read_bytes())
    (inbox / "list-2025-01-20.html").write_bytes(empty_listing())
    result = CliRunner().invoke(cli, ["ingest", str(inbox)])
    assert result.exit_code == 0, result.output
    assert "weekend.xml: arXiv feed, 0 papers" in result.output
    assert "list-2025-01-20.html: saved page, 0 papers" in result.output
    conn = sqlite3.connect(data_dir / "seenpapers.db")
    rows = conn.execute("SELECT name, format, kind, entries FROM digests ORDER BY name").fetchall()
    assert rows == [("list-2025-01-20.html", "html", "digest", 0), ("weekend.xml", "arxiv-feed", "digest", 0)]
    assert conn.execute("SELECT count(*) FROM failures").fetchone()[0] == 0


def test_an_arxiv_api_error_or_a_page_without_papers_is_still_a_failure():
    with pytest.raises(formats.ParseError, match="arXiv API answered with an error"):
        formats.parse((FIXTURES / "feeds" / "arxiv-api-error.atom").read_bytes(), name="q.atom", mtime=MTIME)
    with pytest.raises(formats.ParseError, match="no papers were found"):
        formats.parse((FIXTURES / "html" / "not-papers.html").read_bytes(), name="x.html", mtime=MTIME)


# --- XHTML pages --------------------------------------------------------------------------

def xhtml(page: str) -> bytes:
    body = page[page.index("<head"):] if "<head" in page else page
    return (XHTML_PROLOG + body).encode()


def test_an_xhtml_arxiv_abstract_page_is_a_page_not_a_feed():
    page = (FIXTURES / "html" / "arxiv-abs.html").read_text()
    expected = formats.parse(page.encode(), name="abs.html", mtime=MTIME)
    digest = formats.parse(xhtml(page), name="abs", mtime=MTIME)
    assert digest.format == "html"
    assert [(e.arxiv_id, e.title) for e in digest.entries] == [(e.arxiv_id, e.title) for e in expected.entries]


def test_an_xhtml_month_listing_is_a_page_not_a_feed():
    page = (FIXTURES / "html" / "arxiv-list-2023.html").read_text()
    digest = formats.parse(xhtml(page), name="list.xml", mtime=MTIME)
    assert [(e.arxiv_id, e.title) for e in digest.entries] == [("2303.07001", "An Older Listing Paper on Graph Learning")]


def test_a_feed_is_still_a_feed():
    digest = formats.parse((FIXTURES / "feeds" / "arxiv-rss2-cs.LG.xml").read_bytes(), name="f.xml", mtime=MTIME)
    assert digest.format == "arxiv-feed" and digest.entries


# --- arXiv search results -----------------------------------------------------------------

def test_an_arxiv_search_results_page_gives_each_result_with_its_version():
    digest = formats.parse((FIXTURES / "pages" / "arxiv-search.html").read_bytes(), name="search.html", mtime=MTIME)
    assert [(e.arxiv_id, e.version) for e in digest.entries] == [("1506.03134", 2), ("2501.04001", 1), ("2501.04002", 1)]
    first = digest.entries[0]
    assert first.authors == ["Oriol Vinyals", "Meire Fortunato", "Navdeep Jaitly"]
    assert first.abstract.startswith("We introduce a new neural architecture") and "More" not in first.abstract
    assert first.published is None  # "Submitted" is the newest version's day


def test_the_api_takes_a_doi_in_a_lookup_item(tmp_path):
    running = Daemon(tmp_path / "data")
    try:
        status, _, _ = running.request("POST", "/api/v1/digests?name=toc.json",
                                       raw=visit({"title": "Cells Under Pressure",
                                                  "url": "https://doi.org/10.1101/2024.01.10.574000"}))
        assert status in (200, 201, 202)
        running.wait_idle(digests=1)
        status, _, body = running.request("POST", "/api/v1/lookup", {"papers": [
            {"title": "", "doi": "doi:10.1101/2024.01.10.574000"}, {"title": "", "doi": None}]})
        assert status == 200
        assert [r["status"] for r in body["results"]] == ["seen", "new"]
        status, _, body = running.request("POST", "/api/v1/lookup", {"papers": [{"title": "x", "doi": 10}]})
        assert status == 422 and "doi" in body["error"]["message"]
    finally:
        running.stop()
