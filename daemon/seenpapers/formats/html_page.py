"""Saved HTML pages: Hugging Face papers pages, arXiv listings and abstract pages, any page
linking to papers, and as a last resort the page's visible text.

The most structured data on a page wins, tried in this order (each reader answers None for a
page that is not its kind; one that is, with no papers on it, is an empty digest if no later
reader finds papers):
  a. HF listing (daily/weekly/monthly/search): the JSON in ``data-target="DailyPapers"``
  b. HF paper page: the JSON in ``data-target="PaperContent"``
  c. arXiv listing (/new, /recent, /pastweek): ``dt``/``dd`` pairs; arXiv search results
  c'. alerts with a markup of their own: Google Scholar (``scholar_alert``), bioRxiv/medRxiv
     (``preprint_alert``), journal tables of contents (``journal_toc``)
  d. arXiv abstract page (or any scholarly page): ``citation_*`` meta tags
  e. any page: links to huggingface.co/papers/<id> or arxiv.org/abs/<id> with a title as text
  f. the visible text, read as a Hugging Face page copy (``hf_text``)
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from bs4 import BeautifulSoup, NavigableString

from ..entry import Entry, ParsedDigest, ParseError
from ..text import arxiv_id, clean
from . import hf_api, hf_text, journal_toc, preprint_alert, scholar_alert

FORMAT = "html"

_ARXIV_ID = r"\d{4}\.\d{4,5}(?:v\d+)?|[a-z][a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?"
# A link to one paper: absolute, or relative as HF (/papers/…) and arXiv (/abs/…) write them.
_PAPER_HREF = re.compile(
    r"^(?:https?://(?:www\.)?(?i:huggingface\.co|hf\.co|(?:export\.)?arxiv\.org))?"
    rf"/(?P<kind>papers|abs)/(?P<id>{_ARXIV_ID})/?(?:[?#].*)?$"
)
# Buttons of three words or more that sit on paper links ("pdf", "html" are too short anyway).
_NOT_TITLES = {"view arxiv page", "add to collection", "html (experimental)"}
_DAY = re.compile(
    r"\b(\d{1,2})\s+(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?,?\s+(\d{4}|\d{2})\b"
)
# Elements that start a new paragraph in the visible text (what innerText would show).
_BLOCKS = {
    "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "figcaption", "figure",
    "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
    "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
}


def parse(html: str, *, name: str, mtime: datetime) -> ParsedDigest:
    """Parse HTML text (a saved page, or an e-mail's HTML part) into a digest."""
    soup = BeautifulSoup(html, "html.parser")
    empty = None
    for read in (_hf_listing, _hf_paper, _arxiv_listing, _arxiv_search, scholar_alert.read,
                 preprint_alert.read, journal_toc.read, _citation_meta, _paper_links):
        found = read(soup, name, mtime)
        if found is not None and found.entries:
            return found
        empty = empty or found
    if empty is not None:
        return empty
    try:
        digest = hf_text.parse(visible_text(soup), name=name, mtime=mtime)
        return ParsedDigest(FORMAT, digest.date, digest.entries)  # the file is still HTML
    except ParseError:
        raise ParseError(
            "HTML page in which no papers were found (no Hugging Face page data, arXiv "
            "listing, citation tags or links to papers, and its text is no known digest)"
        ) from None


def paper_link(href: str) -> tuple[str, str] | None:
    """(arXiv id, canonical URL) when ``href`` points at one paper on HF or arXiv."""
    match = _PAPER_HREF.match(href.strip())
    if not match:
        return None
    paper_id = arxiv_id(match["id"])
    if match["kind"] == "papers":
        return paper_id, f"https://huggingface.co/papers/{paper_id}"
    return paper_id, f"https://arxiv.org/abs/{paper_id}"


def visible_text(soup: BeautifulSoup) -> str:
    """Roughly the page's innerText: no head, scripts or styles; blocks are paragraphs."""
    parts: list[str] = []
    # Iterating descendants once keeps this linear even on pathological nesting.
    for node in (soup.body or soup).descendants:
        if isinstance(node, NavigableString):
            # Script, Stylesheet, Comment, Doctype… are subclasses: exact type = visible text.
            if type(node) is NavigableString and node.parent.name not in ("title", "noscript"):
                parts.append(re.sub(r"\s+", " ", node))
        elif node.name == "br":
            parts.append("\n")
        elif node.name in _BLOCKS:
            parts.append("\n\n")
    lines = (line.strip() for line in "".join(parts).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


# --- a, b: Hugging Face pages carry their data as JSON in a data-props attribute -------------

def _hf_listing(soup, name, mtime) -> ParsedDigest | None:
    props = _props(soup, "DailyPapers")
    if props is None:
        return None
    # A search page (?q=…) shows its results, even none; dailyPapers there is the day's list.
    query = props.get("query") if isinstance(props.get("query"), dict) else {}
    searching = query.get("q") or props.get("searchResults")
    items = props.get("searchResults" if searching else "dailyPapers")
    entries = hf_api.entries_from_items(items if isinstance(items, list) else [])
    day = _iso_day(props.get("dateString")) or hf_api.digest_date(name, entries, mtime)
    return ParsedDigest(FORMAT, day, entries)


def _hf_paper(soup, name, mtime) -> ParsedDigest | None:
    props = _props(soup, "PaperContent")
    if props is None or not isinstance(props.get("paper"), dict):
        return None
    entries = hf_api.entries_from_items([{"paper": props["paper"]}])
    # One paper's page is about no particular day: the file's name or time dates it.
    return ParsedDigest(FORMAT, hf_api.digest_date(name, [], mtime), entries)


def _props(soup, target: str) -> dict | None:
    element = soup.find(attrs={"data-target": target, "data-props": True})
    if element is None:
        return None
    try:
        props = json.loads(element["data-props"])
    except (json.JSONDecodeError, RecursionError) as e:
        where = f": {e.msg} at character {e.pos}" if isinstance(e, json.JSONDecodeError) else ""
        raise ParseError(
            f"Hugging Face page data ({target} data-props) is not valid JSON{where}; "
            "the page may have been saved incompletely"
        ) from None
    return props if isinstance(props, dict) else None


def _iso_day(value) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:  # "2025-01" for a month page: let the papers date it
        return None


# --- c: arXiv listings -----------------------------------------------------------------------

def _arxiv_listing(soup, name, mtime) -> ParsedDigest | None:
    # One pass in document order: h3 headings carry the listing day, each dt is followed by
    # its dd. Pairing in order (not find_next_sibling) stays linear on malformed pages.
    entries, page_day, day, pending = [], None, None, None
    for tag in soup.find_all(["h3", "dt", "dd"]):
        if tag.name == "h3":
            heading_day = _listing_day(tag.get_text(" "))
            if heading_day:
                page_day, day = page_day or heading_day, heading_day
        elif tag.name == "dt":
            pending = tag
        elif pending is not None:
            entry = _listing_entry(pending, tag, day)
            pending = None
            if entry is not None:
                entries.append(entry)
    if not entries and not _empty_listing(soup):
        return None
    return ParsedDigest(FORMAT, page_day or mtime.date(), entries)


def _empty_listing(soup) -> bool:
    # A listing day without papers renders <dl id='articles'><h3>…</h3><p>No updates for
    # this time period.</p></dl>; a category without new submissions says so in the same place.
    articles = soup.find("dl", id="articles")
    return articles is not None and articles.find(["dt", "dd"]) is None and bool(
        re.search(r"No updates for this time period|No new submissions|no (?:new )?listings", articles.get_text(" "), re.I))


def _listing_entry(dt, dd, day: date | None) -> Entry | None:
    link = dt.find("a", href=re.compile(r"/abs/")) or dt.find("a", title="Abstract", id=True)
    paper_id = link and (arxiv_id(link.get("href")) or arxiv_id(link.get("id")))
    title_div = dd.find("div", class_="list-title")
    if not paper_id or title_div is None:
        return None
    title = re.sub(r"^\s*Title:\s*", "", title_div.get_text(" "))
    if not title.strip():
        return None
    abstract = dd.find("p", class_="mathjax")
    replaced = "(replaced)" in dt.get_text(" ")
    return Entry(
        title=title,
        abstract=abstract.get_text(" ") if abstract else "",
        authors=[a.get_text(" ") for a in dd.select("div.list-authors a")],
        arxiv_id=paper_id,
        # The listing day is when new and cross-listed papers appeared; a replacement is older.
        published=day.isoformat() if day and not replaced else None,
        url=f"https://arxiv.org/abs/{paper_id}",
    )


def _listing_day(heading: str) -> date | None:
    """The date in "Showing new listings for Wednesday, 22 January 2025" or "Wed, 22 Jan 25"."""
    match = _DAY.search(heading)
    if not match:
        return None
    year = int(match[3]) + (2000 if len(match[3]) == 2 else 0)
    try:
        return date(year, hf_text.MONTHS[match[2].lower()], int(match[1]))
    except ValueError:
        return None


# --- c: arXiv search results (arxiv.org/search/?query=…, arxiv.org/a/<author> pages) --------

def _arxiv_search(soup, name, mtime) -> ParsedDigest | None:
    results = soup.select("li.arxiv-result")
    if not results:
        return _empty_search(soup, mtime)
    entries = [e for e in map(_search_entry, results) if e is not None]
    return ParsedDigest(FORMAT, hf_api.digest_date(name, [], mtime), entries)


def _search_entry(result) -> Entry | None:
    link = result.select_one("p.list-title a[href]") or result.find("a", href=re.compile(r"/abs/"))
    title = result.select_one("p.title")
    paper_id = link and arxiv_id(link["href"])
    if not paper_id or title is None:
        return None
    # The full abstract sits beside a cut one ("abstract-short"); "▽ More" / "△ Less" are buttons.
    abstract = result.select_one("span.abstract-full") or result.select_one("p.abstract")
    if abstract is not None:
        for button in abstract.find_all("a"):
            button.extract()
    abstract_text = re.sub(r"^\s*Abstract\s*:\s*", "", abstract.get_text(" ")) if abstract else ""
    # The link names no version; the abstract's element id does ("1506.03134v2-abstract-full").
    # "Submitted" is the newest version's day, not when the paper appeared: not kept.
    shown = abstract.get("id", "") if abstract is not None else ""
    doi_link = result.find("a", href=re.compile(r"doi\.org/10\."))
    return Entry(
        title=title.get_text(" "),
        abstract=abstract_text,
        authors=[a.get_text(" ") for a in result.select("p.authors a")],
        arxiv_id=shown if arxiv_id(shown) == paper_id else paper_id,
        url=f"https://arxiv.org/abs/{paper_id}",
        doi=doi_link["href"] if doi_link else None,
    )


def _empty_search(soup, mtime) -> ParsedDigest | None:
    # A search without results is a digest of none: "Sorry, your query … produced no results."
    title = soup.title.get_text() if soup.title else ""
    if "arxiv" in title.lower() and soup.find(string=re.compile(r"produced no results")):
        return ParsedDigest(FORMAT, mtime.date(), [])
    return None


# --- d: citation_* meta tags (arXiv abstract pages, most publishers' paper pages) -------------

def _citation_meta(soup, name, mtime) -> ParsedDigest | None:
    meta: dict[str, list[str]] = {}
    for tag in soup.find_all("meta", attrs={"name": re.compile(r"^citation_"), "content": True}):
        meta.setdefault(tag["name"], []).append(tag["content"])
    title = (meta.get("citation_title") or [""])[0]
    if not title.strip():
        return None
    paper_id = arxiv_id((meta.get("citation_arxiv_id") or [""])[0])
    published = (meta.get("citation_date") or meta.get("citation_online_date") or [""])[0]
    entry = Entry(
        title=title,
        abstract=(meta.get("citation_abstract") or [""])[0],
        authors=[_first_last(a) for a in meta.get("citation_author", [])],
        arxiv_id=paper_id,
        published=_slash_day(published),
        url=f"https://arxiv.org/abs/{paper_id}" if paper_id else None,
    )
    return ParsedDigest(FORMAT, hf_api.digest_date(name, [], mtime), [entry])


def _first_last(author: str) -> str:
    # citation_author is "Vaswani, Ashish"; every other source writes "Ashish Vaswani".
    last, comma, first = author.partition(",")
    return f"{first.strip()} {last.strip()}" if comma and "," not in first else author


def _slash_day(value: str) -> str | None:
    match = re.match(r"\s*(\d{4})[/-](\d{2})[/-](\d{2})", value)
    return "-".join(match.groups()) if match else None


# --- e: any page whose links point at papers -------------------------------------------------

def _paper_links(soup, name, mtime) -> ParsedDigest | None:
    entries: dict[str, Entry] = {}
    for anchor in soup.find_all("a", href=True):
        found = paper_link(anchor["href"])
        if found is None or found[0] in entries:
            continue
        title = clean(anchor.get_text(" "))
        if _looks_like_title(title):
            entries[found[0]] = Entry(title=title, arxiv_id=found[0], url=found[1])
    if not entries:
        return None
    return ParsedDigest(FORMAT, hf_api.digest_date(name, [], mtime), list(entries.values()))


def _looks_like_title(title: str) -> bool:
    # Thumbnails, "pdf", "· 12 authors", comment counts and bare ids/URLs are not titles.
    return (
        len(title.split()) >= 3
        and len(re.findall(r"[^\W\d_]{2,}", title)) >= 2
        and title.lower() not in _NOT_TITLES
        and not title.lower().startswith("arxiv:")
        and "://" not in title
        and len(title) <= 500
    )
