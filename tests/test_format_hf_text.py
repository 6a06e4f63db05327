from datetime import date, datetime

import pytest

from seenpapers.formats import ParseError, parse

from .conftest import SEEDS

SEED_COUNTS = {
    "000_be2405954437598b.txt": 46,
    "001_19abc27bf335d619.txt": 35,
    "002_1b60d9b1a3c1c899.txt": 48,
    "003_5fcda699d96b63a4.txt": 45,
    "004_3a77ad475cd25961.txt": 65,
}


def parse_text(text: str, mtime="2026-11-22T10:00:00", name="page.txt"):
    return parse(text.encode(), name=name, mtime=datetime.fromisoformat(mtime))


@pytest.mark.parametrize("name,count", SEED_COUNTS.items())
def test_every_seed_dump_gives_all_its_papers_with_abstracts(name, count):
    digest = parse((SEEDS / name).read_bytes(), name=name, mtime=datetime(2026, 11, 22))
    assert digest.format == "hf-text"
    assert len(digest.entries) == count
    assert all(e.title and len(e.abstract) > 200 for e in digest.entries)
    assert not any(e.title.lower() in ("new", "subscribe", "daily papers") for e in digest.entries)


def test_page_date_without_a_year_is_the_latest_such_day_not_after_the_file_time():
    digest = parse((SEEDS / "001_19abc27bf335d619.txt").read_bytes(), name="x.txt", mtime=datetime(2026, 11, 22))
    assert digest.date == date(2025, 12, 11)  # "Dec 11", never a date in the future
    digest = parse((SEEDS / "000_be2405954437598b.txt").read_bytes(), name="x.txt", mtime=datetime(2026, 11, 22))
    assert digest.date == date(2026, 3, 11)
    digest = parse((SEEDS / "000_be2405954437598b.txt").read_bytes(), name="x.txt", mtime=datetime(2026, 3, 10))
    assert digest.date == date(2025, 3, 11)


def test_author_block_gives_count_date_and_upvotes():
    entries = parse((SEEDS / "001_19abc27bf335d619.txt").read_bytes(), name="x.txt", mtime=datetime(2026, 11, 22)).entries
    first = entries[0]
    assert first.title == "Understanding self-supervised Learning Dynamics without Contrastive Pairs"
    assert (first.authors_count, first.published, first.upvotes) == (3, "2021-02-12", 1)
    assert (entries[1].authors_count, entries[1].published, entries[1].upvotes) == (6, "2023-01-04", None)
    # "Aug 28 1": a paper date without a year resolves against the page date (Dec 11, 2025)
    embedding = next(e for e in entries if e.title.startswith("On the Theoretical Limitations"))
    assert (embedding.published, embedding.upvotes) == ("2025-08-28", 1)


def test_titles_that_ask_questions_are_not_taken_for_abstracts():
    entries = parse((SEEDS / "000_be2405954437598b.txt").read_bytes(), name="x.txt", mtime=datetime(2026, 11, 22)).entries
    assert any(e.title.startswith("When Can Models Learn From Explanations?") for e in entries)


PAGE = """Daily Papers

byAK and the research community

Feb 29

A Paper Without An Abstract

Another Paper: With a Long Abstract

This abstract is one paragraph. It has several sentences, and it goes on for a while to look like prose.

  • 1 author
·
Mar 3, 2024 12

Last Paper Title
"""


def test_entries_without_abstracts_or_author_blocks_are_kept():
    digest = parse_text(PAGE, mtime="2026-11-22T10:00:00")
    assert [e.title for e in digest.entries] == [
        "A Paper Without An Abstract",
        "Another Paper: With a Long Abstract",
        "Last Paper Title",
    ]
    assert digest.entries[0].abstract == ""
    assert digest.entries[1].abstract.startswith("This abstract is one paragraph.")
    assert (digest.entries[1].authors_count, digest.entries[1].published, digest.entries[1].upvotes) == (1, "2024-03-03", 12)
    assert digest.date == date(2024, 2, 29)  # the latest Feb 29 before the file time


def test_windows_line_endings_parse_the_same():
    assert [e.title for e in parse_text(PAGE.replace("\n", "\r\n")).entries] == [e.title for e in parse_text(PAGE).entries]


def test_plain_prose_is_not_taken_for_a_digest():
    with pytest.raises(ParseError, match="unrecognised text"):
        parse_text("Dear diary,\n\nToday I went for a walk.\n\nIt rained.\n")


def test_hostile_titles_stay_text():
    digest = parse_text("byAK and the research community\n\nMar 1\n\n<img src=x onerror=alert(1)>\u0007 Title\n")
    assert digest.entries[0].title == "<img src=x onerror=alert(1)> Title"


COMPACT = """Hugging Face Models Papers
Daily Papers

by AK and the research community

Daily Weekly Monthly
Previous Jan 22 Next Trending
Submitted by akhaliq

87
Matryoshka Representation Learning
· 11 authors
1
Submitted by taesiri

31
2D Matryoshka Sentence Embeddings
· 5 authors
4
TOS Privacy
"""


def test_todays_compact_cards_as_captured_give_title_authors_and_upvotes():
    digest = parse_text(COMPACT, mtime="2025-03-01T10:00:00")
    assert digest.date == date(2025, 1, 22)
    assert [(e.title, e.authors_count, e.upvotes) for e in digest.entries] == [
        ("Matryoshka Representation Learning", 11, 87),
        ("2D Matryoshka Sentence Embeddings", 5, 31),
    ]

