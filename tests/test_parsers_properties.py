"""Every parser, property by property: whatever text reaches it (and every real dump, damaged
at random) ends in entries fit to store or in a ParseError, never another exception; and the
papers a well-formed file of each format holds come back out of it as they went in.

test_fuzz.py throws bytes at the dispatcher; here each format module is also called directly
(the dispatcher only hands it text that looks like its own), and the papers are checked.
"""

from __future__ import annotations

import html
import json
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from xml.sax.saxutils import escape as xml_escape

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seenpapers import formats
from seenpapers.entry import Entry, ParseError
from seenpapers.text import clean
from seenpapers.formats import arxiv_feed, email_digest, hf_api, hf_text, html_page, visit

from .conftest import FIXTURES

MODULES = [hf_api, hf_text, arxiv_feed, html_page, email_digest, visit]
NOW = datetime(2025, 3, 14, 12, 0)
SLOW_OK = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

REAL_DUMPS = sorted(
    p for kind in ("seeds", "hf-api", "hf-api-odd", "feeds", "html", "pages", "email", "visits")
    for p in (FIXTURES / kind).iterdir() if p.is_file()
)


# --- what every outcome must be --------------------------------------------------------------


def storable(entry: Entry) -> None:
    """An entry the database takes as it is: UTF-8 text, ISO dates, whole numbers."""
    assert entry.title and entry.title == entry.title.strip()
    for value in (entry.title, entry.abstract, entry.arxiv_id, entry.url, entry.published, entry.submitted,
                  *entry.authors):
        if value is not None:
            value.encode("utf-8")  # a lone surrogate here would fail the INSERT, not the parse
    if entry.published is not None:
        date.fromisoformat(entry.published)
    for number in (entry.upvotes, entry.authors_count):
        assert number is None or (isinstance(number, int) and not isinstance(number, bool))


def parses_or_refuses(data: bytes, name: str, module=None) -> None:
    """Through the dispatcher, and (when given) straight into one format's module."""
    try:
        digest = formats.parse(data, name=name, mtime=NOW)
    except ParseError as e:
        assert str(e)
    else:
        assert digest.format and isinstance(digest.date, date)
        for entry in digest.entries:
            storable(entry)
    if module is None:
        return
    try:
        text = formats.decode(data)
    except ParseError:
        return
    try:
        digest = module.parse(text, name=name, mtime=NOW)
    except ParseError as e:
        assert str(e)
    else:
        assert isinstance(digest.date, date)
        for entry in digest.entries:
            storable(entry)


# --- 1. anything at all, into each parser ----------------------------------------------------


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@SLOW_OK
@given(text=st.text(max_size=2000))
def test_each_parser_given_any_text_reads_it_or_raises_parse_error(module, text):
    try:
        digest = module.parse(text, name="input", mtime=NOW)
    except ParseError as e:
        assert str(e)
    else:
        for entry in digest.entries:
            if entry.title:  # the dispatcher drops entries whose title was all control characters
                storable(entry)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[-1])
@SLOW_OK
@given(data=st.binary(max_size=2000))
def test_each_parser_given_any_bytes_reads_them_or_raises_parse_error(module, data):
    parses_or_refuses(data, "input", module)


# --- 2. real dumps, damaged ------------------------------------------------------------------


@st.composite
def damaged(draw, data: bytes) -> bytes:
    """A real file after one to four accidents: cut, bytes lost, junk or a repeated slice
    inserted, bytes overwritten, or two files run together."""
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["cut", "lose", "junk", "repeat", "overwrite", "splice"]))
        if kind == "cut":
            data = data[:at]
        elif kind == "lose":
            data = data[:at] + data[at + draw(st.integers(1, 200)):]
        elif kind == "junk":
            data = data[:at] + draw(st.binary(min_size=1, max_size=40)) + data[at:]
        elif kind == "repeat":
            data = data[:at] + data[at:at + draw(st.integers(1, 400))] + data[at:]
        elif kind == "overwrite":
            junk = draw(st.binary(min_size=1, max_size=16))
            data = data[:at] + junk + data[at + len(junk):]
        else:
            other = draw(st.sampled_from(REAL_DUMPS)).read_bytes()
            data = data[:at] + other[draw(st.integers(0, len(other))):]
    return data


