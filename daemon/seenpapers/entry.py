"""What every parser produces: a digest's entries, in the order they were shown."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

from . import text


MAX_TITLE = 1000
MAX_ABSTRACT = 50_000


@dataclass
class Entry:
    """One paper as it appears in one digest (display text, not keys)."""

    title: str
    abstract: str = ""
    authors: list[str] = field(default_factory=list)
    authors_count: int | None = None
    arxiv_id: str | None = None
    published: str | None = None  # ISO date the paper appeared (arXiv / HF)
    submitted: str | None = None  # ISO time it was put on the digest (HF daily)
    upvotes: int | None = None
    url: str | None = None
    doi: str | None = None  # normalised (text.doi); arXiv's own DOIs become arxiv_id
    version: int | None = None  # the arXiv version shown (a replacement's "v3"), when known
    truncated: bool = False  # the digest cut the title or the author list short ("…")
    title_key: str = field(init=False, repr=False)  # for matching only, never shown

    def __post_init__(self):
        # Bounded so a hostile file cannot make every answer about it megabytes long.
        self.title = text.clean(self.title)[:MAX_TITLE]
        self.abstract = text.unwrap(self.abstract)[:MAX_ABSTRACT]
        self.authors = [name for name in (text.clean(a) for a in self.authors) if name]
        if self.authors_count is None and self.authors:
            self.authors_count = len(self.authors)
        shown_id = self.arxiv_id
        self.doi = text.doi(self.doi) or text.doi(self.url)  # a doi.org or bioRxiv address names it
        if text.doi_arxiv_id(self.doi):
            shown_id, self.doi = shown_id or text.doi_arxiv_id(self.doi), None
        self.arxiv_id = text.arxiv_id(shown_id) or text.arxiv_id(self.url)
        if self.version is None:
            self.version = text.arxiv_version(shown_id) or text.arxiv_version(self.url)
        self.title_key = text.title_key(self.title)

    # Computed once, where the entry is parsed (another process, at a backfill), and kept
    # with it when it is sent back.
    @cached_property
    def title_parts(self) -> list[list[str]]:
        return text.title_parts(self.title)

    @cached_property
    def authors_json(self) -> str | None:
        """The authors as papers.authors stores them."""
        return json.dumps(self.authors, ensure_ascii=False) if self.authors else None


@dataclass
class ParsedDigest:
    """A parsed file: its format, the day it is about, and its entries. A visit (the
    extension's record of the papers on screen) also says which page it was and when."""

    format: str
    date: date | None
    entries: list[Entry]
    kind: str = "digest"  # "visit" or "digest" (everything else), as digests.kind stores it
    page: str | None = None  # the address of the page visited
    started: str | None = None  # when the visit began (UTC ISO)


class ParseError(ValueError):
    """The file cannot be read as a digest; the message says why, for a person."""
