// "Record what I see", end to end in Firefox ESR and Chromium: a listing whose cards have a
// known height is scrolled; the cards that were on screen for a second reach the real daemon
// as a visit digest, and only they. Run with `npm run e2e` (not picked up by plain `node --test`).
"use strict";

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { startDaemon, launch, marks, waitInPage, browsersToTest, skipReason, sleep } = require("./harness");

const CARD_PX = 400; // every card's height; the window shows two at a time
const VIEWPORT = { width: 1000, height: 2 * CARD_PX };
const CARDS = 12;
const DWELL_MS = 1600; // comfortably more than the second a card needs

// A Hugging Face daily list of `CARDS` papers no digest has shown yet, cards of a fixed
// height, in the markup the real list uses (an <article> holding the title link).
function listing(tag) {
  const cards = Array.from({ length: CARDS }, (_, i) => {
    const id = paperId(tag, i);
    return `<article class="card" style="height:${CARD_PX}px;box-sizing:border-box;margin:0;overflow:hidden">
      <a href="/papers/${id}"><img alt=""></a>
      <h3><a href="/papers/${id}">${titleOf(tag, i)}</a></h3>
      <p>· 3 authors</p></article>`;
  }).join("\n");
  return `<!doctype html><html><head><meta charset="utf-8"><title>Daily Papers - Hugging Face</title>
    <style>body{margin:0} main{margin:0;padding:0}</style></head>
    <body><main><section id="cards">${cards}</section><footer style="height:${3 * CARD_PX}px">The end</footer></main></body></html>`;
}

// Every browser and page gets papers of its own, so the tests of one do not meet the other's.
const TAGS = { chromium: 1, firefox: 2 };
let serial = 0;
function paperId(tag, i) {
  return `26${String(tag).padStart(2, "0")}.${String(i + 1).padStart(5, "0")}`;
}
function titleOf(tag, i) {
  return `Visible Paper ${tag}-${i + 1}: What Was On Screen`;
}

const OTHER_PAGE = "https://huggingface.co/models";

async function sightingsByPaper(daemon, tag) {
  const rows = await daemon.sql(
    `SELECT p.arxiv_id, count(s.id) AS n FROM papers p JOIN sightings s ON s.paper_id = p.id
     WHERE p.arxiv_id LIKE ? GROUP BY p.arxiv_id ORDER BY p.arxiv_id`, [`26${String(tag).padStart(2, "0")}.%`]);
  return Object.fromEntries(rows.map((r) => [r.arxiv_id, r.n]));
}

function cardIds(tag, indexes) {
  return Object.fromEntries(indexes.map((i) => [paperId(tag, i), 1]));
}

