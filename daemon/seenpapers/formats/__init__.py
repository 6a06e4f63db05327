"""Which parser reads a file: sniff the bytes, decode them, hand the text to one format module.

Each module in this package reads one format and has the same face:
``parse(text, *, name, mtime) -> ParsedDigest``, raising ``ParseError`` with a reason a
person can act on. Nothing here touches the database.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import PurePath

from ..entry import ParsedDigest, ParseError
from . import (arxiv_feed, arxiv_mail, email_digest, hf_api, hf_text, html_page, journal_toc, preprint_alert,
               scholar_alert, visit)

MAX_BYTES = 32 * 1024 * 1024  # the largest real digest is 250 kB; anything this big is not one
MAX_ENTRIES = 10_000  # a month of HF papers or a week of an arXiv category is far fewer

__all__ = ["parse", "describe", "ParseError", "MAX_BYTES"]

# Each format in words, for a person reading `seenpapers ingest`'s output.
_DESCRIPTIONS = {
    arxiv_feed.FORMAT: "arXiv feed",
    arxiv_mail.FORMAT: arxiv_mail.DESCRIPTION,
    email_digest.FORMAT: "e-mail with links to papers",
    hf_api.FORMAT: "Hugging Face API JSON",
    hf_text.FORMAT: "Hugging Face page as text",
    html_page.FORMAT: "saved page",
    journal_toc.FORMAT: journal_toc.DESCRIPTION,
    preprint_alert.FORMAT: preprint_alert.DESCRIPTION,
    scholar_alert.FORMAT: scholar_alert.DESCRIPTION,
    visit.FORMAT: "visit (the papers the extension saw on screen)",
}


def describe(format: str | None) -> str:
    return _DESCRIPTIONS.get(format, format or "unknown")


def parse(data: bytes, *, name: str, mtime: datetime) -> ParsedDigest:
    """Parse one digest file's bytes; raise ParseError when it is not a digest."""
    if len(data) > MAX_BYTES:
        raise ParseError(f"file too large: {len(data):,} bytes (limit {MAX_BYTES:,})")
    if not data.strip():
        raise ParseError("empty file")
    text = decode(data)
    module = _module_for(text, name)
    digest = module.parse(text, name=name, mtime=mtime)
    # An empty but well-formed digest (a weekend feed, a listing with "No updates") is a
    # digest of 0 papers: each module raises for a file that is not its kind of digest.
    shown = len(digest.entries)
    digest.entries = [e for e in digest.entries if e.title]  # a title of control characters is none
    if shown and not digest.entries:
        raise ParseError(f"no papers found in this {digest.format} file: none of its {shown} entries has a title")
    if len(digest.entries) > MAX_ENTRIES:
        raise ParseError(f"{len(digest.entries):,} papers in one file (limit {MAX_ENTRIES:,}): not a digest")
    return digest


def decode(data: bytes) -> str:
    """Bytes to text: UTF-8 (or UTF-16 with a BOM), else Windows-1252, never binary."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if _looks_binary(data):
        raise ParseError("binary file: not text, JSON, HTML, a feed or an e-mail")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1")


_CONTROL_BYTES = bytes(b for b in range(32) if b not in b"\t\n\r\f")


def _looks_binary(data: bytes) -> bool:
    sample = data[:65536]
    controls = len(sample) - len(sample.translate(None, _CONTROL_BYTES))
    return b"\x00" in sample or controls > len(sample) * 0.02


_VISIT_HEAD = re.compile(r'\{\s*"seenpapers"\s*:\s*"visit"')
# What may come before a document's first element: XML declarations, processing
# instructions, comments, space.
_PROLOG = re.compile(r"(?:<\?[^>]*\?>|<!--.*?-->|\s)*", re.S)


def _module_for(text: str, name: str):
    head = text.lstrip()[:4096].lower()
    suffix = PurePath(name).suffix.lower()
    if suffix == ".eml" or email_digest.looks_like_email(text):
        return email_digest
    if _VISIT_HEAD.match(head):  # the extension's visits say so in their first key
        return visit
    if head[:1] in ("[", "{"):
        return hf_api
    # XHTML (arXiv's pages before HTML5) starts like a feed, with <?xml …?>: its first
    # element says it is a page.
    if head[_PROLOG.match(head).end():].startswith(("<!doctype html", "<html")):
        return html_page
    # Markup starts with a tag; plain text that only mentions one (a paper titled
    # "... <body> ...", "<feed>") is still plain text.
    if head.startswith("<") and (head.startswith("<?xml") or "<rss" in head or "<feed" in head or "<rdf:rdf" in head):
        return arxiv_feed
    if suffix in (".html", ".htm") or head.startswith("<"):
        return html_page
    if arxiv_mail.looks_like(text):  # the body of an arXiv digest, saved as text
        return arxiv_mail
    return hf_text