@settings(SLOW_OK, max_examples=400)
@given(data=st.data())
def test_real_dumps_damaged_anywhere_read_or_refused_cleanly(data):
    path = data.draw(st.sampled_from(REAL_DUMPS), label="dump")
    original = path.read_bytes()
    module = formats._module_for(formats.decode(original), path.name)
    parses_or_refuses(data.draw(damaged(original), label="damaged"), path.name, module)


def test_every_real_dump_reads_into_storable_entries_or_a_parse_error():
    for path in REAL_DUMPS:
        parses_or_refuses(path.read_bytes(), path.name)


# --- 3. round trips: a well-formed file of each format gives its papers back -----------------

# Text as it appears in titles: any script (RTL, CJK, Greek), accents, digits, TeX, punctuation.
# Structured formats (JSON) take every character; markup and plain text take printable ones.
ANY_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=300)
PRINTABLE = st.characters(exclude_categories=["Cs", "Cc", "Cf", "Co", "Cn", "Zl", "Zp"])
LETTERS = st.characters(categories=["Lu", "Ll", "Lo", "Lm"])
WORD = st.text(st.characters(categories=["L", "N"]) | st.sampled_from("$\\^_{}()[]+-:'?!&<>/"), min_size=1, max_size=12)
ARXIV_IDS = st.builds(lambda y, m, n: f"{y:02d}{m:02d}.{n:05d}", st.integers(15, 29), st.integers(1, 12),
                      st.integers(0, 99999))
DAYS = st.dates(date(2020, 1, 1), date(2026, 12, 31))


def expected(**fields) -> Entry:
    """The entry a parser should give for these fields (Entry does the cleaning)."""
    return Entry(**fields)


@st.composite
def line_titles(draw) -> str:
    """A title as plain text carries one: one line of words, not a sentence, starting with a
    letter; none of the page's own lines (header, date, author count)."""
    words = draw(st.lists(WORD, min_size=1, max_size=12))
    title = " ".join([draw(LETTERS) + words[0], *words[1:]])
    assume(not hf_text._is_abstract(title) and title.lower() not in hf_text._HEADER_LINES)
    assume(not hf_text._PAPER_DATE.match(title) and not hf_text._AUTHORS.match(title))
    assume(not title.lower().startswith("submitted by"))
    return title


@st.composite
def abstracts(draw) -> str:
    """Prose: two to six sentences, each ending in a full stop."""
    sentences = draw(st.lists(st.lists(WORD, min_size=4, max_size=15).map(" ".join), min_size=2, max_size=6))
    return " ".join(draw(LETTERS) + s + "." for s in sentences)


def wrap(text: str, width: int) -> str:
    """Hard-wrapped at ``width`` like the HF API and arXiv feeds do."""
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return "\n".join(lines + [line])


names = st.lists(st.text(PRINTABLE.filter(lambda c: c not in ",;"), min_size=1, max_size=30)
                 .filter(lambda n: n.strip() and not n.strip().lower().startswith("and ")), max_size=6)


# HF daily-papers API JSON, also in its damaged shapes (Python reprs, a wrapped object) ----------


@st.composite
def api_papers(draw):
    paper_id = draw(st.none() | ARXIV_IDS)
    title = draw(ANY_TEXT)
    assume(Entry(title).title)
    abstract = draw(ANY_TEXT)
    authors = draw(st.lists(ANY_TEXT, max_size=5))
    published, submitted = draw(st.none() | DAYS), draw(st.none() | DAYS)
    upvotes = draw(st.none() | st.integers(0, 10**6))
    summary = wrap(abstract, draw(st.integers(20, 100))) if abstract.isprintable() else abstract
    paper = {"title": title, "summary": summary,
             "authors": [{"_id": "x", "name": a, "hidden": False} for a in authors], "upvotes": upvotes}
    if paper_id:
        paper["id"] = paper_id
    if published:
        paper["publishedAt"] = f"{published}T17:59:58.000Z"
    if submitted:
        paper["submittedOnDailyAt"] = f"{submitted}T01:23:45.678Z"
    item = {"paper": paper, "title": title, "numComments": draw(st.integers(0, 9))}
    entry = expected(title=title, abstract=abstract, authors=authors, authors_count=len(authors) or None,
                     arxiv_id=paper_id, published=published and published.isoformat(),
                     submitted=submitted and f"{submitted}T01:23:45.678Z", upvotes=upvotes,
                     url=paper_id and f"https://huggingface.co/papers/{paper_id}")
    return item, entry


