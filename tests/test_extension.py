"""The browser extension end to end: the unpacked extension in real headless Chromium,
the real daemon with the sample digests, and fixture pages served at their real addresses
(huggingface.co, arxiv.org) by a Playwright route. Skipped when Chromium is absent."""

import http.server
import json
import re
import shutil
import socket
import sqlite3
import threading
from pathlib import Path

import pytest

from .conftest import FIXTURES, Daemon, _table_counts

pytestmark = pytest.mark.browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EXTENSION = Path(__file__).resolve().parents[1] / "extension"
PAGES = FIXTURES / "pages"
DAILY = "https://huggingface.co/papers/date/2025-01-22"
LISTING = "https://arxiv.org/list/cs.LG/new"
HOSTILE = "<img src=x onerror=\"document.title='pwned'\"> "

if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed (./scripts/test installs Debian's chromium when run as root)",
                allow_module_level=True)
playwright_api = pytest.importorskip("playwright.sync_api")
sync_playwright, expect = playwright_api.sync_playwright, playwright_api.expect


def fixture_page(url: str) -> Path | None:
    """The fixture standing in for a real page address, or None (404)."""
    if m := re.match(r"https://huggingface\.co/papers(?:/(\d{4}\.\d{4,5}))?(?:[/?#]|$)", url):
        return PAGES / ("hf-paper.html" if m.group(1) else "hf-daily.html")
    if re.match(r"https://(www\.)?arxiv\.org/list/", url):
        return PAGES / "arxiv-list.html"
    if re.match(r"https://(www\.)?arxiv\.org/abs/", url):
        return PAGES / "arxiv-abs.html"
    if re.match(r"https://(www\.)?arxiv\.org/search/", url):
        return PAGES / "arxiv-search.html"
    return None


def serve(route):
    url = route.request.url
    if not url.startswith("http") or re.match(r"https?://(127\.0\.0\.1|localhost)[:/]", url):
        return route.continue_()  # the extension's own files, the daemon
    if not re.match(r"https://(huggingface\.co|(www\.)?arxiv\.org)/", url):
        return route.abort()  # thumbnails, avatars, fonts: nothing leaves the machine
    page = fixture_page(url)
    if page is None:
        return route.fulfill(status=404, body="not found")
    return route.fulfill(status=200, content_type="text/html; charset=utf-8", body=page.read_bytes())


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    running = Daemon(tmp_path_factory.mktemp("extension") / "data", "--samples")
    running.wait_idle(digests=5)
    # The original of the listing's retitled copy, known under a hostile title.
    papers = json.loads((FIXTURES / "dedup" / "real-pairs.json").read_text(encoding="utf-8"))
    original = next(p for p in papers if p["arxiv_id"] == "2503.23402")
    title = HOSTILE + original["title"]
    day = [{"paper": {"id": original["arxiv_id"], "title": title, "summary": original["abstract"]}, "title": title}]
    status, _, _ = running.request("POST", "/api/v1/digests?name=original.json", raw=json.dumps(day).encode())
    assert status == 202
    running.wait_idle(digests=6)
    yield running
    running.stop()


class PublicPage(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        self.wfile.write(b"<!doctype html><title>a public page</title><h1>Somewhere on the internet</h1>")

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def public_page():
    """A page on a loopback port that Chromium is told is on the public internet."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PublicPage)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser(daemon, public_page, tmp_path_factory):
    """(context, service worker, extension id) with the daemon's address and token set."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
            executable_path=CHROMIUM,
            headless=False,  # the new headless mode comes from the flag, which loads extensions
            ignore_default_args=["--disable-extensions"],
            args=[
                "--headless=new", f"--disable-extensions-except={EXTENSION}", f"--load-extension={EXTENSION}",
                "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run",
                # For the Local Network Access test: that page counts as public (and secure).
                f"--ip-address-space-overrides={public_page.removeprefix('http://')}=public",
                f"--unsafely-treat-insecure-origin-as-secure={public_page}",
            ],
        )
        context.route("**/*", serve)
        worker = context.service_workers[0] if context.service_workers else context.wait_for_event("serviceworker")
        extension_id = worker.url.split("/")[2]
        # Recording is off: these tests open pages again and again and want the badges as they were.
        worker.evaluate("s => chrome.storage.local.set(s)", {"apiBase": daemon.url, "token": daemon.token, "record": False})
        yield context, worker, extension_id
        context.close()


def open_page(context, url):
    page = context.new_page()
    page.goto(url)
    return page


def marks(page, count, selector="[data-seenpapers]"):
    page.wait_for_function(f"document.querySelectorAll('{selector}').length >= {count}", timeout=10_000)
    return page.eval_on_selector_all(
        selector, "cards => cards.map(c => [c.dataset.seenpapers, c.querySelector('.seenpapers-badge').textContent])")


