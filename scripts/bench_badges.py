"""Page → badges, for scripts/bench.py: the real extension in Debian's Chromium on a 50-card
Hugging Face daily page, against the bench's running daemon.

Chromium is started by Playwright as tests/test_extension.py does (its own executable, the new
headless mode, the unpacked extension loaded with --load-extension), once per version of the
extension, each with a fresh profile. Pages are served at their real https addresses by a
Playwright route; nothing leaves the machine. Each load opens a fresh tab. An init script
(the page's own world) records with a MutationObserver the moment the first card and the
50th card carry `data-seenpapers`; the figures are those moments minus the navigation's
`domContentLoadedEventStart` and `loadEventEnd` (PerformanceNavigationTiming, same clock).

Versions: the extension/ folder as it is, the same folder as of an earlier commit (git
archive), and two no-op extensions as the browser's floor: a content script that reads the
cards' titles and links, sends them to its service worker, which POSTs them to the aiohttp
no-op server and answers; then it marks every card. One starts at document_end, as the
extension does now; the other at document_start and waits for DOMContentLoaded. They are
loaded in turn on the same pages (A B C D, then B C D A, ...), so the machine's slower
minutes fall on all of them.

Images (avatars, thumbnails) are answered at once, or after a delay as a network would:
`document_idle` content scripts wait for the load event or for 200 ms after
DOMContentLoaded, so the delay is what tells document_idle and document_end apart.

Kept out of the figures, each found to add tens of ms on this 2-core machine: Playwright's
own work in the page (the page posts its times when done, nothing is evaluated in it),
Playwright's interception of the service workers' requests (off), a window left with no
tab (every new tab then opened a window, whose omnibox WebUI took the CPU), SVG images.
"""

from __future__ import annotations

import asyncio
import html
import json
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "extension"
TEMPLATE = ROOT / "tests" / "fixtures" / "pages" / "hf-daily.html"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CARDS = 50
DEADLINE_MS = 10_000  # any one page's wait; longer is a failure, not a figure
PAGE_URL = re.compile(r"^https://huggingface\.co/papers/date/(\d{4}-\d\d-\d\d)$")
IMAGE = re.compile(r"^https://(huggingface\.co/avatars/|cdn-thumbnails\.huggingface\.co/)")
# Every image is a 1×1 GIF (thumbnails are PNGs; an SVG would cost the page an SVG document
# per image, 20-30 ms of its main thread in all).
PIXEL = bytes.fromhex("47494638396101000100800000000000ffffff21f90401000000002c00000000010001000002024401003b")

# Runs in every page before its own scripts. Content scripts live in another world but
# share the DOM, so their attributes are seen here. Once the 50th card is marked and the
# load event is over, the page posts its times to REPORT, which the route answers: nothing
# of Playwright runs in the page until then (an evaluate costs its main thread 7 ms).
REPORT = "/__seenpapers_bench__/report"
WATCH = """(() => {
  const marks = { first: null, last: null, sent: false };
  const report = () => {
    const nav = performance.getEntriesByType("navigation")[0];
    if (marks.sent || marks.last === null || !nav || !(nav.loadEventEnd > 0)) return;
    marks.sent = true;
    const statuses = {};
    for (const card of document.querySelectorAll("article[data-seenpapers]")) {
      statuses[card.dataset.seenpapers] = (statuses[card.dataset.seenpapers] || 0) + 1;
    }
    fetch("%s", { method: "POST", body: JSON.stringify({
      page: location.pathname, dcl: nav.domContentLoadedEventStart, load: nav.loadEventEnd,
      origin: performance.timeOrigin, first: marks.first, last: marks.last, statuses }) });
  };
  new MutationObserver((records, observer) => {
    const marked = document.querySelectorAll("article[data-seenpapers]").length;
    if (marked && marks.first === null) marks.first = performance.now();
    if (marked >= %d) { marks.last = performance.now(); observer.disconnect(); report(); }
  }).observe(document, { subtree: true, attributes: true, attributeFilter: ["data-seenpapers"] });
  addEventListener("load", () => setTimeout(report, 0)); // loadEventEnd is set once the handlers ran
})();""" % (REPORT, CARDS)