@settings(SLOW_OK, max_examples=150)
@given(papers=st.lists(api_papers(), min_size=1, max_size=8), day=DAYS,
       shape=st.sampled_from(["list", "reprs", "wrapped"]), ascii_only=st.booleans())
def test_hf_api_json_gives_back_every_paper(papers, day, shape, ascii_only):
    items = [item for item, _ in papers]
    value = {"list": items, "reprs": [repr(i) for i in items], "wrapped": {"status": 200, "data": items}}[shape]
    data = json.dumps(value, ensure_ascii=ascii_only).encode()
    digest = formats.parse(data, name=f"{day}.json", mtime=NOW)
    assert (digest.format, digest.date) == ("hf-api", day)
    assert digest.entries == [entry for _, entry in papers]


def test_hf_api_escapes_that_are_no_character_become_replacement_characters():
    # JSON may spell half a UTF-16 pair ("\ud800"); Python keeps it, SQLite cannot store it.
    data = b'[{"paper": {"id": "2501.00001\\udc00", "title": "Lone \\ud800 half", "summary": "x \\udfff y",' \
           b' "authors": [{"name": "A \\ud83d"}]}, "title": "Lone \\ud800 half"}]'
    [entry] = formats.parse(data, name="2025-01-02.json", mtime=NOW).entries
    assert (entry.title, entry.abstract, entry.authors) == ("Lone \ufffd half", "x \ufffd y", ["A \ufffd"])
    assert entry.arxiv_id == "2501.00001" and entry.url == "https://huggingface.co/papers/2501.00001\ufffd"
    storable(entry)


@pytest.mark.parametrize("stamp", ["2024-13-45T00:00:00Z", "2024-02-30", "\u0662\u0660\u0662\u0664-01-01T00:00:00Z"])
def test_hf_api_dates_that_are_no_day_are_left_out_not_fatal(stamp):
    item = {"paper": {"title": "A Paper", "publishedAt": stamp, "submittedOnDailyAt": stamp}, "title": "A Paper"}
    digest = formats.parse(json.dumps([item]).encode(), name="no-date-in-name.json", mtime=NOW)
    assert digest.date == NOW.date()
    assert (digest.entries[0].published, digest.entries[0].submitted) == (None, None)


# HF papers page as text: the page copy (paragraphs) and today's compact cards ------------------


def page_day(day: date) -> str:
    return f"{day:%b} {day.day}"


@st.composite
def page_papers(draw, page: date):
    title = draw(line_titles())
    abstract = draw(st.none() | abstracts())
    count = draw(st.none() | st.integers(1, 3000))
    published = draw(st.none() | st.dates(page - timedelta(days=364), page))
    with_year = draw(st.booleans())
    upvotes = draw(st.none() | st.integers(0, 5000)) if published else None
    lines = [title]
    if abstract:
        lines.append(wrap(abstract, draw(st.integers(40, 200))))
    block = []
    if count is not None:
        block.append(f"{draw(st.sampled_from(['• ', '· ', '']))}{count} author{'s' if count != 1 else ''}")
    if count is not None or published:
        block.append("·")
    if published:
        when = f"{page_day(published)}, {published.year}" if with_year else page_day(published)
        block.append(when + (f" {upvotes}" if upvotes is not None else ""))
    if block:
        lines.append("\n".join(block))
    entry = expected(title=title, abstract=abstract or "", authors_count=count,
                     published=published and published.isoformat(), upvotes=upvotes)
    return "\n\n".join(lines), entry


@settings(SLOW_OK, max_examples=150)
@given(data=st.data(), page=st.dates(date(2021, 1, 1), date(2026, 6, 30)), late=st.integers(0, 300),
       crlf=st.booleans())
def test_hf_page_copy_gives_back_every_paper(data, page, late, crlf):
    papers = data.draw(st.lists(page_papers(page), min_size=1, max_size=8))
    text = "\n\n".join(["new", "Get trending papers in your email inbox!", "Daily Papers",
                        "byAK and the research community", page_day(page), *(t for t, _ in papers)]) + "\n"
    if crlf:
        text = text.replace("\n", "\r\n")
    mtime = datetime.combine(page + timedelta(days=late % 360), datetime.min.time())
    digest = formats.parse(text.encode(), name="page.txt", mtime=mtime)
    assert (digest.format, digest.date) == ("hf-text", page)
    assert digest.entries == [entry for _, entry in papers]


