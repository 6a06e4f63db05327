// Badges, read clicks, the options page and the popup, end to end: the real daemon with the
// sample digests, the real extension in Firefox ESR and in Chromium, fixture pages at their real
// addresses. Run with `npm run e2e` (not picked up by plain `node --test`).
"use strict";

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { startDaemon, launch, marks, waitInPage, browsersToTest, skipReason, FIXTURES } = require("./harness");

const DAILY = "https://huggingface.co/papers/date/2025-01-22";
const LISTING = "https://arxiv.org/list/cs.LG/new";
const HOSTILE = "<img src=x onerror=\"document.title='pwned'\"> ";
const SEEN_BADGE = (times) => new RegExp(`^seen ${times}× · first \\d{1,2} [A-Z][a-z]{2}( 20\\d\\d)?$`);

/** The daemon of tests/test_extension.py: the samples, and the original of the listing's
 * retitled copy known under a hostile title (6 digests). */
async function daemonWithHostileOriginal() {
  const daemon = await startDaemon({ samples: true });
  const papers = JSON.parse(fs.readFileSync(path.join(FIXTURES, "dedup", "real-pairs.json"), "utf8"));
  const original = papers.find((p) => p.arxiv_id === "2503.23402");
  const title = HOSTILE + original.title;
  await daemon.postDigest("original.json", [{ paper: { id: original.arxiv_id, title, summary: original.abstract }, title }]);
  await daemon.waitIdle({ digests: 6 });
  return daemon;
}

const text = (page, selector) => page.$eval(selector, (e) => e.textContent);

