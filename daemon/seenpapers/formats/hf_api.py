"""Hugging Face daily-papers API JSON (``/api/daily_papers?date=…``).

A list of items ``{"paper": {id, title, summary, authors, publishedAt, submittedOnDailyAt,
upvotes}, "title": <title as displayed>, "publishedAt": …}``. Real downloads also come
damaged: a list of Python-repr strings of those items, or the list wrapped in an object
(``{"status": …, "data": [...]}``). Both still hold every paper, so both are read.
"""

from __future__ import annotations

import ast
import json
import re
from collections import Counter
from datetime import date, datetime
from pathlib import PurePath

from ..entry import Entry, ParsedDigest, ParseError

FORMAT = "hf-api"
_LIST_KEYS = ("dailyPapers", "data", "papers", "searchResults", "results", "items")
_ISO_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise ParseError(
            f"not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
            + ("" if text.rstrip().endswith(("]", "}")) else " (the file ends early: truncated?)")
        ) from None
    except RecursionError:
        raise ParseError("JSON nested too deeply to be a digest") from None
    items = _items(data)
    entries = entries_from_items(items)
    if items and not entries:  # [] is a day without papers; [1, 2, 3] is no digest
        raise ParseError(f"no papers found in this JSON: none of its {len(items):,} items is a paper")
    return ParsedDigest(FORMAT, digest_date(name, entries, mtime), entries)


def entries_from_items(items: list) -> list[Entry]:
    """Entries from API items (also used for the JSON embedded in saved HF pages)."""
    entries = []
    for number, item in enumerate(items, 1):
        if isinstance(item, str):
            item = _from_python_repr(item, number)
        entry = _entry(item)
        if entry is not None:
            entries.append(entry)
    return entries


def digest_date(name: str, entries: list[Entry], mtime: datetime) -> date:
    """The day a digest is about: named in the file (2024-05-27.json), else the day most of
    its papers were put on the daily list, else the file's own date."""
    named = _ISO_DATE.search(PurePath(name).name)
    if named:
        try:
            return date.fromisoformat(named.group(1))
        except ValueError:
            pass
    days = Counter(e.submitted[:10] for e in entries if e.submitted)
    if days:
        return date.fromisoformat(days.most_common(1)[0][0])
    return mtime.date()


def _items(data) -> list:
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        for key in _LIST_KEYS:
            if isinstance(data.get(key), list):
                return data[key]
        if "paper" in data or "title" in data:
            return [data]
        raise ParseError(
            "JSON object without a list of papers (looked for: %s)" % ", ".join(_LIST_KEYS)
        )
    raise ParseError(f"JSON {type(data).__name__} is not a list of papers")


def _from_python_repr(item: str, number: int) -> dict:
    # Damaged downloads hold str(dict) instead of the dict: literal_eval reads it safely.
    try:
        value = ast.literal_eval(item.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise ParseError(f"item {number} is a string but not a paper record") from None
    if not isinstance(value, dict):
        raise ParseError(f"item {number} is a string but not a paper record")
    return value


def _entry(item) -> Entry | None:
    if not isinstance(item, dict):
        return None
    paper = item.get("paper") if isinstance(item.get("paper"), dict) else item
    title = _str(item.get("title")) or _str(paper.get("title"))
    if not title.strip():
        return None
    authors = paper.get("authors") if isinstance(paper.get("authors"), list) else []
    names = [_str(a.get("name")) if isinstance(a, dict) else _str(a) for a in authors]
    upvotes = paper.get("upvotes")
    return Entry(
        title=title,
        abstract=_str(paper.get("summary")) or _str(item.get("summary")),
        authors=names,
        authors_count=len(authors) or None,
        arxiv_id=_str(paper.get("id")) or None,
        published=_day(paper.get("publishedAt")),
        submitted=_time(paper.get("submittedOnDailyAt")) or _time(item.get("publishedAt")),
        upvotes=upvotes if isinstance(upvotes, int) and not isinstance(upvotes, bool) else None,
        url=f"https://huggingface.co/papers/{_str(paper['id'])}" if _str(paper.get("id")) else None,
    )


def _time(value) -> str | None:
    """An ISO timestamp as given, or None when it does not start with a real day."""
    if not isinstance(value, str) or not _ISO_DATE.match(value):
        return None
    try:
        date.fromisoformat(value[:10])  # "2024-13-45" and non-ASCII digits are no day
    except ValueError:
        return None
    return _str(value)


def _day(value) -> str | None:
    return _time(value) and value[:10]


def _str(value) -> str:
    """A JSON string as text; half a UTF-16 pair ("\\ud800", which JSON may spell but SQLite
    cannot store) becomes U+FFFD."""
    if not isinstance(value, str):
        return ""
    if value.isascii():
        return value
    return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