# Only for the loads that say where the time goes: the service worker's storage read,
# fetch and JSON parse are timed (epoch ms, comparable with the page's timeOrigin + now).
WRAP = """() => {
  if (self.__bench) return;
  const now = () => performance.timeOrigin + performance.now();
  const records = self.__bench = [];
  const local = chrome.storage.local, get0 = local.get, fetch0 = self.fetch, json0 = Response.prototype.json;
  let current = null;
  local.get = function (...args) {
    const mine = current = { get_start: now() };
    records.push(mine);
    const answer = get0.apply(this, args);
    if (answer && answer.then) answer.then(() => { mine.get_end = now(); });
    return answer;
  };
  self.fetch = async (...args) => {
    const mine = current || {};
    mine.fetch_start = now();
    const response = await fetch0(...args);
    mine.fetch_headers = now();
    response.__mine = mine;
    return response;
  };
  Response.prototype.json = async function () {
    const value = await json0.call(this);
    if (this.__mine) this.__mine.json_end = now();
    return value;
  };
  self.__unwrap = () => { local.get = get0; self.fetch = fetch0; Response.prototype.json = json0; delete self.__bench; };
}"""

# The floor: a no-op extension doing the same trip with nothing behind it.
FLOOR_MANIFEST = {
    "manifest_version": 3, "name": "no-op floor", "version": "1.0",
    "host_permissions": ["http://127.0.0.1/*", "https://huggingface.co/*"],
    "background": {"service_worker": "background.js"},
}
FLOOR_BACKGROUND = """chrome.runtime.onMessage.addListener((message, sender, reply) => {
  fetch(%s, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ papers: message.papers }) })
    .then((response) => response.json()).then(() => reply({ ok: true }), (error) => reply({ ok: false, error: String(error) }));
  return true;
});"""
FLOOR_CONTENT = """(() => {
  const go = () => {
    const cards = [...document.querySelectorAll("article")];
    const papers = cards.map((card) => {
      const link = card.querySelector("h3 a");
      return { title: link.textContent.trim(), url: link.href, arxiv_id: link.getAttribute("href").split("/").pop() };
    });
    chrome.runtime.sendMessage({ papers }).then(() => { for (const card of cards) card.dataset.seenpapers = "new"; });
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", go, { once: true });
  else go();
})();"""


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, math.ceil(p / 100 * len(ordered)) - 1))]


def spread(values: list[float]) -> dict:
    if not values:
        return {"n": 0}
    return {"n": len(values), "p50_ms": pct(values, 50), "p95_ms": pct(values, 95), "min_ms": min(values), "max_ms": max(values)}


def available() -> str | None:
    """Why the badge part cannot run here, or None."""
    if not Path(CHROMIUM).exists():
        return "Chromium is not installed (apt-get install chromium)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def chromium_version() -> str:
    result = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True)
    match = re.search(r"\d+\.[\d.]+", result.stdout)
    return match.group(0) if match else "?"


# --- the page ---------------------------------------------------------------------------


def build_page(day: str, items: list[dict]) -> bytes:
    """The fixture's daily page with its five cards replaced by one card per item ({id,
    title}), each made from the fixture's first <article>."""
    text = TEMPLATE.read_text(encoding="utf-8")
    opening = text.index(">", text.index('<div id="cards"')) + 1
    first = text.index("<article", opening)
    card = text[first:text.index("</article>", first) + len("</article>")]
    closing = text.index("</div>", text.rindex("</article>"))
    model_id, model_title = "2205.13147", "Matryoshka Representation Learning"
    assert model_id in card and model_title in card, "the fixture's first card changed: update build_page"
    cards = [card.replace(model_id, item["id"]).replace(model_title, html.escape(item["title"], quote=False))
             for item in items]
    page = text[:opening] + "\n" + "\n\n".join(cards) + "\n" + text[closing:]
    return page.replace("2025-01-22", day).encode("utf-8")


def page_body(items: list[dict]) -> bytes:
    """What the extension posts for such a page (each card's title, arXiv id and address),
    as compact as JSON.stringify writes it."""
    papers = [{"title": i["title"], "arxiv_id": i["id"], "url": f"https://huggingface.co/papers/{i['id']}"} for i in items]
    return json.dumps({"papers": papers}, ensure_ascii=False, separators=(",", ":")).encode()


# --- versions ---------------------------------------------------------------------------


def run_at(folder: Path) -> str:
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return "/".join(sorted({script.get("run_at", "document_idle") for script in manifest.get("content_scripts", [])}))


