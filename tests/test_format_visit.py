"""Visits: the browser extension's record of the papers on screen during one visit of a page
(formats/visit.py), read through the dispatcher as the daemon reads any file."""

import json
from datetime import date, datetime

import pytest

from seenpapers.entry import MAX_TITLE, ParsedDigest
from seenpapers.formats import ParseError, parse

from .conftest import FIXTURES

VISITS = FIXTURES / "visits"
NOW = datetime(2026, 12, 7, 12, 0)
DAILY_1, DAILY_2 = sorted(VISITS.glob("visit_huggingface.co_papers_date_*.json"))
ABS = next(VISITS.glob("visit_arxiv.org_abs_*.json"))


def visit(*papers, **fields) -> dict:
    body = {"seenpapers": "visit", "version": 1, "page": "https://huggingface.co/papers", "visit": "v1", "part": 1,
            "started": "2026-12-01T09:15:00.000Z", "date": "2026-12-01", "papers": list(papers)}
    return {**body, **fields}


def parse_json(value, name="visit_x.json") -> ParsedDigest:
    return parse(json.dumps(value).encode(), name=name, mtime=NOW)


def refused(value) -> str:
    data = value if isinstance(value, bytes) else json.dumps(value).encode()
    with pytest.raises(ParseError) as caught:
        parse(data, name="visit_x.json", mtime=NOW)
    return str(caught.value)


# --- what a visit gives ------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(VISITS.glob("*.json")), ids=lambda p: p.name)
def test_each_visit_fixture_gives_its_papers_in_order_with_its_page_and_day(path):
    sent = json.loads(path.read_text(encoding="utf-8"))
    digest = parse(path.read_bytes(), name=path.name, mtime=NOW)
    assert (digest.format, digest.kind, digest.page) == ("visit", "visit", sent["page"])
    assert digest.date == date.fromisoformat(sent["date"])
    assert digest.started == sent["started"].replace(".000Z", "Z")
    assert [(e.title, e.arxiv_id) for e in digest.entries] == [(p["title"], p["arxiv_id"]) for p in sent["papers"]]


def test_a_visit_entry_keeps_title_id_address_authors_and_abstract():
    first = parse(DAILY_1.read_bytes(), name=DAILY_1.name, mtime=NOW).entries[0]
    assert first.title == "Learning Getting-Up Policies for Real-World Humanoid Robots"
    assert (first.arxiv_id, first.url) == ("2502.12152", "https://huggingface.co/papers/2502.12152")
    assert first.authors == ["Xialin He", "Runpei Dong", "Zixuan Chen", "Saurabh Gupta"] and first.authors_count == 4
    assert first.abstract == ""  # a daily page's cards show none
    [paper] = parse(ABS.read_bytes(), name=ABS.name, mtime=NOW).entries
    assert paper.abstract.startswith("We introduce SWE-Lancer, a benchmark of over 1,400 freelance")
    assert paper.authors == ["Samuel Miserendino", "Michele Wang", "Tejal Patwardhan", "Johannes Heidecke"]
    assert (paper.arxiv_id, paper.url) == ("2502.12115", "https://arxiv.org/abs/2502.12115v3")


def test_authors_may_be_one_string_of_names():
    digest = parse_json(visit({"title": "A Paper", "authors": "Ada Lovelace, Alan Turing; Grace Hopper and Edsger Dijkstra"}))
    assert digest.entries[0].authors == ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Edsger Dijkstra"]


def test_the_arxiv_id_is_found_in_the_address_when_not_given():
    [entry] = parse_json(visit({"title": "A Paper", "url": "https://arxiv.org/abs/2501.01234v2"})).entries
    assert entry.arxiv_id == "2501.01234"


def test_the_day_is_the_visits_date_else_the_day_it_started_else_the_files():
    assert parse_json(visit({"title": "T"}, date="2026-11-30", started="2026-12-01T01:00:00Z")).date == date(2026, 11, 30)
    assert parse_json(visit({"title": "T"}, date=None, started="2026-11-29T23:30:00-02:00")).date == date(2026, 11, 30)
    without = visit({"title": "T"})
    del without["date"], without["started"]
    digest = parse_json(without)
    assert (digest.date, digest.started) == (NOW.date(), None)


def test_the_start_is_stored_as_utc():
    assert parse_json(visit({"title": "T"}, started="2026-12-01T10:15:00+01:00")).started == "2026-12-01T09:15:00Z"
    assert parse_json(visit({"title": "T"}, started="2026-12-01T09:15:00")).started == "2026-12-01T09:15:00Z"


def test_a_visit_without_a_page_has_none():
    body = visit({"title": "T"})
    del body["page"]
    assert parse_json(body).page is None


def test_papers_without_a_title_are_skipped():
    digest = parse_json(visit({"arxiv_id": "2501.00001"}, {"title": ""}, {"title": " \u200b\x07 "},
                              {"title": None}, {"title": "The One Paper"}))
    assert [e.title for e in digest.entries] == ["The One Paper"]


def test_a_visit_of_untitled_cards_only_is_refused_as_holding_no_papers():
    assert "no papers found in this visit" in refused(visit({"title": ""}, {"url": "https://x"}))


def test_unknown_fields_are_ignored():
    digest = parse_json(visit({"title": "T", "seen_at": "2026-12-01T09:15:01Z", "upvotes": 5}, page_title=None, extra=[1]))
    assert [e.title for e in digest.entries] == ["T"]