for (const name of browsersToTest()) {
  describe(name, { skip: skipReason(name) }, () => {
    let daemon;
    let browser;

    before(async () => {
      daemon = await daemonWithHostileOriginal();
      // Recording is off: opening pages must not add sightings.
      browser = await launch(name, { storage: { apiBase: daemon.url, token: daemon.token, record: false } });
    });

    after(async () => {
      if (browser) await browser.close();
      if (daemon) await daemon.cleanup();
    });

    test("the Hugging Face daily list marks every card", async () => {
      const page = await browser.openPage(DAILY);
      const found = await marks(page, 5, "article[data-seenpapers]");
      assert.deepEqual(found.map(([status]) => status), ["seen", "seen", "seen", "new", "new"]);
      assert.match(found[0][1], SEEN_BADGE(5));
      assert.match(found[1][1], SEEN_BADGE(3));
      const tooltip = await page.$eval("article .seenpapers-badge", (b) => b.title);
      assert.ok(tooltip.includes("Seen 5 times") && tooltip.includes("000_be2405954437598b.txt"), tooltip);
      // A title that is escaped markup on the page stays text, and nothing ran.
      assert.ok((await text(page, "article:nth-of-type(5) h3")).trim().startsWith("<img src=x onerror="));
      assert.equal(await page.title(), "Daily Papers - Hugging Face");
      await page.close();
    });

    test("a click on a badge marks the paper read, and a second click unread, in place and in the daemon", async () => {
      const page = await browser.openPage(DAILY);
      await marks(page, 5, "article[data-seenpapers]");
      const badge = async () => (await page.$$("article"))[1].$(".seenpapers-badge");
      await (await badge()).click();
      await waitInPage(page, () => document.querySelectorAll("article")[1].dataset.seenpapers === "read");
      assert.equal(await (await badge()).evaluate((b) => b.textContent), "read · seen 3×");
      assert.equal((await daemon.lookup("Pointer Networks"))[0].status, "read");
      assert.equal((await daemon.sql("SELECT count(*) AS n FROM reads"))[0].n, 1);
      await (await badge()).click();
      await waitInPage(page, () => document.querySelectorAll("article")[1].dataset.seenpapers === "seen");
      assert.equal((await daemon.lookup("Pointer Networks"))[0].status, "seen");
      await page.close();
    });

    test("cards the site adds later are marked once", async () => {
      const page = await browser.openPage(DAILY);
      await marks(page, 5, "article[data-seenpapers]");
      await page.evaluate(() => {
        const card = document.querySelector("article").cloneNode(true);
        card.querySelector(".seenpapers-badge").remove();
        card.removeAttribute("data-seenpapers");
        card.querySelectorAll('a[href^="/papers/"]').forEach((a) => a.setAttribute("href", "/papers/2305.02309"));
        card.querySelector("h3 a").textContent = "CodeGen2: Lessons for Training LLMs on Programming and Natural Languages";
        document.querySelector("#cards").append(card);
      });
      const found = await marks(page, 6, "article[data-seenpapers]");
      assert.equal(found[5][0], "seen");
      assert.ok(found[5][1].startsWith("seen 3×"), found[5][1]);
      assert.equal(await page.$$eval("article:nth-of-type(6) .seenpapers-badge", (b) => b.length), 1);
      await page.close();
    });

    test("the arXiv listing shows a duplicate whose title is hostile markup as text", async () => {
      const page = await browser.openPage(LISTING);
      const found = await marks(page, 4, "dd[data-seenpapers]");
      assert.deepEqual(found.map(([status]) => status), ["seen", "duplicate", "new", "seen"]);
      const [dd] = (await page.$$("dd")).slice(1, 2);
      const badge = await dd.$(".seenpapers-badge");
      assert.ok((await badge.evaluate((b) => b.textContent)).startsWith("same as: " + HOSTILE.trim()));
      assert.equal(await badge.$$eval("img", (images) => images.length), 0);
      assert.equal(await page.$$eval("dd img", (images) => images.length), 0);
      assert.equal(await badge.$eval("a", (a) => a.getAttribute("href")), "https://arxiv.org/abs/2503.23402");
      assert.ok((await badge.evaluate((b) => b.title)).includes("same abstract"));
      assert.notEqual(await page.title(), "pwned");
      await page.close();
    });

    test("the options page saves the token, and Test connection reports Connected", async () => {
      await browser.removeStorage(["token"]);
      try {
        const options = await browser.openExtensionPage("options.html");
        await waitInPage(options, (url) => document.querySelector("#apiBase").value === url, daemon.url);
        assert.equal(await options.$eval("#token", (e) => e.value), "");
        await options.type("#token", daemon.token);
        await options.click("#save");
        await waitInPage(options, () => document.querySelector("#result.ok"));
        assert.match(await text(options, "#result"), /^Saved\. Connected to seenpapers \S+ at http:\/\/127\.0\.0\.1:\d+: \d+ papers from 6 digests\.$/);
        assert.equal((await browser.getStorage(["token"])).token, daemon.token);
        await options.evaluate(() => { document.querySelector("#result").className = ""; });
        await options.click("#test");
        await waitInPage(options, () => document.querySelector("#result.ok"));
        assert.ok((await text(options, "#result")).startsWith("Connected to seenpapers"));
        // The browser gave the extension its host permissions: no "Allow access".
        assert.equal(await options.$eval("#access", (e) => e.hidden), true);
        await options.close();
      } finally {
        await browser.setStorage({ token: daemon.token });
      }
    });

    test("the popup shows the connection and the page's counts", async () => {
      const url = `${DAILY}?popup`; // a tab of its own
      const page = await browser.openPage(url);
      await marks(page, 5, "article[data-seenpapers]");
      const popup = await browser.openExtensionPage(`popup.html?tab=${await browser.tabId(url)}`);
      await popup.waitForSelector("#counts:not([hidden])");
      await waitInPage(popup, () => document.querySelector("#status").className === "ok");
      assert.match(await text(popup, "#status"), /^Connected: \d+ papers from 6 digests\.$/);
      assert.equal(await text(popup, "#counts"), "2 new · 3 seen · 0 read · 0 duplicate");
      await popup.close();
      await page.close();
      // Nothing was recorded: still the six digests.
      assert.equal((await daemon.counts()).digests, 6);
    });
  });
}
