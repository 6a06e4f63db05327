"""Visits: the browser extension's record of the papers that were on screen during one visit
of a page, posted as JSON; the key "seenpapers" comes first, so the dispatcher knows it::

    {"seenpapers": "visit", "version": 1, "page": URL, "page_title": …, "visit": id, "part": n,
     "started": UTC time, "date": local YYYY-MM-DD,
     "papers": [{"title", "arxiv_id"?, "url"?, "abstract"?, "authors"?, "seen_at"?}, …]}

The format is our own, so it is read strictly: a field of the wrong type is a bug in whatever
wrote the file, and is reported rather than guessed around. Only a paper without a title is
skipped (a card whose title had not rendered). Each part of a long visit is a digest of its own.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timezone

from ..entry import MAX_TITLE, Entry, ParsedDigest, ParseError
from ..text import clean

FORMAT = KIND = "visit"
VERSION = 1
MAX_URL = 20_000  # the extension cuts its fields there; servers refuse addresses far shorter
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_JSON_TYPES = {dict: "an object", list: "a list", str: "a string", int: "a number", float: "a number",
               bool: "true or false", type(None): "null"}


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    data = _load(text)
    if not isinstance(data, dict) or data.get("seenpapers") != "visit":
        raise ParseError('not a visit: expected a JSON object starting with "seenpapers": "visit"')
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise ParseError(f"visit format version {version!r}: this seenpapers reads version {VERSION} (update it?)")
    papers = data.get("papers")
    if papers is None:
        raise ParseError('a visit without "papers" (the list of papers that were on screen)')
    if not isinstance(papers, list):
        raise ParseError(f'"papers" is {_json_type(papers)}, not a list of papers')
    entries = [entry for entry in (_entry(item, n) for n, item in enumerate(papers, 1)) if entry is not None]
    if papers and not entries:
        raise ParseError(f"no papers found in this visit: none of its {len(papers):,} cards has a title")
    started = _time(data.get("started"), '"started"')
    day = _day(data.get("date")) or (started and date.fromisoformat(started[:10])) or mtime.date()
    page = clean(_string(data, "page", "the visit", MAX_URL)) or None
    return ParsedDigest(FORMAT, day, entries, kind=KIND, page=page, started=started)


def _load(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        ends_early = not text.rstrip().endswith("}")
        raise ParseError(f"visit is not valid JSON: {e.msg} at line {e.lineno}, column {e.colno}"
                         + (" (the file ends early: truncated?)" if ends_early else "")) from None
    except RecursionError:
        raise ParseError("visit JSON nested too deeply") from None
    except ValueError as e:  # a number of over 4,300 digits (Python's limit on int())
        raise ParseError(f"visit JSON cannot be read: {e}"[:200]) from None


def _entry(item, n: int) -> Entry | None:
    where = f"paper {n}"
    if not isinstance(item, dict):
        raise ParseError(f"{where} is {_json_type(item)}, not an object with a title")
    title = clean(_string(item, "title", where))
    if not title:
        return None
    if len(title) > MAX_TITLE:  # a card's whole text taken for its title, or a hostile file
        raise ParseError(f"{where}: title is {len(title):,} characters (limit {MAX_TITLE:,}): not a title")
    return Entry(
        title=title,
        abstract=_string(item, "abstract", where),
        authors=_authors(item.get("authors"), where),
        arxiv_id=_string(item, "arxiv_id", where, MAX_URL) or None,
        url=_string(item, "url", where, MAX_URL) or None,
    )


def _authors(value, where: str) -> list[str]:
    """A list of names, or one string of them ("A. One, B. Two and C. Three")."""
    if value is None:
        return []
    if isinstance(value, str):
        return [name for name in re.split(r"\s*(?:[,;]|\band\b)\s*", _text(value)) if name]
    if not isinstance(value, list) or not all(isinstance(name, str) for name in value):
        raise ParseError(f'{where}: "authors" must be a list of names or one string, not {_json_type(value)}'
                         + (" holding other things" if isinstance(value, list) else ""))
    return [_text(name) for name in value]


def _string(obj: dict, key: str, where: str, limit: int | None = None) -> str:
    value = obj.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ParseError(f'{where}: "{key}" is {_json_type(value)}, not a string')
    if limit is not None and len(value) > limit:
        raise ParseError(f'{where}: "{key}" is {len(value):,} characters (limit {limit:,})')
    return _text(value)


def _day(value) -> date | None:
    """The visit's local calendar day, when given."""
    if value is None:
        return None
    if isinstance(value, str) and _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ParseError(f'"date" is {_shown(value)}, not a day (YYYY-MM-DD)')


def _time(value, what: str) -> str | None:
    """An ISO time as UTC, as every time in the database is stored (a time without a zone is
    taken as UTC: the extension sends UTC)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value) if isinstance(value, str) and _DAY.match(value) else None
        when = when and when.replace(tzinfo=when.tzinfo or timezone.utc).astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: year 9999 in a zone west of UTC
        when = None
    if when is None:
        raise ParseError(f"{what} is {_shown(value)}, not an ISO time (2026-12-07T13:05:00Z)")
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")


def _text(value: str) -> str:
    """Half a UTF-16 pair ("\\ud800", which JSON may spell but SQLite cannot store) becomes U+FFFD."""
    return value if value.isascii() else value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _json_type(value) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _shown(value) -> str:
    return repr(value)[:40] if isinstance(value, str) else _json_type(value)
