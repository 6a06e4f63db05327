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
    paragraphs = [p.strip() for p in _PARAGRAPHS.split(text.replace("\r\n", "\n"))]
    paragraphs = [p for p in paragraphs if p]
    page_date, body = _split_header(paragraphs, mtime.date())
    if not _looks_like_hf(paragraphs, body):
        raise ParseError(
            "unrecognised text: neither a Hugging Face papers page nor any other known format"
        )
    return ParsedDigest(FORMAT, page_date or mtime.date(), _entries(body, page_date or mtime.date()))


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