def tab_id(worker, url):
    """The id of the newest tab showing `url` (the popup is opened as a page of its own)."""
    return worker.evaluate("url => chrome.tabs.query({url}).then(tabs => Math.max(...tabs.map(t => t.id)))", url)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hf_daily_list_marks_every_card(browser):
    context, _, _ = browser
    page = open_page(context, DAILY)
    found = marks(page, 5, "article[data-seenpapers]")
    assert [status for status, _ in found] == ["seen", "seen", "seen", "new", "new"]
    assert re.fullmatch(r"seen 5× · first \d{1,2} [A-Z][a-z]{2}( 20\d\d)?", found[0][1])
    assert re.fullmatch(r"seen 3× · first \d{1,2} [A-Z][a-z]{2}( 20\d\d)?", found[1][1])
    tooltip = page.get_attribute("article .seenpapers-badge", "title")
    assert "Seen 5 times" in tooltip and "000_be2405954437598b.txt" in tooltip
    # A title that is escaped markup on the page stays text, and nothing ran.
    assert page.inner_text("article:nth-of-type(5) h3").startswith("<img src=x onerror=")
    assert page.title() == "Daily Papers - Hugging Face"
    page.close()


def test_a_click_marks_read_and_unread_in_place(browser, daemon):
    context, _, _ = browser
    page = open_page(context, DAILY)
    marks(page, 5)
    card = page.locator("article").nth(1)
    card.locator(".seenpapers-badge").click()
    page.wait_for_function("document.querySelectorAll('article')[1].dataset.seenpapers === 'read'")
    assert card.locator(".seenpapers-badge").inner_text() == "read · seen 3×"
    assert daemon.lookup("Pointer Networks")[0]["status"] == "read"
    card.locator(".seenpapers-badge").click()
    page.wait_for_function("document.querySelectorAll('article')[1].dataset.seenpapers === 'seen'")
    assert daemon.lookup("Pointer Networks")[0]["status"] == "seen"
    page.close()


def test_cards_added_later_are_marked(browser):
    context, _, _ = browser
    page = open_page(context, DAILY)
    marks(page, 5)
    page.evaluate("""() => {
        const card = document.querySelector('article').cloneNode(true);
        card.querySelector('.seenpapers-badge').remove();
        card.removeAttribute('data-seenpapers');
        card.querySelectorAll('a[href^="/papers/"]').forEach(a => a.setAttribute('href', '/papers/2305.02309'));
        card.querySelector('h3 a').textContent = 'CodeGen2: Lessons for Training LLMs on Programming and Natural Languages';
        document.querySelector('#cards').append(card);
    }""")
    found = marks(page, 6, "article[data-seenpapers]")
    assert found[5][0] == "seen" and found[5][1].startswith("seen 3×")
    assert page.locator("article").nth(5).locator(".seenpapers-badge").count() == 1
    page.close()


def test_arxiv_listing_with_a_duplicate_whose_title_is_hostile(browser):
    context, _, _ = browser
    page = open_page(context, LISTING)
    found = marks(page, 4, "dd[data-seenpapers]")
    assert [status for status, _ in found] == ["seen", "duplicate", "new", "seen"]
    badge = page.locator("dd").nth(1).locator(".seenpapers-badge")
    assert badge.inner_text().startswith("same as: " + HOSTILE.strip())
    assert badge.locator("img").count() == 0 and page.locator("dd img").count() == 0
    assert badge.locator("a").get_attribute("href") == "https://arxiv.org/abs/2503.23402"
    assert "same abstract" in badge.get_attribute("title")
    assert page.title() != "pwned"
    page.close()


def test_arxiv_search_results_are_marked(browser):
    context, _, _ = browser
    page = open_page(context, "https://arxiv.org/search/?query=networks&searchtype=all")
    found = marks(page, 3, "li.arxiv-result[data-seenpapers]")
    assert [status for status, _ in found] == ["seen", "new", "new"]
    assert page.locator("li.arxiv-result p.title .seenpapers-badge").count() == 3
    assert page.title() != "pwned"
    page.close()


def test_single_paper_pages(browser):
    context, _, _ = browser
    page = open_page(context, "https://arxiv.org/abs/2402.14776")
    [(status, text)] = marks(page, 1)
    assert status == "seen" and text.startswith("seen 4×")
    page.close()
    page = open_page(context, "https://huggingface.co/papers/2305.02309")
    found = marks(page, 3)
    assert [status for status, _ in found] == ["seen", "seen", "new"]  # the paper, then the comment's links
    assert page.locator("h1 + .seenpapers-badge").count() == 1
    page.close()


