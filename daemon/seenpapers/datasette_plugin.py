"""The few things Datasette's metadata cannot say, as a plugin that explore.py registers.

It acts only on the Datasette that explore.py builds (marked with ``SEENPAPERS``), never on
another Datasette in the same process:

- every connection to the database is read-only (``query_only``), the write connection
  Datasette would open for a plugin too: writes stay with the daemon; and it waits a moment
  instead of failing if the file is busy (a read in WAL mode normally never is);
- paper rows link to their Hugging Face and arXiv pages and to their sightings, and ids in
  views and canned queries link to their rows.
"""

from __future__ import annotations

import urllib.parse

from datasette import hookimpl
from markupsafe import Markup

DATABASE = "seenpapers"
SEENPAPERS = "_seenpapers"  # the attribute that marks our Datasette


def _ours(datasette, database: str) -> bool:
    return database == DATABASE and getattr(datasette, SEENPAPERS, False)


@hookimpl
def prepare_connection(conn, database, datasette):
    if _ours(datasette, database):
        conn.execute("PRAGMA busy_timeout = 5000")
        conn.execute("PRAGMA query_only = 1")


def paper_links(arxiv_id: str | None, title: str) -> dict[str, str]:
    """Hugging Face and arXiv addresses of a paper: its pages by id, else a title search (as
    the hf_url and arxiv_url columns of paper_history, which escape fewer characters)."""
    if arxiv_id:
        return {"Hugging Face": f"https://huggingface.co/papers/{arxiv_id}", "arXiv": f"https://arxiv.org/abs/{arxiv_id}"}
    query = urllib.parse.quote_plus(title)
    return {"Hugging Face": f"https://huggingface.co/papers?q={query}",
            "arXiv": f"https://arxiv.org/search/?searchtype=title&query={query}"}


def _get(row, column):
    try:
        return row[column]
    except (IndexError, KeyError):
        return None


def _link(href: str, text) -> Markup:
    return Markup('<a href="{}">{}</a>').format(href, text)


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if not _ours(datasette, database) or value in (None, ""):
        return None
    urls = datasette.urls
    if table == "papers" and column == "title":
        paper_id = _get(row, "id")
        links = [_link(href, name) for name, href in paper_links(_get(row, "arxiv_id"), value).items()]
        if paper_id is not None:
            links.append(_link(f"{urls.table(DATABASE, 'sightings')}?paper_id={paper_id}", "sightings"))
        return Markup("{}<br><small>{}</small>").format(value, Markup(" · ").join(links))
    if table in ("papers", "sightings") and column == "arxiv_id":
        return _link(f"https://arxiv.org/abs/{value}", value)
    if table is None or table in ("paper_history", "digest_history"):
        # Views and canned queries have no foreign keys: link ids and titles by hand.
        if column in ("paper_id", "duplicate_of") and isinstance(value, int):
            return _link(urls.row(DATABASE, "papers", str(value)), value)
        if column == "digest_id" and isinstance(value, int):
            return _link(urls.row(DATABASE, "digests", str(value)), value)
        paper_id = _get(row, "paper_id")
        if column == "title" and isinstance(paper_id, int):
            return _link(urls.row(DATABASE, "papers", str(paper_id)), value)
    return None
