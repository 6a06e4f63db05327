"""A Hugging Face papers page as text: a copy of the page, or the extension's capture.

The layout, paragraph by paragraph (blank lines separate paragraphs)::

    new / Get trending papers in your email inbox! / Subscribe / Daily Papers /
    byAK and the research community          <- header lines
    Mar 11                                   <- the page date, without a year
    <title>
    <abstract, one paragraph>                <- optional
      • 3 authors                            <- optional author block: count,
    ·                                           a dot, the paper's date (year
    Feb 12, 2021 1                              optional) and upvotes (optional)
    <title> ...

Today's list pages (daily, weekly, monthly, search, trending) show compact cards, and
their visible text (the extension's capture) has no blank lines between them::

    Submitted by akhaliq                     <- optional
    87                                       <- upvotes
    <title>
    · 11 authors
    1                                        <- comments (ignored)

A text with such cards is read card by card from its author lines instead.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from ..entry import Entry, ParsedDigest, ParseError

FORMAT = "hf-text"

_HEADER_LINES = {
    "new",
    "get trending papers in your email inbox!",
    "subscribe",
    "daily papers",
    "byak and the research community",
    "trending papers",
}
_HF_MARKERS = ("byak and the research community", "get trending papers in your email inbox")
MONTHS = {m: i for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split(), 1)}
_MONTH = r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?"
_PAGE_DATE = re.compile(rf"^{_MONTH}\s+(\d{{1,2}})(?:,\s*(\d{{4}}))?$", re.I)
_PAPER_DATE = re.compile(rf"^{_MONTH}\s+(\d{{1,2}})(?:,\s*(\d{{4}}))?(?:\s+(\d+))?$", re.I)
_AUTHORS = re.compile(r"^[•·\-*]?\s*(\d+)\s+authors?$", re.I)
_PARAGRAPHS = re.compile(r"\n[ \t\r\f\v]*\n")


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    text = text.replace("\r\n", "\n")
    lines = [line.strip() for line in text.split("\n")]
    if _compact_cards(lines):
        page_date = _compact_page_date(lines, mtime.date())
        return ParsedDigest(FORMAT, page_date, _compact_entries(lines, page_date))
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text)]
    paragraphs = [p for p in paragraphs if p]
    page_date, body = _split_header(paragraphs, mtime.date())
    if not _looks_like_hf(paragraphs, body):
        raise ParseError(
            "unrecognised text: neither a Hugging Face papers page nor any other known format"
        )
    return ParsedDigest(FORMAT, page_date or mtime.date(), _entries(body, page_date or mtime.date()))


# --- compact cards ------------------------------------------------------------------------


def _compact_cards(lines: list[str]) -> list[int]:
    """Where the author lines of compact cards are: each right under its title (in the
    older layout an author block starts a paragraph of its own)."""
    found = [i for i, line in enumerate(lines) if i > 0 and _AUTHORS.match(line) and _is_card_title(lines[i - 1])]
    return found if len(found) * 2 >= sum(1 for line in lines if _AUTHORS.match(line)) else []


def _is_card_title(line: str) -> bool:
    return bool(line) and _is_title(line) and not line.isdigit() and line not in ("·", "•") \
        and not _PAPER_DATE.match(line) and not line.lower().startswith("submitted by")


def _compact_page_date(lines: list[str], today: date) -> date:
    # The header shows the day between "Previous" and "Next", on one line or on its own.
    for line in lines[:_compact_cards(lines)[0]]:
        if match := _DAY_IN_LINE.search(line):
            return _resolve(match, today)
    return today


_DAY_IN_LINE = re.compile(rf"\b{_MONTH}\s+(\d{{1,2}})\b(?:,\s*(\d{{4}}))?", re.I)


def _compact_entries(lines: list[str], page_date: date) -> list[Entry]:
    entries = []
    for i in _compact_cards(lines):
        fields = {"title": lines[i - 1], "authors_count": int(_AUTHORS.match(lines[i]).group(1))}
        before = next((line for line in reversed(lines[max(0, i - 4):i - 1]) if line), "")
        if before.isdigit():
            fields["upvotes"] = int(before)
        entries.append(Entry(**fields))
    return entries


# --- paragraphs ---------------------------------------------------------------------------


def _split_header(paragraphs: list[str], today: date) -> tuple[date | None, list[str]]:
    """The page date and the paragraphs after the header (header lines, then the date)."""
    for i, paragraph in enumerate(paragraphs[:12]):
        match = _PAGE_DATE.match(paragraph)
        if match:
            return _resolve(match, today), paragraphs[i + 1 :]
        if paragraph.lower() not in _HEADER_LINES:
            break
    start = 0
    while start < len(paragraphs) and paragraphs[start].lower() in _HEADER_LINES:
        start += 1
    return None, paragraphs[start:]


def _looks_like_hf(paragraphs: list[str], body: list[str]) -> bool:
    head = " ".join(paragraphs[:12]).lower()
    return any(m in head for m in _HF_MARKERS) or any(_author_block(p) for p in body)


def _entries(body: list[str], page_date: date) -> list[Entry]:
    entries: list[Entry] = []
    current: dict | None = None
    for paragraph in body:
        block = _author_block(paragraph)
        if block is not None:
            if current is not None:
                current.update(_block_fields(block, page_date))
                entries.append(Entry(**current))
                current = None
            continue
        if current is not None and not current["abstract"] and _is_abstract(paragraph):
            current["abstract"] = paragraph
            continue
        if _is_title(paragraph):
            if current is not None:
                entries.append(Entry(**current))
            current = {"title": paragraph, "abstract": ""}
        # anything else (a stray second abstract paragraph, page chrome) is not a paper
    if current is not None:
        entries.append(Entry(**current))
    return entries


def _is_title(paragraph: str) -> bool:
    return "\n" not in paragraph and len(paragraph) <= 400 and not _is_abstract(paragraph)


def _is_abstract(paragraph: str) -> bool:
    # Titles are one short line that may ask a question but rarely ends with a full stop;
    # abstracts are prose made of sentences.
    ends_sentence = paragraph.endswith(".") and len(paragraph.split()) >= 8
    return len(paragraph) > 400 or ends_sentence or len(re.findall(r"\.\s", paragraph)) >= 2


def _author_block(paragraph: str) -> list[str] | None:
    """The lines of an author/date block, or None when the paragraph is something else."""
    lines = [line.strip() for line in paragraph.split("\n") if line.strip()]
    if not lines or not all(
        _AUTHORS.match(line) or line in ("·", "•") or _PAPER_DATE.match(line) for line in lines
    ):
        return None
    if not any(_AUTHORS.match(line) or line in ("·", "•") for line in lines):
        return None  # a lone "Mar 3" line is not a block
    return lines


def _block_fields(lines: list[str], page_date: date) -> dict:
    fields = {}
    for line in lines:
        if m := _AUTHORS.match(line):
            fields["authors_count"] = int(m.group(1))
        elif m := _PAPER_DATE.match(line):
            fields["published"] = _resolve(m, page_date).isoformat()
            if m.group(4):
                fields["upvotes"] = int(m.group(4))
    return fields


def _resolve(match: re.Match, not_after: date) -> date:
    """'Mar 11' is the latest March 11 not after ``not_after``; a given year wins."""
    month, day = MONTHS[match.group(1)[:3].lower()], int(match.group(2))
    if match.group(3):
        try:
            return date(int(match.group(3)), month, day)
        except ValueError:
            pass
    for year in range(not_after.year, not_after.year - 8, -1):
        try:
            candidate = date(year, month, day)
        except ValueError:  # Feb 29, Apr 31 ...
            continue
        if candidate <= not_after:
            return candidate
    return not_after