def floor_extension(folder: Path, start: str, noop_url: str) -> Path:
    folder.mkdir(parents=True)
    manifest = dict(FLOOR_MANIFEST, content_scripts=[{"matches": ["https://huggingface.co/*"], "js": ["content.js"], "run_at": start}])
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2))
    (folder / "background.js").write_text(FLOOR_BACKGROUND % json.dumps(noop_url))
    (folder / "content.js").write_text(FLOOR_CONTENT)
    return folder


def versions(commit: str, tmp: Path, noop_url: str) -> list[dict]:
    """The extension/ folder as it is, as of ``commit`` (git archive into ``tmp``), and the
    two no-op floors."""
    def git(*args) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True).stdout.strip()

    dirty = " + uncommitted changes" if git("status", "--porcelain", "--", "extension") else ""
    old = tmp / f"extension-{commit}"
    old.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "extension"], capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    found = [{"name": "now", "folder": EXTENSION, "source": f"the tree (extension/ last committed in {git('log', '-1', '--format=%h', '--', 'extension')}{dirty})"},
             {"name": commit, "folder": old / "extension", "source": f"git archive {commit}"}]
    for start in ("document_end", "document_start"):
        found.append({"name": f"floor/{start.removeprefix('document_')}", "floor": True,
                      "folder": floor_extension(tmp / f"floor-{start}", start, noop_url),
                      "source": "no-op extension: cards read, message, fetch of the no-op server, reply, cards marked"
                      + ("" if start == "document_end" else "; waits for DOMContentLoaded")})
    for version in found:
        version["run_at"] = run_at(version["folder"])
    return found


# --- the browser ------------------------------------------------------------------------


async def open_browser(playwright, folder: Path, profile: Path, settings: dict, serve):
    context = await playwright.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        headless=False,  # the new headless mode comes from the flag, which loads extensions
        ignore_default_args=["--disable-extensions"],
        args=["--headless=new", f"--disable-extensions-except={folder}", f"--load-extension={folder}",
              "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
              "--disable-sync", "--no-first-run"],
    )
    # Only https addresses are routed: the daemon (http://127.0.0.1) is not.
    await context.route(re.compile(r"^https://"), serve)
    await context.add_init_script(WATCH)
    worker = context.service_workers[0] if context.service_workers else await context.wait_for_event("serviceworker")
    if settings:  # the floors have no settings
        await worker.evaluate("s => chrome.storage.local.set(s)", settings)
    # A fresh install opens the options page: close it, leaving a blank tab. Were the window
    # left without a tab, every load's tab would open a new window, whose browser UI
    # (the omnibox's WebUI renderer) took the page's CPU: 100-240 ms more per load.
    await asyncio.sleep(0.5)
    if not any(page.url == "about:blank" for page in context.pages):
        await context.new_page()
    for page in context.pages:
        if page.url.startswith("chrome-extension://"):
            await page.close()
    return context, worker


async def one_load(context, url: str, reports: dict) -> dict:
    """A fresh tab on ``url``; the times its page reports."""
    reported = reports[url.removeprefix("https://huggingface.co")] = asyncio.get_running_loop().create_future()
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="commit", timeout=DEADLINE_MS)
        return await asyncio.wait_for(reported, DEADLINE_MS / 1000)
    finally:
        await page.close()


def figures_of(loads: list[dict]) -> dict:
    statuses: dict[str, int] = {}
    for load in loads:
        for status, count in load["statuses"].items():
            statuses[status] = statuses.get(status, 0) + count
    return {
        "dcl_to_last": spread([t["last"] - t["dcl"] for t in loads]),
        "dcl_to_first": spread([t["first"] - t["dcl"] for t in loads]),
        "load_to_last": spread([t["last"] - t["load"] for t in loads]),
        "dcl_to_load": spread([t["load"] - t["dcl"] for t in loads]),
        "statuses": statuses,
    }


STEPS = {  # name: (from, to); dcl and last are the page's, the others the service worker's
    "DOMContentLoaded → storage read (content script starts, reads the cards, sends)": ("dcl", "get_start"),
    "storage read (apiBase, token)": ("get_start", "get_end"),
    "fetch → response headers (HTTP and the daemon)": ("fetch_start", "fetch_headers"),
    "response body, JSON": ("fetch_headers", "json_end"),
    "JSON → 50th badge (answer to the page, badges)": ("json_end", "last"),
}


