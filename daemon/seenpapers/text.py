"""Normalising text: display clean-up, abstract unwrapping, title keys, arXiv ids and DOIs.

Two kinds of output live here and must not be confused:
- *display* text (``clean``, ``unwrap``) keeps what a person would see, LaTeX included;
- *keys* (``title_key``) are only for matching and never shown.
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\ufeff]")
_PARAGRAPH = re.compile(r"\n[ \t\r\f\v]*\n\s*")


def clean(text: str | None) -> str:
    """One line of display text: no control characters, single spaces."""
    if not text:
        return ""
    if not text.isprintable():  # cheap test first: most titles and names are clean
        text = _CONTROL.sub("", text)
    return " ".join(text.split())


def unwrap(text: str | None) -> str:
    """A hard-wrapped abstract as flowing text; blank lines still separate paragraphs."""
    if not text:
        return ""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    paragraphs = (clean(p) for p in _PARAGRAPH.split(text))
    return "\n\n".join(p for p in paragraphs if p)


# LaTeX commands that only style their argument: the argument is the text.
_STYLE_COMMANDS = (
    "text|textit|textbf|textsc|texttt|textrm|textsf|emph|mathrm|mathbf|mathit|mathsf|mathtt"
    "|mathcal|mathbb|mathfrak|mathscr|boldsymbol|bm|operatorname|it|bf|rm|sc|tt|em|textup|textsl"
    "|textnormal|underline|overline|textsuperscript|textsubscript|left|right|displaystyle"
    "|hat|widehat|tilde|widetilde|bar|vec|dot|ddot"
)
_STYLE = re.compile(r"\\(?:%s)(?![A-Za-z])\s*" % _STYLE_COMMANDS)
# A symbol command has three spellings: "LLM$\\times$MapReduce" (arXiv), "LLMtimesMapReduce"
# (the HF API strips the TeX) and "LLM×MapReduce" (a rendered page). The key spells all of
# them by the command's name, so the three agree.
_ALIASES = {"rightarrow": "to", "le": "leq", "ge": "geq", "textperthousand": "", "textpertenthousand": "",
            "textregistered": "", "texttrademark": "", "textcopyright": "", "ldots": "", "dots": "", "cdots": "",
            "quad": "", "qquad": "", "cdot": ""}
_SYMBOL_NAMES = str.maketrans({"×": " times ", "∞": " infty ", "ℓ": " ell ", "→": " to ", "≤": " leq ",
                               "≥": " geq ", "±": " pm ", "≈": " approx ", "∇": " nabla ", "∂": " partial ",
                               "°": " circ "})
_COMMAND = re.compile(r"\\([A-Za-z]+)")


def _command(match: re.Match) -> str:
    name = match.group(1)
    return _ALIASES.get(name, name)


_GREEK = re.compile(r"[\u0370-\u03ff]")
_NOT_ALNUM = re.compile(r"[\W_]+")


def _greek_name(match: re.Match) -> str:
    # "τ" and "\\tau" must give the same key: spell Greek letters out.
    name = unicodedata.name(match.group(), "")
    if " LETTER " not in name:
        return ""
    letter = name.rsplit(" ", 1)[-1].lower()
    return "lambda" if letter == "lamda" else letter  # Unicode spells it without the b


def title_key(title: str | None) -> str:
    """The key under which two titles count as the same: case, accents, LaTeX,
    punctuation and spacing all fall away, only letters and digits remain.

    >>> title_key("$\\\\tau$-bench: A Benchmark") == title_key("τ-Bench: a benchmark")
    True
    """
    return _NOT_ALNUM.sub("", _folded(title))


def title_words(title: str | None) -> list[str]:
    """The words of a title as the key sees them (joined, they are its title_key)."""
    return [w for w in _NOT_ALNUM.split(_folded(title)) if w]


_TITLE_PARTS = re.compile(r":|\s[-\u2010-\u2015\u2212]+\s")


def title_parts(title: str | None) -> list[list[str]]:
    """The words of each part of a title between colons and spaced dashes
    ("SAMSA 2.0: Prompting ..." has two); all of them are its title_words."""
    return [words for words in ([w for w in _NOT_ALNUM.split(part) if w] for part in _TITLE_PARTS.split(_folded(title))) if words]


def _folded(title: str | None) -> str:
    if not title:
        return ""
    text = unicodedata.normalize("NFKC", title.translate(_SYMBOL_NAMES))
    if "\\" in text:
        text = _COMMAND.sub(_command, _STYLE.sub(" ", text))
    # "X++" is the next paper after "X", not X: the plus signs are part of the name.
    text = text.replace("+", " plus ")
    # NFKD splits accents off their letters ("ἀ" too, so Greek is named after it), and
    # they are dropped, so "Prötocol" is the one word "protocol".
    text = unicodedata.normalize("NFKD", text.casefold())
    if not text.isascii():
        text = "".join(c for c in text if not unicodedata.combining(c))
    return _GREEK.sub(_greek_name, text)


_DIGITS = re.compile(r"\d+")
# ASCII letters lower-cased, digits "0", anything else a space; control characters are
# dropped, as clean() drops them.
_ASCII_WORD_BYTES = bytes(
    ord(chr(b).lower()) if chr(b).isalpha() else ord("0") if chr(b).isdigit() else ord(" ") if b < 128 else b
    for b in range(256)
)
_ASCII_CONTROL_BYTES = bytes(b for b in range(128) if _CONTROL.match(chr(b)))


def words(text: str | None) -> list[str]:
    """Lower-case words of running text, every run of digits spelt "0": what abstracts
    are compared on, so a re-wrapped or re-punctuated abstract, or one with a number
    changed, has the same words (and words(unwrap(t)) == words(t))."""
    return word_bytes(text).decode().split()


def word_bytes(text: str | None) -> bytes:
    """The text with only its words() left, between spaces (one or more), UTF-8 encoded:
    what the matcher hashes without splitting it into Python strings."""
    if not text:
        return b""
    if not text.isascii():
        text = text.casefold()
        return _NOT_ALNUM.sub(" ", _DIGITS.sub("0", _CONTROL.sub("", text))).encode()
    # Most abstracts: a bytes table is many times faster than re, or str.translate.
    data = text.encode("ascii").translate(_ASCII_WORD_BYTES, _ASCII_CONTROL_BYTES)
    while b"00" in data:  # each run of digits, zeros by now, to one "0": re.sub took 10 µs
        data = data.replace(b"00", b"0")
    return data


_ARXIV_NEW = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(?:v\d+)?(?![\d])")
_ARXIV_OLD = re.compile(r"\b([a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})(?:v\d+)?\b")


def arxiv_id(text: str | None) -> str | None:
    """The arXiv id in an id, an "arXiv:" label or a URL, without its version."""
    if not text:
        return None
    match = _ARXIV_NEW.search(text) or _ARXIV_OLD.search(text)
    return match.group(1) if match else None


_VERSION = re.compile(r"(?:\d{4}\.\d{4,5}|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7})v(\d+)\b")


def arxiv_version(text: str | None) -> int | None:
    """The version in "2501.01234v3" (or an arXiv address that names one), else None."""
    match = _VERSION.search(text) if text else None
    return int(match.group(1)) if match else None


# A DOI is "10.<registrant>/<anything>"; in running text and addresses it ends at a space,
# a quote or a bracket, and punctuation after it belongs to the sentence.
_DOI = re.compile(r"\b10\.\d{4,9}/[^\s\"'<>]+", re.IGNORECASE)
_DOI_TAIL = re.compile(r"[.,;:!?)\]}>*]+$")
# bioRxiv and medRxiv (10.1101) name each version in their addresses: 2024.01.02.123456v2,
# and a saved page's address may go on with .full, .abstract, .full.pdf, .article-metrics.
_PREPRINT_DOI = re.compile(r"^(10\.1101/(?:\d{4}\.\d{2}\.\d{2}\.)?\d{6,})(?:v\d+)?(?:\..*)?$")
_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$")


def doi(text: str | None) -> str | None:
    """The DOI in a DOI, a "doi:" label or an address, normalised: lower case (DOIs are
    case-insensitive), no "https://doi.org/" or "doi:", no trailing punctuation, and for
    bioRxiv/medRxiv no version, so every version of a preprint has one DOI.

    >>> doi("https://doi.org/10.1101/2024.01.02.123456v2.full")
    '10.1101/2024.01.02.123456'
    """
    if not text:
        return None
    match = _DOI.search(urllib.parse.unquote(text) if "%" in text else text)
    if not match:
        return None
    value = match.group().split("?", 1)[0].split("#", 1)[0].split("&", 1)[0]
    value = _DOI_TAIL.sub("", value).lower()
    if value.startswith("10.1101/"):
        preprint = _PREPRINT_DOI.match(value)
        value = preprint.group(1) if preprint else value
    return value if "/" in value and len(value) <= 300 and not value.endswith("/") else None


def doi_arxiv_id(value: str | None) -> str | None:
    """arXiv's own DOI (10.48550/arXiv.2501.01234) is that arXiv id (with its version,
    when the DOI names one)."""
    match = _ARXIV_DOI.match(value) if value else None
    return match.group(1) if match and arxiv_id(match.group(1)) else None
