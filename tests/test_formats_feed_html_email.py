"""arXiv feeds, saved HTML pages and e-mail digests, read through the format dispatcher."""

from __future__ import annotations

import re
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from seenpapers import formats
from seenpapers.entry import ParseError
from seenpapers.formats import email_digest, html_page

FIXTURES = Path(__file__).parent / "fixtures"
MTIME = datetime(2025, 2, 1, 12, 0)


def fixture(kind: str, name: str) -> bytes:
    return (FIXTURES / kind / name).read_bytes()


def parse(data: bytes | str, name: str, mtime: datetime = MTIME):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return formats.parse(data, name=name, mtime=mtime)


def ids(digest) -> list[str | None]:
    return [e.arxiv_id for e in digest.entries]


@pytest.fixture
def local_tz(monkeypatch):
    """Run a test in a given local time zone (the e-mail date is the reader's own day)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is not available on this platform")

    def use(zone: str):
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


# --- arXiv feeds -------------------------------------------------------------------------------


def test_arxiv_rss_is_read_as_an_arxiv_feed_in_page_order():
    digest = parse(fixture("feeds", "arxiv-rss2-cs.LG.xml"), "cs.LG.xml")
    assert digest.format == "arxiv-feed"
    assert [e.title for e in digest.entries] == [
        "Tight Bounds for $\\epsilon$-Greedy Exploration in Linear Bandits",
        "A Cross-Listed Vision Paper",
        "A Replaced Paper",
    ]


def test_arxiv_rss_entries_have_ids_without_versions():
    digest = parse(fixture("feeds", "arxiv-rss2-cs.LG.xml"), "cs.LG.xml")
    assert ids(digest) == ["2501.09001", "2501.08003", "2410.01234"]
    assert digest.entries[0].url == "https://arxiv.org/abs/2501.09001"


def test_arxiv_rss_abstract_loses_the_announce_prefix_and_is_unwrapped():
    first = parse(fixture("feeds", "arxiv-rss2-cs.LG.xml"), "cs.LG.xml").entries[0]
    assert first.abstract == (
        "We study $\\epsilon$-greedy exploration in linear bandits when $d<k$ and show "
        "that the regret is tight up to logarithmic factors & constants."
    )


def test_arxiv_rss_single_creator_is_split_into_authors():
    entries = parse(fixture("feeds", "arxiv-rss2-cs.LG.xml"), "cs.LG.xml").entries
    assert entries[0].authors == ["Jane Doe", "Richard Roe", "Ana Lopez"]
    assert entries[0].authors_count == 3
    assert entries[1].authors == ["Vera Vision"]
    assert entries[2].authors == ["Ray Again", "Sam Twice", "Tom Thrice"]


def test_arxiv_rss_digest_date_and_published_come_from_the_feed_in_its_own_time_zone():
    digest = parse(fixture("feeds", "arxiv-rss2-cs.LG.xml"), "cs.LG.xml")
    # "Wed, 22 Jan 2025 00:00:00 -0500" is still the 22nd where arXiv wrote it.
    assert digest.date == date(2025, 1, 22)
    assert {e.published for e in digest.entries} == {"2025-01-22"}


def test_feed_without_channel_date_is_dated_by_its_newest_entry():
    text = fixture("feeds", "arxiv-rss2-cs.LG.xml").decode()
    text = re.sub(r"<(lastBuildDate|pubDate)>[^<]*</\1>", "", text)
    later = "<pubDate>Fri, 24 Jan 2025 00:00:00 -0500</pubDate>"
    text = text.replace("<title>A Cross-Listed", later + "<title>A Cross-Listed", 1)
    digest = parse(text, "feed.xml")
    assert digest.date == date(2025, 1, 24)


def test_feed_without_any_date_is_dated_by_the_file_time():
    text = fixture("feeds", "arxiv-rss2-cs.LG.xml").decode()
    text = re.sub(r"<(lastBuildDate|pubDate)>[^<]*</\1>", "", text)
    digest = parse(text, "feed.xml")
    assert digest.date == MTIME.date()
    assert all(e.published is None for e in digest.entries)


def test_arxiv_atom_api_entries_have_ids_titles_authors_and_published_dates():
    digest = parse(fixture("feeds", "arxiv-api-query.atom"), "query.atom")
    assert digest.format == "arxiv-feed"
    assert digest.date == date(2025, 1, 22)
    attention, old = digest.entries
    assert attention.arxiv_id == "1706.03762"
    assert attention.title == "Attention Is All You Need"
    assert attention.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert attention.published == "2017-06-12"
    assert attention.abstract.startswith(
        "The dominant sequence transduction models are based on complex recurrent or convolutional"
    )
    assert "\n" not in attention.abstract
    assert attention.url == "http://arxiv.org/abs/1706.03762v7"
    # Old-style ids keep their archive prefix; wrapped titles are one line.
    assert old.arxiv_id == "hep-th/9901001"
    assert old.title == "Attention to Boundary Conditions in String Compactifications"


def test_old_rdf_feed_titles_lose_the_arxiv_suffix_and_html_is_stripped():
    digest = parse(fixture("feeds", "arxiv-rdf-cs.LG.xml"), "cs.LG.rdf")
    assert digest.format == "arxiv-feed"
    assert digest.date == date(2020, 3, 12)  # dc:date of the channel
    first, updated = digest.entries
    assert first.title == "Learning to Rank with $k < n$ Queries"
    assert first.abstract == "We rank items with $k < n$ pairwise queries and show that adaptive sampling helps."
    assert first.authors == ["John Smith", "Jane Doe"]
    assert first.arxiv_id == "2003.05012"
    assert updated.title == "Robust Estimation Under Heavy Tails"
    assert updated.arxiv_id == "2003.04999"


def test_feed_with_no_entries_is_a_digest_of_none_dated_by_the_feed():
    digest = parse(fixture("feeds", "arxiv-rss2-empty.xml"), "empty.xml")
    assert (digest.format, digest.entries, digest.date) == ("arxiv-feed", [], date(2025, 1, 25))


def test_arxiv_api_error_answer_is_a_parse_error_with_its_message():
    with pytest.raises(ParseError, match="arXiv API answered with an error: incorrect id format"):
        parse(fixture("feeds", "arxiv-api-error.atom"), "error.atom")


def test_truncated_feed_is_a_parse_error_not_a_half_paper():
    data = fixture("feeds", "arxiv-rss2-cs.LG.xml")
    cut = data[: data.index(b"Abstract: Abstract of the cross-listed")]
    with pytest.raises(ParseError, match="truncated"):
        parse(cut, "cut.xml")


@pytest.mark.parametrize(
    "garbage",
    [
        "<?xml version='1.0'?><note><to>Tove</to><body>Don't forget me</body></note>",
        "<?xml version='1.0'?>\n<rss version='2.0'><channel><item><title>x</ti",
        "<?xml version='1.0'?><rss><<<<>>>& &amp; </rss>",
        "<?xml version='1.0'?><rss version='2.0'><channel><item>"
        "<description>no title</description></item></channel></rss>",
    ],
)
def test_garbage_xml_is_a_parse_error(garbage):
    with pytest.raises(ParseError):
        parse(garbage, "garbage.xml")


def test_feed_text_that_looks_like_a_url_or_path_is_never_fetched_or_opened(tmp_path):
    # feedparser would open a string naming a file; the parser hands it a stream instead.
    secret = tmp_path / "secret.xml"
    secret.write_bytes(fixture("feeds", "arxiv-rss2-cs.LG.xml"))
    with pytest.raises(ParseError):
        formats.arxiv_feed.parse(str(secret), name="x.xml", mtime=MTIME)


# --- saved HTML pages --------------------------------------------------------------------------


def test_hf_daily_page_is_read_from_its_embedded_json():
    digest = parse(fixture("html", "hf-daily.html"), "Daily Papers - Hugging Face.html")
    assert digest.format == "html"
    assert digest.date == date(2025, 1, 22)  # dateString
    assert ids(digest) == ["2501.12948", "2501.12599", "2501.12909"]
    first = digest.entries[0]
    assert first.title.startswith("DeepSeek-R1: Incentivizing Reasoning")
    assert first.authors == ["DeepSeek-AI", "Daya Guo", "Dejian Yang"]
    assert first.upvotes == 412
    assert first.published == "2025-01-22"
    assert first.url == "https://huggingface.co/papers/2501.12948"
    assert first.abstract.startswith("We introduce our first-generation reasoning models")


def test_hf_search_page_lists_the_search_results_not_the_days_papers():
    digest = parse(fixture("html", "hf-search.html"), "search.html")
    assert [e.title for e in digest.entries] == ["Mistral 7B", "Mixtral of Experts"]
    assert ids(digest) == ["2310.06825", "2401.04088"]
    assert digest.entries[0].authors_count == 2


def test_hf_search_page_without_results_is_an_empty_digest_not_the_days_papers():
    text = fixture("html", "hf-search.html").decode()
    empty = "&quot;searchResults&quot;:[],&quot;dateString"
    text = re.sub(r"&quot;searchResults&quot;:\[.*?\],&quot;dateString", empty, text, flags=re.S)
    text = re.sub(r"<article.*</article>", "<p>No results</p>", text, flags=re.S)
    assert parse(text, "search.html").entries == []


def test_hf_listing_without_date_string_is_dated_by_its_papers():
    text = fixture("html", "hf-daily.html").decode()
    text = text.replace("&quot;dateString&quot;:&quot;2025-01-22&quot;,", "")
    digest = parse(text, "papers.html")
    assert digest.date == date(2025, 1, 22)  # submittedOnDailyAt of most papers


def test_hf_paper_page_gives_one_entry_from_its_json():
    digest = parse(fixture("html", "hf-paper.html"), "paper.html")
    assert digest.format == "html"
    (entry,) = digest.entries
    assert entry.arxiv_id == "2501.12948"
    assert entry.title.startswith("DeepSeek-R1")
    assert entry.authors_count == 3
    assert entry.upvotes == 412
    assert digest.date == MTIME.date()


def test_hf_page_with_malformed_page_json_is_a_parse_error():
    text = fixture("html", "hf-daily.html").decode()
    start = 'data-props="{&quot;dailyPapers&quot;:['
    broken = text.replace(start, start + "{{", 1)
    with pytest.raises(ParseError, match="not valid JSON"):
        parse(broken, "broken.html")


def test_hf_paper_page_with_cut_off_json_is_a_parse_error():
    text = fixture("html", "hf-paper.html").decode()
    cut_off = 'data-props="{&quot;paper&quot;:{&quot;id&quot;:&quot;25"'
    cut = re.sub(r'data-props="\{&quot;paper&quot;.*?"', cut_off, text, flags=re.S)
    with pytest.raises(ParseError, match="PaperContent"):
        parse(cut, "paper.html")


def test_hf_listing_without_page_json_falls_back_to_its_title_links():
    text = re.sub(r'data-props="[^"]*"', "", fixture("html", "hf-daily.html").decode())
    digest = parse(text, "2025-01-23 papers.html")
    assert ids(digest) == ["2501.12948", "2501.12599", "2501.12909"]
    assert digest.entries[1].title == "Kimi k1.5: Scaling Reinforcement Learning with LLMs"
    assert digest.entries[1].url == "https://huggingface.co/papers/2501.12599"
    assert digest.date == date(2025, 1, 23)  # named in the file


def test_arxiv_new_listing_gives_every_section_with_authors_and_abstracts():
    digest = parse(fixture("html", "arxiv-list.html"), "new.html")
    assert digest.format == "html"
    assert digest.date == date(2025, 1, 22)  # "Showing new listings for Wednesday, 22 January 2025"
    assert ids(digest) == ["2501.12948", "2501.09001", "2501.09002", "2501.08003", "2410.01234"]
    first = digest.entries[0]
    assert first.title == "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning"
    assert first.authors == ["DeepSeek-AI", "Daya Guo", "Dejian Yang"]
    assert first.abstract.startswith("We introduce our first-generation reasoning models")
    assert first.url == "https://arxiv.org/abs/2501.12948"
    assert first.published == "2025-01-22"
    assert digest.entries[1].title == "Tight Bounds for $\\epsilon$-Greedy Exploration in Linear Bandits"


def test_arxiv_listing_replacements_are_not_dated_by_the_listing_day():
    replaced = parse(fixture("html", "arxiv-list.html"), "new.html").entries[-1]
    assert replaced.arxiv_id == "2410.01234"
    assert replaced.published is None


def test_arxiv_recent_listing_dates_each_entry_by_its_day_heading():
    digest = parse(fixture("html", "arxiv-recent.html"), "recent.html")
    assert digest.date == date(2025, 1, 22)
    assert [(e.arxiv_id, e.published) for e in digest.entries] == [
        ("2501.12948", "2025-01-22"),
        ("2501.08003", "2025-01-22"),
        ("2501.11001", "2025-01-21"),
    ]
    assert digest.entries[2].title == "Yesterday's Paper"
    assert all(e.abstract == "" for e in digest.entries)  # /recent shows no abstracts


def test_older_arxiv_listing_with_two_digit_year_heading_is_read():
    digest = parse(fixture("html", "arxiv-list-2023.html"), "old.html")
    (entry,) = digest.entries
    assert digest.date == date(2023, 3, 15)
    assert entry.title == "An Older Listing Paper on Graph Learning"
    assert entry.authors == ["Gina Graph", "Nico Node"]
    assert entry.arxiv_id == "2303.07001"


def test_arxiv_listing_without_abs_links_takes_the_id_attribute():
    text = fixture("html", "arxiv-recent.html").decode().replace('href ="/abs/', 'href ="/nowhere/')
    assert ids(parse(text, "recent.html")) == ["2501.12948", "2501.08003", "2501.11001"]


def test_arxiv_abstract_page_is_read_from_citation_meta_tags():
    digest = parse(fixture("html", "arxiv-abs.html"), "1706.03762.html")
    (entry,) = digest.entries
    assert entry.title == "Attention Is All You Need"
    assert entry.arxiv_id == "1706.03762"
    assert entry.authors == ["Ashish Vaswani", "Noam Shazeer", "Niki Parmar"]
    assert entry.published == "2017-06-12"
    assert entry.abstract.startswith("The dominant sequence transduction models")
    assert entry.url == "https://arxiv.org/abs/1706.03762"
    assert digest.date == MTIME.date()


def test_any_page_linking_to_papers_gives_one_entry_per_id_with_the_link_text_as_title():
    digest = parse(fixture("html", "links-newsletter.html"), "newsletter.html")
    assert digest.format == "html"
    assert [(e.arxiv_id, e.title, e.url) for e in digest.entries] == [
        (
            "2501.12948",
            "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning",
            "https://huggingface.co/papers/2501.12948",
        ),
        ("2501.12599", "Kimi k1.5: Scaling Reinforcement Learning with LLMs", "https://arxiv.org/abs/2501.12599"),
        ("1706.03762", "Attention Is All You Need", "https://arxiv.org/abs/1706.03762"),
    ]


@pytest.mark.parametrize(
    "href, expected",
    [
        ("https://huggingface.co/papers/2501.12948", ("2501.12948", "https://huggingface.co/papers/2501.12948")),
        ("/papers/2501.12948#community", ("2501.12948", "https://huggingface.co/papers/2501.12948")),
        ("/papers/2501.12948/?ref=trending", ("2501.12948", "https://huggingface.co/papers/2501.12948")),
        ("http://export.arxiv.org/abs/1706.03762v7", ("1706.03762", "https://arxiv.org/abs/1706.03762")),
        ("/abs/hep-th/9901001v2", ("hep-th/9901001", "https://arxiv.org/abs/hep-th/9901001")),
        ("https://arxiv.org/pdf/2501.12948", None),
        ("/papers/date/2025-01-22", None),
        ("https://example.com/papers/2501.12948", None),
    ],
)
def test_paper_links_are_recognised_by_host_and_path(href, expected):
    assert html_page.paper_link(href) == expected


def test_html_page_copy_without_structure_falls_back_to_its_visible_text():
    digest = parse(fixture("html", "hf-text-copy.html"), "copy.html")
    assert digest.format == "html"
    assert digest.date == date(2024, 3, 11)  # "Mar 11", the latest one not after the file time
    first, second = digest.entries
    assert first.title == "Understanding self-supervised Learning Dynamics without Contrastive Pairs"
    assert first.authors_count == 3 and first.published == "2021-02-12" and first.upvotes == 1
    assert second.title == "Unsupervised Manifold Linearizing and Clustering"
    assert "not visible" not in first.abstract


def test_visible_text_drops_head_scripts_and_styles():
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(fixture("html", "hf-text-copy.html").decode(), "html.parser")
    text = html_page.visible_text(soup)
    assert "console.log" not in text and "margin" not in text and "saved as text-like" not in text
    assert "• 3 authors\n·\nFeb 12, 2021 1" in text


def test_html_page_without_papers_is_a_parse_error_that_says_so():
    with pytest.raises(ParseError, match="HTML page in which no papers were found"):
        parse(fixture("html", "not-papers.html"), "tart.html")


@pytest.mark.parametrize(
    "garbage",
    [
        "<html><body><div><div><span>",
        "<" * 5000,
        "<html><body>" + "<dt><a href='/abs/2501.00001'>x</a>" * 2000 + "</body></html>",
        "<div data-target='DailyPapers' data-props='[1, 2'></div>",
        "<div data-target='DailyPapers' data-props='" + "[" * 100000 + "'></div>",
    ],
)
def test_garbage_html_is_a_parse_error(garbage):
    with pytest.raises(ParseError):
        parse(garbage, "garbage.html")


# --- e-mail digests ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["hf-daily-papers.eml", "hf-daily-papers-plain.eml", "hf-page-copy.eml", "tracking-links.eml"]
)
def test_email_fixtures_are_recognised_as_email_by_their_headers(name):
    assert email_digest.looks_like_email(fixture("email", name).decode())


@pytest.mark.parametrize(
    "text",
    [
        "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n",
        "Subject: only one known header\nX-Other: value\n\nbody",
        '{"From": "x", "To": "y"}',
        "<html><body>From: a\nTo: b</body></html>",
        "Dear reader,\nFrom: me\nTo: you\n",
    ],
)
def test_text_that_does_not_start_with_mail_headers_is_not_email(text):
    assert not email_digest.looks_like_email(text)


def test_mbox_style_from_line_before_the_headers_is_still_email():
    mbox_line = "From no-reply@huggingface.co Wed Jan 22 14:05:00 2025\r\n"
    text = mbox_line + fixture("email", "hf-daily-papers.eml").decode()
    assert email_digest.looks_like_email(text)
    digest = parse(text, "saved-message")
    assert digest.format == "email"
    assert len(digest.entries) == 3


def test_email_html_part_is_preferred_and_read_like_a_saved_page(local_tz):
    local_tz("UTC")
    digest = parse(fixture("email", "hf-daily-papers.eml"), "daily.eml")
    assert digest.format == "email"
    assert digest.date == date(2025, 1, 22)
    # The HTML part lists three papers; the text part only two.
    assert ids(digest) == ["2501.12948", "2501.12599", "2501.12909"]
    assert digest.entries[0].title == "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning"
    assert digest.entries[0].url == "https://huggingface.co/papers/2501.12948"


def test_email_is_detected_by_its_headers_whatever_its_file_name(local_tz):
    local_tz("UTC")
    digest = parse(fixture("email", "hf-daily-papers.eml"), "message.txt")
    assert digest.format == "email"


def test_email_date_is_the_readers_local_day(local_tz):
    local_tz("Asia/Tokyo")  # 14:05 UTC on the 22nd is 23:05 in Tokyo
    assert parse(fixture("email", "hf-daily-papers.eml"), "daily.eml").date == date(2025, 1, 22)
    local_tz("Pacific/Kiritimati")  # UTC+14: already the 23rd
    assert parse(fixture("email", "hf-daily-papers.eml"), "daily.eml").date == date(2025, 1, 23)


def test_plain_text_email_takes_the_line_above_each_paper_link_as_its_title(local_tz):
    local_tz("America/New_York")
    digest = parse(fixture("email", "hf-daily-papers-plain.eml"), "plain.eml")
    assert digest.date == date(2025, 3, 10)
    assert [(e.arxiv_id, e.title, e.url) for e in digest.entries] == [
        ("2503.10622", "Transformers without Normalization", "https://huggingface.co/papers/2503.10622"),
        (
            "2406.12045",
            "$\\tau$-bench: A Benchmark for Tool-Agent-User Interaction in Real-World Domains",
            "https://huggingface.co/papers/2406.12045",
        ),
        ("1706.03762", "Attention Is All You Need", "https://arxiv.org/abs/1706.03762"),
    ]


def test_email_whose_html_has_only_tracking_links_falls_back_to_its_text_part():
    digest = parse(fixture("email", "tracking-links.eml"), "digest.eml")
    assert ids(digest) == ["2501.12948", "2501.12599"]
    assert digest.entries[1].title == "Kimi k1.5: Scaling Reinforcement Learning with LLMs"


def test_plain_email_without_links_is_read_as_a_hugging_face_page_copy():
    digest = parse(fixture("email", "hf-page-copy.eml"), "fwd.eml", mtime=datetime(2025, 4, 1, 12))
    assert digest.format == "email"
    first, second = digest.entries
    assert first.title == "Understanding self-supervised Learning Dynamics without Contrastive Pairs"
    assert (first.authors_count, first.published, first.upvotes) == (3, "2021-02-12", 1)
    assert second.authors_count == 1


def test_email_without_a_usable_date_header_is_dated_by_the_file_time():
    original = fixture("email", "tracking-links.eml").decode()
    date_line = "Date: Fri, 24 Jan 2025 07:00:00 +0000\r\n"
    for replacement in ("Date: someday soon\r\n", ""):
        text = original.replace(date_line, replacement)
        assert parse(text, "digest.eml").date == MTIME.date()


def test_multipart_email_whose_boundary_never_appears_is_a_parse_error_naming_the_defect():
    with pytest.raises(ParseError, match="malformed e-mail.*BoundaryNotFound"):
        parse(fixture("email", "broken-mime.eml"), "broken.eml")


def test_email_in_an_unknown_charset_is_a_parse_error_not_a_traceback():
    text = (
        "From: a@example.org\nTo: b@example.org\nSubject: x\nMIME-Version: 1.0\n"
        'Content-Type: text/plain; charset="x-no-such-charset"\nContent-Transfer-Encoding: base64\n\n'
        "VGl0bGUgb2YgYSBwYXBlcgpodHRwczovL2FyeGl2Lm9yZy9hYnMvMjUwMS4xMjk0OA==\n"
    )
    with pytest.raises(ParseError, match="malformed e-mail"):
        parse(text, "odd.eml")


@pytest.mark.parametrize(
    "garbage",
    [
        "just some words in a file named like an e-mail",
        "From: a@example.org\nTo: b@example.org\nSubject: nothing here\n\nHello, no papers today.\n",
        "From: a@example.org\nTo: b@example.org\nContent-Type: text/html\n\n<p>no papers</p>",
        "From: a@example.org\nTo: b@example.org\nContent-Type: image/png\n"
        "Content-Transfer-Encoding: base64\n\niVBORw0KGgo=\n",
        "From: a@example.org\nTo: b@example.org\nContent-Type: multipart/alternative\n\n--x\n\n--x--\n",
    ],
)
def test_email_without_papers_or_with_garbage_is_a_parse_error(garbage):
    with pytest.raises(ParseError):
        parse(garbage, "garbage.eml")