@settings(SLOW_OK, max_examples=100)
@given(cards=st.lists(st.tuples(line_titles(), st.integers(0, 3000), st.integers(1, 500), st.integers(0, 99),
                                st.none() | st.text(LETTERS, min_size=1, max_size=15)), min_size=1, max_size=10),
       page=st.dates(date(2024, 1, 1), date(2026, 6, 30)))
def test_hf_page_capture_of_compact_cards_gives_back_every_paper(cards, page):
    lines = ["Daily Papers", "by AK and the research community", "Previous", f"{page:%B} {page.day}, {page.year}",
             "Next", ""]
    for title, upvotes, count, comments, submitter in cards:
        lines += ([f"Submitted by {submitter}"] if submitter else []) + [str(upvotes), title,
                                                                          f"· {count} authors", str(comments)]
    digest = formats.parse("\n".join(lines).encode(), name="capture.txt", mtime=datetime(2026, 7, 1))
    assert (digest.format, digest.date) == ("hf-text", page)
    assert digest.entries == [expected(title=t, authors_count=c, upvotes=u) for t, u, c, _, _ in cards]


# arXiv feeds: Atom (the API) and RSS 2.0 (rss.arxiv.org) --------------------------------------


def repaired_by_feedparser(text: str) -> bool:
    """feedparser takes an element's text that reads as UTF-8 mis-read as Latin-1 ("cafÃ©")
    for that mistake and repairs it ("café"): such text does not survive a feed, by design.
    It looks at the element's whole text once stripped ("Â¡\xa0" is repaired to "¡")."""
    text = text.strip()
    try:
        return text.encode("iso-8859-1").decode("utf-8") != text
    except UnicodeError:
        return False


@st.composite
def feed_papers(draw):
    title = draw(st.text(PRINTABLE, min_size=1, max_size=200))
    abstract = draw(st.text(PRINTABLE, max_size=400))
    authors = draw(names)
    # Tags are markup there, even in a name ("<A>"): feed text has them taken out.
    assume(Entry(title).title and not arxiv_feed._TAG.search(" ".join([title, abstract, *authors])))
    assume(not arxiv_feed._TITLE_SUFFIX.search(title))
    # As the elements hold them: the title, the abstract after its ASCII label, the authors joined.
    assume(not any(map(repaired_by_feedparser, [title, abstract, ", ".join(authors), *authors])))
    return draw(ARXIV_IDS), title, abstract, authors, draw(DAYS), draw(st.integers(1, 9))


