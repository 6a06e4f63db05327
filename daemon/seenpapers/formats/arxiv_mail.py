"""arXiv mailing-list digests (the daily e-mail of new submissions), as text."""

from __future__ import annotations

from datetime import datetime

from ..entry import ParsedDigest, ParseError

FORMAT = "arxiv-mail"
DESCRIPTION = "arXiv mailing-list digest"


def looks_like(text: str) -> bool:
    """True when the text is an arXiv mailing-list digest (or its body)."""
    return False


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    raise ParseError("not written yet")