def breakdown_of(loads: list[dict]) -> dict:
    """Median ms of each step from the page's DOMContentLoaded to its 50th badge."""
    steps: dict[str, list[float]] = {name: [] for name in STEPS}
    for t in loads:
        at = dict(t["sw"], dcl=t["origin"] + t["dcl"], last=t["origin"] + t["last"])
        if all(key in at for pair in STEPS.values() for key in pair):
            for name, (a, b) in STEPS.items():
                steps[name].append(at[b] - at[a])
    return {"n": len(steps[next(iter(STEPS))]), "p50_ms": {k: pct(v, 50) for k, v in steps.items() if v}}


async def measure(pages: dict[str, bytes], settings: dict, *, commit: str, noop_url: str, warmup: int, loads: int,
                  image_delays: list[float], breakdown_loads: int, budget_s: float) -> dict:
    """Every page loaded by every version in turn; figures per (image delay, version). The
    floors run with images at once only."""
    from playwright.async_api import async_playwright

    # Playwright would otherwise intercept the service workers' requests too (every fetch
    # to the daemon through its driver): that is not the extension's cost.
    os.environ.setdefault("PLAYWRIGHT_DISABLE_SERVICE_WORKER_NETWORK", "1")
    delay = {"s": 0.0}

    reports: dict[str, asyncio.Future] = {}  # page path -> its times, once it posts them

    async def serve(route):
        url = route.request.url
        if url == "https://huggingface.co" + REPORT:
            times = json.loads(route.request.post_data)
            waiting = reports.pop(times["page"], None)
            if waiting and not waiting.done():
                waiting.set_result(times)
            return await route.fulfill(status=204)
        match = PAGE_URL.match(url)
        if match and match.group(1) in pages:
            return await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=pages[match.group(1)])
        if IMAGE.match(url):
            if delay["s"]:
                await asyncio.sleep(delay["s"])
            return await route.fulfill(status=200, content_type="image/gif", body=PIXEL)
        return await route.abort()  # anything else: nothing leaves the machine

    urls = [f"https://huggingface.co/papers/date/{day}" for day in pages]
    started = time.perf_counter()
    deadline = started + budget_s
    out: dict = {"chromium": chromium_version(), "warmup": warmup, "budget_s": budget_s, "runs": [], "breakdown": []}
    with tempfile.TemporaryDirectory(prefix="seenpapers-badges-") as tmp:
        found = versions(commit, Path(tmp), noop_url)
        out["versions"] = [{k: str(v) if isinstance(v, Path) else v for k, v in version.items()} for version in found]
        async with async_playwright() as playwright:
            browsers = [await open_browser(playwright, version["folder"], Path(tmp) / f"profile-{n}",
                                     None if version.get("floor") else settings, serve)
                        for n, version in enumerate(found)]
            try:
                for seconds in image_delays:
                    delay["s"] = seconds
                    mine = [n for n, version in enumerate(found) if not (seconds and version.get("floor"))]
                    got: dict[int, list[dict]] = {n: [] for n in mine}
                    for i in range(warmup + loads):
                        if time.perf_counter() > deadline:
                            break
                        for n in mine[i % len(mine):] + mine[:i % len(mine)]:
                            times = await one_load(browsers[n][0], urls[i % len(urls)], reports)
                            if i >= warmup:
                                got[n].append(times)
                    for n in mine:
                        out["runs"].append({"version": found[n]["name"], "image_delay_ms": seconds * 1000, **figures_of(got[n])})
                # Where the time goes: the extension's own loads again, its service worker's steps timed.
                delay["s"] = 0.0
                for version, (context, worker) in zip(found, browsers):
                    if version.get("floor"):
                        continue
                    await worker.evaluate(WRAP)
                    timed = []
                    for i in range(breakdown_loads):
                        if time.perf_counter() > deadline:
                            break
                        await worker.evaluate("() => { self.__bench.length = 0; }")
                        times = await one_load(context, urls[i % len(urls)], reports)
                        lookups = await worker.evaluate("() => self.__bench.filter(r => r.fetch_start)")
                        if len(lookups) == 1:  # the page's one lookup
                            timed.append(dict(times, sw=lookups[0]))
                    await worker.evaluate("() => self.__unwrap()")
                    out["breakdown"].append({"version": version["name"], **breakdown_of(timed)})
            finally:
                for context, _ in browsers:
                    await context.close()
    out["seconds"] = time.perf_counter() - started
    out["out_of_time"] = out["seconds"] > budget_s
    return out


def run(pages: dict[str, bytes], settings: dict, **options) -> dict:
    return asyncio.run(measure(pages, settings, **options))