for (const name of browsersToTest()) {
  describe(name, { skip: skipReason(name) }, () => {
    let daemon;
    let browser;
    const pages = new Map(); // address -> the tag of its papers

    // A listing page of new papers at an address of its own; returns [url, tag].
    function newListing(label) {
      serial += 1;
      const tag = TAGS[name] * 10 + serial;
      const url = `https://huggingface.co/papers/date/2026-01-${String(serial).padStart(2, "0")}?${label}`;
      pages.set(url, tag);
      browser.servePage(url, listing(tag));
      return [url, tag];
    }

    async function open(url) {
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      await page.goto(url, { waitUntil: "load" });
      await marks(page, CARDS, "article[data-seenpapers]");
      return page;
    }

    async function visitsOf(url) {
      return daemon.sql("SELECT id, name, kind, page, entries FROM digests WHERE kind = 'visit' AND page = ? ORDER BY id", [url]);
    }

    before(async () => {
      daemon = await startDaemon({ samples: true });
      browser = await launch(name, { storage: { apiBase: daemon.url, token: daemon.token } });
      browser.servePage(OTHER_PAGE, "<!doctype html><title>Models</title><h1>Models</h1>");
    });

    after(async () => {
      if (browser) await browser.close();
      if (daemon) await daemon.cleanup();
    });

    test("the cards on screen for a second, and only they, are one visit digest once the page is left", async () => {
      const [url, tag] = newListing("scrolled");
      const page = await open(url);
      await sleep(DWELL_MS); // cards 1 and 2
      await page.evaluate((y) => window.scrollTo(0, y), 4 * CARD_PX); // straight past 3 and 4
      await sleep(DWELL_MS); // cards 5 and 6
      await page.evaluate((y) => window.scrollTo(0, y), 10 * CARD_PX); // 11 and 12, but not for a second
      await sleep(300);
      await page.evaluate((y) => window.scrollTo(0, y), 12 * CARD_PX); // the footer: no card on screen
      await sleep(200);
      const noted = await page.$$eval("article", (cards) => cards.map((c) => c.dataset.seenpapersNoted === "true"));
      assert.deepEqual(noted.map((yes, i) => (yes ? i : null)).filter((i) => i !== null), [0, 1, 4, 5]);
      // The badges still say what was true when the page opened.
      assert.deepEqual(new Set(await page.$$eval("article", (cards) => cards.map((c) => c.dataset.seenpapers))), new Set(["new"]));
      await page.goto(OTHER_PAGE);
      const expected = cardIds(tag, [0, 1, 4, 5]);
      await daemon.waitFor(async () => JSON.stringify(await sightingsByPaper(daemon, tag)) === JSON.stringify(expected),
        { what: `sightings of cards 1, 2, 5 and 6 only (now ${JSON.stringify(await sightingsByPaper(daemon, tag))})` });
      const [visit, ...more] = await visitsOf(url);
      assert.deepEqual(more, []);
      assert.equal(visit.entries, 4);
      assert.match(visit.name, /^visit_huggingface\.co_papers_date_2026-01-\d\d_scrolled_\d{8}T\d{6}_[a-z0-9]+-1\.json$/);
      assert.deepEqual(await daemon.sql("SELECT count(*) AS n FROM failures"), [{ n: 0 }]);
      await page.close();
    });

    test("a reload within 30 minutes adds nothing, and the badges now say seen today", async () => {
      const [url, tag] = newListing("reloaded");
      const page = await open(url);
      await sleep(DWELL_MS);
      await page.goto(OTHER_PAGE);
      await daemon.waitFor(async () => (await visitsOf(url)).length === 1, { what: "the first visit" });
      await page.goto(url);
      const found = await marks(page, CARDS, "article[data-seenpapers]");
      assert.deepEqual(found.slice(0, 3), [["seen", "seen 1× · today"], ["seen", "seen 1× · today"], ["new", "new"]]);
      await sleep(DWELL_MS);
      await page.reload();
      await marks(page, CARDS, "article[data-seenpapers]");
      await sleep(DWELL_MS);
      await page.goto(OTHER_PAGE);
      await sleep(1500); // time enough for a visit to arrive, were one sent
      assert.equal((await visitsOf(url)).length, 1);
      assert.deepEqual(await sightingsByPaper(daemon, tag), cardIds(tag, [0, 1]));
      await page.close();
    });

    test("a tab in the background records nothing", async () => {
      const [url, tag] = newListing("hidden");
      const page = await open(url);
      const front = await browser.newPage();
      await front.goto(OTHER_PAGE);
      await front.bringToFront();
      await waitInPage(page, () => document.visibilityState === "hidden");
      await sleep(DWELL_MS + 500);
      await page.close();
      await front.close();
      await sleep(1500);
      assert.deepEqual(await visitsOf(url), []);
      assert.deepEqual(await sightingsByPaper(daemon, tag), {});
    });

    test("with Record what I see off, nothing is recorded", async () => {
      await browser.setStorage({ record: false });
      try {
        const [url, tag] = newListing("off");
        const page = await open(url);
        await sleep(DWELL_MS);
        await page.goto(OTHER_PAGE);
        await sleep(1500);
        assert.deepEqual(await visitsOf(url), []);
        assert.deepEqual(await sightingsByPaper(daemon, tag), {});
        await page.close();
      } finally {
        await browser.setStorage({ record: true });
      }
    });

    test("a paper's own page is recorded after two seconds", async () => {
      const url = "https://huggingface.co/papers/2305.02309";
      const paper = { title: "CodeGen2: Lessons for Training LLMs on Programming and Natural Languages", arxiv_id: "2305.02309" };
      const before = (await daemon.lookup([paper]))[0].times_seen;
      const page = await browser.newPage();
      await page.goto(url);
      await marks(page, 1);
      await sleep(2600);
      await page.goto(OTHER_PAGE);
      await daemon.waitFor(async () => (await visitsOf(url)).length === 1, { what: "the paper page's visit" });
      assert.equal((await daemon.lookup([paper]))[0].times_seen, before + 1);
      // Only the paper the page is about: not the papers its comments link to.
      assert.equal((await visitsOf(url))[0].entries, 1);
      await page.close();
    });

    test("what is seen while the daemon is down waits in the browser, and arrives when it is back", async () => {
      const [url, tag] = newListing("down");
      await daemon.stop();
      const page = await browser.newPage();
      await page.setViewport(VIEWPORT);
      await page.goto(url, { waitUntil: "load" }); // no badges: the daemon is away
      await sleep(DWELL_MS);
      await page.goto(OTHER_PAGE);
      const queue = await daemon.waitFor(async () => {
        const { visitQueue = [] } = await browser.getStorage(["visitQueue"]);
        return visitQueue.length && visitQueue;
      }, { what: "the visit in the extension's queue" });
      assert.equal(queue[0].papers, 2);
      const popup = await browser.openExtensionPage(`popup.html?tab=${await browser.tabId(OTHER_PAGE)}`);
      assert.equal(await waitInPage(popup, () => !document.getElementById("waiting").hidden && document.getElementById("waiting").textContent),
        "2 sightings wait for the daemon.");
      await popup.close();
      await daemon.start();
      // The next lookup (any papers page) finds the daemon back and sends what waited.
      await page.goto("https://huggingface.co/papers/date/2025-01-22");
      await daemon.waitFor(async () => JSON.stringify(await sightingsByPaper(daemon, tag)) === JSON.stringify(cardIds(tag, [0, 1])),
        { what: "the waiting sightings" });
      await daemon.waitFor(async () => ((await browser.getStorage(["visitQueue"])).visitQueue || []).length === 0, { what: "an empty queue" });
      await page.close();
    });
  });
}
