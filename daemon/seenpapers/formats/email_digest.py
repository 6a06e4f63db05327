"""E-mail digests (``.eml``, or a mail folder's message file): the Hugging Face daily papers
e-mail, arXiv mailing lists, Scholar, bioRxiv and journal alerts, newsletters.

The HTML part is read like a saved page (``html_page``, which knows the alerts' markup). The
plain-text part is read as an arXiv mailing-list digest (``arxiv_mail``), or as HF's
plain-text e-mail writes it, a title line followed by the paper's link; failing that, as a
copy of the HF papers page (``hf_text``). A digest whose format says more than "a page"
(an arXiv digest, a Scholar alert) keeps that format; any other is an ``email``.
"""

from __future__ import annotations

import email
import email.policy
import re
from datetime import date, datetime

from ..entry import Entry, ParsedDigest, ParseError
from . import arxiv_mail, hf_text, html_page

FORMAT = "email"

_HEADER = re.compile(r"^([A-Za-z0-9][A-Za-z0-9-]*):")
_KNOWN_HEADERS = {"from", "to", "subject", "date", "mime-version", "received", "message-id"}
_URL = re.compile(r"https?://[^\s<>\"')\]]+")
_TITLE_LIKE = re.compile(r"[^\W\d_]{2}")  # at least a word, not "----" or "1."


def looks_like_email(text: str) -> bool:
    """True when the text starts with RFC 822 headers (two or more of the usual ones)."""
    head = text[:65536].lstrip("\ufeff").replace("\r\n", "\n").split("\n\n", 1)[0]
    lines = head.split("\n")
    # A saved mailbox message may start with the mbox "From sender date" line.
    if lines[0].startswith("From "):
        lines = lines[1:]
    if not lines or not _HEADER.match(lines[0]):
        return False
    names = {m[1].lower() for m in map(_HEADER.match, lines) if m}
    return len(names & _KNOWN_HEADERS) >= 2


def parse(text: str, *, name: str, mtime: datetime) -> ParsedDigest:
    html, plain, sent = _read_message(text)
    errors = []
    # HTML first: it links every paper. Its links may all be click-tracking redirects,
    # though, and then the text part still names them.
    for part, body, read in (("HTML part", html, _from_html), ("text part", plain, _from_plain)):
        if body is None:
            continue
        try:
            found = read(body, name, mtime)
        except ParseError as e:
            errors.append(f"{part}: {e}")
            continue
        if found.entries:
            kind = found.format if found.format not in _GENERIC else FORMAT
            return ParsedDigest(kind, sent or mtime.date(), found.entries)
        errors.append(f"{part}: no papers")
    if not errors:
        raise ParseError("e-mail without a text or HTML body")
    raise ParseError("e-mail in which no papers were found (" + "; ".join(errors) + ")")


# Formats that say only how the text was read, not what digest it is.
_GENERIC = {html_page.FORMAT, hf_text.FORMAT}


def _from_html(body: str, name: str, mtime: datetime) -> ParsedDigest:
    return html_page.parse(body, name=name, mtime=mtime)


def _from_plain(body: str, name: str, mtime: datetime) -> ParsedDigest:
    if arxiv_mail.looks_like(body):
        return arxiv_mail.parse(body, name=name, mtime=mtime)
    linked = _linked_titles(body)
    if linked:
        return ParsedDigest(FORMAT, None, linked)
    return hf_text.parse(body, name=name, mtime=mtime)


def _read_message(text: str) -> tuple[str | None, str | None, date | None]:
    """The HTML body, the plain-text body and the day it was sent (local time)."""
    try:
        message = email.message_from_string(text, policy=email.policy.default)
        html = message.get_body(preferencelist=("html",))
        plain = message.get_body(preferencelist=("plain",))
        html, plain = (_content(part) if part else None for part in (html, plain))
        if html is None and plain is None and message.defects:
            defects = ", ".join(sorted({type(d).__name__ for d in message.defects}))
            raise ParseError(f"malformed e-mail (MIME defects: {defects})")
        return html, plain, _sent_day(message)
    except ParseError:
        raise
    # The stdlib e-mail parser is lenient but its header and content accessors raise assorted
    # exceptions (LookupError for unknown charsets, IndexError/ValueError on broken headers).
    except Exception as e:
        raise ParseError(f"malformed e-mail: {type(e).__name__}: {e}"[:300]) from None


def _content(part) -> str:
    # An unencoded body is already text (the dispatcher decoded the whole file), and
    # get_content() would re-encode it as raw-unicode-escape, turning "•" into "\\u2022".
    # Quoted-printable and base64 bodies are decoded by the library with their charset.
    payload = part.get_payload()
    encoding = str(part.get("content-transfer-encoding", "7bit")).strip().lower()
    if isinstance(payload, str) and encoding in ("7bit", "8bit", "binary"):
        return payload
    return part.get_content()


def _sent_day(message) -> date | None:
    try:
        sent = message["Date"].datetime if message["Date"] else None
    except (AttributeError, TypeError, ValueError, IndexError):
        return None
    if sent is None:
        return None
    # The person's own day, like a file's mtime: a message sent late on the 22nd in New York
    # is read on the 23rd in Paris.
    return (sent.astimezone() if sent.tzinfo else sent).date()


def _linked_titles(plain: str) -> list[Entry]:
    """Papers written as a title line followed by their link (HF's plain-text e-mail)."""
    entries: dict[str, Entry] = {}
    previous = ""
    for line in plain.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        if not line:
            continue
        for url in _URL.findall(line):
            found = html_page.paper_link(url)
            # The title is the line above; a line that is itself a link is not one.
            usable = _TITLE_LIKE.search(previous) and not _URL.search(previous)
            if found and found[0] not in entries and usable:
                entries[found[0]] = Entry(title=previous, arxiv_id=found[0], url=found[1])
        previous = line
    return list(entries.values())
