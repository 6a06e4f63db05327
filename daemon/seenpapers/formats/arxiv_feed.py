"""arXiv feeds: RSS 2.0 (rss.arxiv.org/rss/cs.LG), Atom (export.arxiv.org/api/query) and the
older RSS 1.0/RDF listings (export.arxiv.org/rss/cs.LG before 2024).

feedparser reads all three into one shape. What differs is cleaned up here:
- RSS 2.0 descriptions start with "arXiv:2501.01234v1 Announce Type: new Abstract: …";
- RSS 1.0 titles end with "(arXiv:2003.05012v1 [cs.LG])", descriptions and creators are HTML;
- RSS puts every author in one comma-separated dc:creator, Atom has one author element each.
"""

from __future__ import annotations

import html
import io
import re
from datetime import date, datetime
from email.utils import parsedate_to_datetime

import feedparser

from ..entry import Entry, ParsedDigest, ParseError
from ..text import arxiv_id, clean

FORMAT = "arxiv-feed"

_ANNOUNCE = re.compile(r"^\s*arXiv:\S+\s+Announce Type:\s*\S+\s*(?:Abstract:\s*)?", re.I)
_TITLE_SUFFIX = re.compile(r"\.?\s*\(arXiv:[^()]*\)\s*$")
# Only real tag shapes: TeX such as "$a<b$" in an abstract must survive.
_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9]*)(?:\s[^<>]*)?/?>")
_BREAKS = {"p", "br", "div", "li"}
_CLOSED = re.compile(r"</(?:[\w.-]+:)?(?:rss|feed|RDF)\s*>\s*$")


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    try:
        # A stream, never the string itself: feedparser would fetch a string that looks like
        # a URL or open one that names a file. The text is already decoded, so say UTF-8.
        feed = feedparser.parse(
            io.BytesIO(text.encode("utf-8")),
            response_headers={"content-type": "application/xml; charset=utf-8"},
        )
    except Exception as e:  # feedparser's lenient fallback parser can trip on hostile input
        raise ParseError(f"feed could not be read: {type(e).__name__}: {e}"[:300]) from None
    if feed.get("bozo") and not _CLOSED.search(text[-256:]):
        # Not well-formed and missing its closing tag: a cut-off download, whose last paper
        # would come out half-written. Other damage is left to feedparser's lenient parser.
        reason = f"feed ends early (truncated download?): {feed.get('bozo_exception')}"
        raise ParseError(reason[:300])
    entries = [e for e in map(_entry, feed.entries) if e is not None]
    if not entries and not _well_formed_and_empty(feed):
        raise ParseError(_why_empty(feed))
    newest = max((e.published for e in entries if e.published), default=None)
    day = (
        _day(feed.feed, "updated")
        or _day(feed.feed, "published")
        or (date.fromisoformat(newest) if newest else mtime.date())
    )
    return ParsedDigest(FORMAT, day, entries)


def _entry(item) -> Entry | None:
    if _is_api_error(item):
        return None
    title = _TITLE_SUFFIX.sub("", _plain(item.get("title"), _is_html(item, "title")))
    if not title.strip():
        return None
    link = item.get("link") or ""
    published = _day(item, "published") or _day(item, "updated")
    return Entry(
        title=title,
        abstract=_ANNOUNCE.sub("", _plain(item.get("summary"), _is_html(item, "summary"))),
        authors=_authors(item),
        # Atom id and RSS guid carry the version ("…v1"); Entry keeps the id without it.
        arxiv_id=arxiv_id(item.get("id")) or arxiv_id(link),
        published=published.isoformat() if published else None,
        url=link or None,
    )


def _authors(item) -> list[str]:
    names = [_plain(a.get("name")) for a in item.get("authors", []) if isinstance(a, dict)]
    if len(names) == 1 and "," in names[0]:
        # RSS: "Jane Doe, Richard Roe, and Al Smith" in a single dc:creator.
        names = [re.sub(r"^and\s+", "", n.strip()) for n in names[0].split(",")]
    return names


def _plain(value, is_html: bool = False) -> str:
    """Feed text as plain text: tags out, entities decoded (RSS 1.0 sends HTML; feedparser
    gives an RSS description as HTML, "R&D" as "R&amp;D")."""
    if not isinstance(value, str):
        return ""
    if not _TAG.search(value):
        return html.unescape(value) if is_html and "&" in value else value
    stripped = _TAG.sub(lambda m: "\n" if m[1].lower() in _BREAKS else "", value)
    return html.unescape(stripped)


def _is_html(item, key: str) -> bool:
    detail = item.get(key + "_detail")
    return isinstance(detail, dict) and detail.get("type") in ("text/html", "application/xhtml+xml")


def _day(obj, key: str) -> date | None:
    """The date as the feed writes it (its own time zone), else feedparser's UTC reading."""
    raw = obj.get(key)
    if not isinstance(raw, str) or not raw.strip():
        return None
    for read in (parsedate_to_datetime, datetime.fromisoformat):
        try:
            return read(raw.strip()).date()
        except (TypeError, ValueError, IndexError, OverflowError):
            pass
    parsed = obj.get(key + "_parsed")
    return date(*parsed[:3]) if parsed else None


def _is_api_error(item) -> bool:
    # The arXiv API answers a bad query with a feed whose one entry is the error message.
    return "arxiv.org/api/errors" in (item.get("id") or "")


def _well_formed_and_empty(feed) -> bool:
    # arXiv sends feeds without items on days without announcements (every weekend): a
    # digest of 0 papers, not a failure.
    return bool(feed.get("version")) and not feed.get("bozo") and not feed.entries


def _why_empty(feed) -> str:
    errors = [e for e in feed.entries if _is_api_error(e)]
    if errors:
        return "the arXiv API answered with an error: " + clean(_plain(errors[0].get("summary")))
    if feed.get("bozo"):
        return f"not a readable RSS or Atom feed: {feed.get('bozo_exception')}"[:300]
    if not feed.get("version"):
        return "XML, but not an RSS or Atom feed"
    return "no papers found in this feed: none of its items is a paper"