@pytest.fixture(scope="module")
def captured(browser, daemon):
    """The daily list captured from the toolbar popup: (page, popup, file name)."""
    context, worker, extension_id = browser
    page = open_page(context, DAILY)
    marks(page, 5)
    popup = open_page(context, f"chrome-extension://{extension_id}/popup.html?tab={tab_id(worker, DAILY)}")
    popup.wait_for_selector("#counts:not([hidden])")
    before = _table_counts(daemon.data_dir / "seenpapers.db")
    popup.click("#capture")
    expect(popup.locator("#message")).to_have_text(re.compile(r"^Captured as "))
    name = popup.inner_text("#message").removeprefix("Captured as ").removesuffix(".")
    daemon.wait_for(lambda: sum(_table_counts(daemon.data_dir / "seenpapers.db")[t] for t in ("digests", "failures"))
                    > before["digests"] + before["failures"], what="the capture processed")
    yield page, popup, name
    popup.close()
    page.close()


def test_popup_shows_the_connection_and_the_page_counts(captured):
    _, popup, _ = captured
    assert re.fullmatch(r"Connected: \d+ papers from 6 digests\.", popup.inner_text("#status"))
    assert popup.inner_text("#counts") == "2 new · 3 seen · 0 read · 0 duplicate"


def test_capture_posts_the_pages_visible_text(captured, daemon):
    page, _, name = captured
    assert re.fullmatch(r"huggingface\.co_papers_date_2025-01-22_\d{4}-\d\d-\d\d(-\d+)?\.txt", name)
    # Exactly the page's visible text, as a person copying it would get: without our badges.
    text = (daemon.inbox / name).read_text(encoding="utf-8")
    assert "Matryoshka Representation Learning\n· 11 authors" in text and "seen " not in text
    assert text == page.evaluate("""() => {
        const badges = [...document.querySelectorAll('.seenpapers-badge')];
        badges.forEach(b => b.style.display = 'none');
        try { return document.body.innerText; } finally { badges.forEach(b => b.style.display = ''); }
    }""")


def test_a_captured_daily_list_is_ingested_and_its_new_papers_show_as_seen(captured, daemon):
    page, _, name = captured
    conn = sqlite3.connect(f"file:{daemon.data_dir / 'seenpapers.db'}?mode=ro", uri=True)
    failure = conn.execute("SELECT error FROM failures WHERE name = ?", [name]).fetchone()
    conn.close()
    assert failure is None, failure[0]
    # The content script asks again after a capture: the unknown paper is now seen.
    expect(page.locator("article").nth(3)).to_have_attribute("data-seenpapers", "seen", timeout=10_000)


def test_local_network_access_lets_the_service_worker_through(browser, daemon, public_page):
    """Chromium asks before a public page may reach 127.0.0.1 (and headless, nobody says
    yes); the extension's service worker, with host permission, is not asked."""
    context, worker, _ = browser
    fetch = """async url => { try { return 'status ' + (await fetch(url)).status; }
                              catch (e) { return 'failed: ' + e.message; } }"""
    page = open_page(context, public_page)
    console = []
    page.on("console", lambda message: console.append(message.text))
    assert page.evaluate(fetch, daemon.url + "/api/v1/health").startswith("failed")
    assert any("address space" in line for line in console), console
    assert worker.evaluate(fetch, daemon.url + "/api/v1/health") == "status 200"
    page.close()


def test_daemon_down_and_wrong_token_messages(browser, daemon):
    context, worker, extension_id = browser
    dead = f"http://127.0.0.1:{free_port()}"
    options = open_page(context, f"chrome-extension://{extension_id}/options.html")
    expect(options.locator("#apiBase")).to_have_value(daemon.url)  # the stored settings are in
    options.fill("#apiBase", dead)
    options.click("#test")
    expect(options.locator("#result.bad")).to_be_visible()
    assert f"does not answer at {dead}" in options.inner_text("#result")
    options.fill("#apiBase", daemon.url)
    options.fill("#token", "not-the-token")
    options.click("#test")
    expect(options.locator("#result")).to_contain_text("refused the token")
    options.fill("#token", daemon.token)
    options.click("#test")
    expect(options.locator("#result.ok")).to_be_visible()
    assert "Connected to seenpapers" in options.inner_text("#result")
    options.close()
    # With the daemon away, pages stay as they were and the popup says why.
    worker.evaluate("s => chrome.storage.local.set(s)", {"apiBase": dead})
    try:
        url = DAILY + "?daemon=away"  # a tab of its own
        page = open_page(context, url)
        popup = open_page(context, f"chrome-extension://{extension_id}/popup.html?tab={tab_id(worker, url)}")
        popup.wait_for_selector("#counts:not([hidden])")
        expect(popup.locator("#status")).to_contain_text("does not answer")
        expect(popup.locator("#message")).to_contain_text("does not answer")
        assert popup.inner_text("#counts") == "0 new · 0 seen · 0 read · 0 duplicate"
        assert page.locator("[data-seenpapers], .seenpapers-badge").count() == 0
        assert page.locator("article h3").count() == 5
        popup.close()
        page.close()
    finally:
        worker.evaluate("s => chrome.storage.local.set(s)", {"apiBase": daemon.url})
