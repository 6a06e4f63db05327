"""bioRxiv/medRxiv alert (HTML, from an e-mail or saved)."""

from __future__ import annotations

from datetime import datetime

from ..entry import ParsedDigest

FORMAT = "preprint-alert"
DESCRIPTION = "bioRxiv/medRxiv alert"


def read(soup, name: str, mtime: datetime) -> ParsedDigest | None:
    """The digest when the parsed HTML (BeautifulSoup) is one of these, else None."""
    return None