# --- sniffing ----------------------------------------------------------------------------


@pytest.mark.parametrize("head", ['{"seenpapers":"visit",', '  {\n  "seenpapers" :\t"visit" ,', '\ufeff{ "seenpapers": "visit",'])
def test_a_json_object_whose_first_key_says_visit_is_read_as_one(head):
    data = head + '"papers": [{"title": "A Paper"}]}'
    digest = parse(data.encode(), name="anything.txt", mtime=NOW)
    assert (digest.format, digest.kind, [e.title for e in digest.entries]) == ("visit", "visit", ["A Paper"])


def test_other_json_is_not_a_visit_and_other_formats_are_digests():
    digest = parse(json.dumps({"papers": [{"title": "A Paper"}], "seenpapers": "visit"}).encode(), name="x.json", mtime=NOW)
    assert (digest.format, digest.kind, digest.page, digest.started) == ("hf-api", "digest", None, None)
    digest = parse(b'[{"title": "A Paper"}]', name="2025-01-02.json", mtime=NOW)
    assert (digest.format, digest.kind) == ("hf-api", "digest")


# --- bad input: a clear ParseError, never another exception --------------------------------


@pytest.mark.parametrize("value, reason", [
    (visit(papers=None), 'a visit without "papers"'),
    ({"seenpapers": "visit", "date": "2026-12-01"}, 'a visit without "papers"'),
    (visit(papers={"title": "T"}), '"papers" is an object, not a list of papers'),
    (visit(papers="T"), '"papers" is a string, not a list of papers'),
    (visit({"title": "T"}, "Another Title"), "paper 2 is a string, not an object with a title"),
    (visit({"title": "T"}, ["Another Title"]), "paper 2 is a list, not an object"),
    (visit({"title": 42}), 'paper 1: "title" is a number, not a string'),
    (visit({"title": ["T"]}), 'paper 1: "title" is a list, not a string'),
    (visit({"title": "T", "abstract": {"text": "x"}}), 'paper 1: "abstract" is an object, not a string'),
    (visit({"title": "T", "arxiv_id": 2501.00001}), 'paper 1: "arxiv_id" is a number, not a string'),
    (visit({"title": "T", "url": True}), 'paper 1: "url" is true or false, not a string'),
    (visit({"title": "T", "authors": [{"name": "A"}]}), 'paper 1: "authors" must be a list of names or one string'),
    (visit({"title": "T", "authors": 3}), 'paper 1: "authors" must be a list of names or one string, not a number'),
    (visit({"title": "T" * (MAX_TITLE + 1)}), f"paper 1: title is {MAX_TITLE + 1:,} characters (limit {MAX_TITLE:,})"),
    (visit({"title": "T", "url": "https://x/" + "a" * 20_000}), 'paper 1: "url" is 20,010 characters (limit 20,000)'),
    (visit({"title": "T"}, page=["https://x"]), 'the visit: "page" is a list, not a string'),
    (visit({"title": "T"}, date="Tuesday"), "\"date\" is 'Tuesday', not a day (YYYY-MM-DD)"),
    (visit({"title": "T"}, date="2026-02-30"), "not a day (YYYY-MM-DD)"),
    (visit({"title": "T"}, date=20261201), '"date" is a number, not a day'),
    (visit({"title": "T"}, started="yesterday"), '"started" is \'yesterday\', not an ISO time'),
    (visit({"title": "T"}, started="9999-12-31T23:00:00-05:00"), "not an ISO time"),
    (visit({"title": "T"}, version=2), "visit format version 2: this seenpapers reads version 1"),
    (visit({"title": "T"}, version=True), "visit format version True"),
    (visit({"title": "T"}, seenpapers="VISIT"), 'not a visit: expected a JSON object starting with "seenpapers": "visit"'),
], ids=lambda v: v if isinstance(v, str) else None)
def test_a_malformed_visit_is_refused_with_its_reason(value, reason):
    assert reason in refused(value)


def test_a_visit_that_is_not_json_is_refused():
    assert "visit is not valid JSON: Expecting value" in refused(b'{"seenpapers": "visit", "papers": [nope]}')


def test_a_truncated_visit_is_refused_as_ending_early():
    whole = DAILY_1.read_bytes()
    for cut in (40, len(whole) // 2, len(whole) - 3):
        assert "(the file ends early: truncated?)" in refused(whole[:cut])


def test_deep_nesting_and_numbers_too_long_to_read_are_refused():
    assert "nested too deeply" in refused(b'{"seenpapers": "visit", "papers": ' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    assert "cannot be read" in refused(b'{"seenpapers": "visit", "papers": [{"title": "T", "n": ' + b"1" * 5000 + b"}]}")


def test_hostile_titles_are_kept_as_text_cleaned_like_every_digests():
    titles = ["<script>alert(1)</script> Seen Papers", "Robert'); DROP TABLE papers;--",
              "Zero\u200bWidth\x00 \u202eRTL\u202c", "Lone \ud800 half"]
    digest = parse_json(visit(*({"title": t} for t in titles)))
    assert [e.title for e in digest.entries] == [
        "<script>alert(1)</script> Seen Papers", "Robert'); DROP TABLE papers;--", "ZeroWidth \u202eRTL\u202c",
        "Lone \ufffd half"]
    for entry in digest.entries:
        entry.title.encode("utf-8")