@settings(SLOW_OK, max_examples=100)
@given(papers=st.lists(feed_papers(), min_size=1, max_size=6, unique_by=lambda p: p[0]), width=st.integers(30, 90))
def test_arxiv_atom_feed_gives_back_every_paper(papers, width):
    entries = "".join(
        f"<entry><id>http://arxiv.org/abs/{i}v{v}</id><updated>{d}T00:00:00Z</updated>"
        f"<published>{d}T17:59:00Z</published><title>{xml_escape(wrap(t, width))}</title>"
        f"<summary>  {xml_escape(wrap(a, width))}\n</summary>"
        + "".join(f"<author><name>{xml_escape(n)}</name></author>" for n in authors)
        + f'<link href="http://arxiv.org/abs/{i}v{v}" rel="alternate" type="text/html"/></entry>'
        for i, t, a, authors, d, v in papers
    )
    feed = ('<?xml version="1.0" encoding="UTF-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>ArXiv Query</title><updated>2026-01-02T00:00:00-05:00</updated>{entries}</feed>\n")
    digest = formats.parse(feed.encode(), name="query.atom", mtime=NOW)
    assert (digest.format, digest.date) == ("arxiv-feed", date(2026, 1, 2))
    assert digest.entries == [
        expected(title=t, abstract=a, authors=authors, arxiv_id=i, published=d.isoformat(),
                 url=f"http://arxiv.org/abs/{i}v{v}")
        for i, t, a, authors, d, v in papers
    ]


@pytest.mark.filterwarnings("ignore:To avoid breaking existing software:DeprecationWarning")  # feedparser's
@settings(SLOW_OK, max_examples=100)
@given(papers=st.lists(feed_papers(), min_size=1, max_size=6, unique_by=lambda p: p[0]))
def test_arxiv_rss_feed_gives_back_every_paper(papers):
    items = "".join(
        f"<item><title>{xml_escape(t)}</title><link>https://arxiv.org/abs/{i}</link>"
        # a description is HTML inside the XML: its text is escaped twice
        f"<description>arXiv:{i}v{v} Announce Type: new \nAbstract: {xml_escape(html.escape(a, quote=False))}</description>"
        f'<guid isPermaLink="false">oai:arXiv.org:{i}v{v}</guid><category>cs.LG</category>'
        f"<pubDate>{d:%a, %d %b %Y} 00:00:00 -0500</pubDate>"
        + (f"<dc:creator>{xml_escape(', '.join(authors))}</dc:creator>" if authors else "")
        + "</item>"
        for i, t, a, authors, d, v in papers
    )
    feed = ("<?xml version='1.0' encoding='UTF-8'?>\n"
            '<rss xmlns:dc="http://purl.org/dc/elements/1.1/" version="2.0"><channel>'
            "<title>cs.LG updates on arXiv.org</title><link>http://rss.arxiv.org/rss/cs.LG</link>"
            f"<description>updates</description><pubDate>Wed, 22 Jan 2025 00:00:00 -0500</pubDate>{items}"
            "</channel></rss>\n")
    digest = formats.parse(feed.encode(), name="cs.LG.xml", mtime=NOW)
    assert (digest.format, digest.date) == ("arxiv-feed", date(2025, 1, 22))
    assert digest.entries == [
        expected(title=t, abstract=a, authors=[n.strip() for n in authors], arxiv_id=i, published=d.isoformat(),
                 url=f"https://arxiv.org/abs/{i}")
        for i, t, a, authors, d, v in papers
    ]


# Saved HTML pages: an HF listing (its JSON in data-props) and an arXiv listing -----------------


@settings(SLOW_OK, max_examples=100)
@given(papers=st.lists(api_papers(), min_size=1, max_size=6), day=DAYS)
def test_saved_hf_listing_page_gives_back_every_paper(papers, day):
    props = {"dailyPapers": [item for item, _ in papers], "dateString": day.isoformat(), "query": {}}
    page = (f"<!doctype html><html><head><title>Daily Papers</title></head><body><main>"
            f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{html.escape(json.dumps(props))}">'
            "</div></main></body></html>")
    digest = formats.parse(page.encode(), name="Daily Papers - Hugging Face.html", mtime=NOW)
    assert (digest.format, digest.date) == ("html", day)
    assert digest.entries == [entry for _, entry in papers]


@settings(SLOW_OK, max_examples=100)
@given(papers=st.lists(feed_papers(), min_size=1, max_size=6, unique_by=lambda p: p[0]), day=DAYS)
def test_saved_arxiv_listing_page_gives_back_every_paper(papers, day):
    rows = "".join(
        f"<dt><a name='item{n}'>[{n}]</a> <a href =\"/abs/{i}\" title=\"Abstract\" id=\"{i}\">arXiv:{i}</a></dt>"
        f"<dd><div class='meta'><div class='list-title mathjax'><span class='descriptor'>Title:</span>\n"
        f"{html.escape(t)}\n</div><div class='list-authors'>"
        + ", ".join(f'<a href="/a/x_{k}">{html.escape(a)}</a>' for k, a in enumerate(authors))
        + f"</div><p class='mathjax'>\n{html.escape(a)}\n</p></div></dd>"
        for n, (i, t, a, authors, _, _) in enumerate(papers, 1)
    )
    page = (f"<!DOCTYPE html><html><body><h3>Showing new listings for {day:%A}, {day.day} {day:%B %Y}</h3>"
            f"<dl id='articles'>{rows}</dl></body></html>")
    digest = formats.parse(page.encode(), name="new.html", mtime=NOW)
    assert (digest.format, digest.date) == ("html", day)
    assert digest.entries == [
        expected(title=t, abstract=a, authors=authors, arxiv_id=i, published=day.isoformat(),
                 url=f"https://arxiv.org/abs/{i}")
        for i, t, a, authors, _, _ in papers
    ]


# E-mail digests: HF's daily e-mail, its text part (title, then link) and its HTML part ---------


@settings(SLOW_OK, max_examples=100)
@given(papers=st.lists(st.tuples(ARXIV_IDS, line_titles()), min_size=1, max_size=8, unique_by=lambda p: p[0]),
       part=st.sampled_from(["plain", "html"]), sent=st.datetimes(datetime(2020, 1, 1), datetime(2026, 12, 31)))
def test_hf_daily_email_gives_back_every_paper(papers, part, sent):
    if part == "html":  # a link's text is a title only when it has a few words
        assume(all(html_page._looks_like_title(Entry(t).title) for _, t in papers))
    else:  # the line above a link is its title when it has a word and is no link itself
        assume(all(email_digest._TITLE_LIKE.search(t) and not email_digest._URL.search(t) for _, t in papers))
    message = EmailMessage()
    message["From"], message["To"] = "Hugging Face <daily@huggingface.co>", "you@example.org"
    message["Subject"], message["Date"] = "Daily Papers", format_datetime(sent.astimezone())
    if part == "plain":
        message.set_content("Today's papers\n\n" + "\n\n".join(
            f"{t}\nhttps://huggingface.co/papers/{i}" for i, t in papers) + "\n\nUnsubscribe\n")
    else:
        message.set_content("<html><body><h1>Daily Papers</h1><ul>" + "".join(
            f'<li><a href="https://huggingface.co/papers/{i}">{html.escape(t)}</a></li>' for i, t in papers)
            + "</ul></body></html>", subtype="html")
    digest = formats.parse(message.as_bytes(), name="Daily Papers.eml", mtime=NOW)
    assert (digest.format, digest.date) == ("email", sent.date())
    assert digest.entries == [expected(title=t, arxiv_id=i, url=f"https://huggingface.co/papers/{i}")
                              for i, t in papers]


# Visits: the extension's record of the papers on screen --------------------------------------


@st.composite
def visit_papers(draw):
    title = draw(ANY_TEXT)
    assume(Entry(title).title)
    fields = {"arxiv_id": draw(st.none() | ARXIV_IDS), "url": draw(st.none() | ANY_TEXT),
              "abstract": draw(st.none() | ANY_TEXT), "authors": draw(st.none() | st.lists(ANY_TEXT, max_size=5))}
    paper = {"title": title, **{k: v for k, v in fields.items() if v is not None}}
    return paper, expected(title=title, **{k: v for k, v in fields.items() if v})  # "" is no address


@settings(SLOW_OK, max_examples=150)
@given(papers=st.lists(visit_papers(), min_size=1, max_size=8), day=DAYS, page=ANY_TEXT,
       started=st.datetimes(datetime(2020, 1, 1), datetime(2026, 12, 31)), ascii_only=st.booleans())
def test_visit_gives_back_every_paper_its_page_and_day(papers, day, page, started, ascii_only):
    body = {"seenpapers": "visit", "version": 1, "page": page, "visit": "v", "part": 1,
            "started": started.isoformat() + "Z", "date": day.isoformat(), "papers": [p for p, _ in papers]}
    digest = formats.parse(json.dumps(body, ensure_ascii=ascii_only).encode(), name="visit.json", mtime=NOW)
    assert (digest.format, digest.kind, digest.date, digest.page) == ("visit", "visit", day, clean(page) or None)
    assert digest.started == started.isoformat(timespec="seconds") + "Z"
    assert digest.entries == [entry for _, entry in papers]


# --- found by the properties above, kept as examples ----------------------------------------


def test_rss_abstracts_keep_their_ampersands():
    # feedparser hands an RSS description over as HTML: "R&D" arrives as "R&amp;D".
    feed = ('<?xml version="1.0"?><rss version="2.0"><channel><pubDate>Wed, 22 Jan 2025 00:00:00 -0500</pubDate>'
            "<item><title>Q&amp;A for R&amp;D</title><link>https://arxiv.org/abs/2501.00001</link>"
            "<description>arXiv:2501.00001v1 Announce Type: new Abstract: R&amp;D, Q&amp;A, $a&lt;b$.</description>"
            "</item></channel></rss>")
    [entry] = formats.parse(feed.encode(), name="cs.LG.xml", mtime=NOW).entries
    assert (entry.title, entry.abstract) == ("Q&A for R&D", "R&D, Q&A, $a<b$.")


@pytest.mark.parametrize("tag", ["<body>", "<html>", "<feed>", "<rss>", "<rdf:RDF>", "<script>alert(1)</script>"])
def test_a_page_copy_whose_title_mentions_a_tag_is_still_a_page_copy(tag):
    title = f"What {tag} Means to a Language Model"
    page = f"Daily Papers\n\nbyAK and the research community\n\nMar 11\n\n{title}\n\n\u2022 3 authors\n\u00b7\nMar 10, 2025 4\n"
    digest = formats.parse(page.encode(), name="page.txt", mtime=NOW)
    assert digest.format == "hf-text" and [e.title for e in digest.entries] == [title]
