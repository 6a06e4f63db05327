// The harness itself: a daemon that stops and starts again on its data dir and port, and
// pages a test generates served at real addresses while nothing else leaves the machine.
"use strict";

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { startDaemon, launch, marks, browsersToTest, skipReason, REPO } = require("./harness");

const SAMPLE = path.join(REPO, "daemon", "seenpapers", "samples", "000_be2405954437598b.txt");

test("the daemon starts again on the same data dir, port and token, and ingests what arrived while it was down", async () => {
  const daemon = await startDaemon({ samples: false });
  try {
    const { url, token } = daemon;
    assert.equal((await daemon.health()).digests, 0);
    assert.equal(await daemon.stop(), 0);
    await assert.rejects(daemon.health());
    fs.copyFileSync(SAMPLE, path.join(daemon.inbox, "while-down.txt"));
    await daemon.start();
    assert.equal(daemon.url, url);
    assert.equal(daemon.token, token);
    const counts = await daemon.waitIdle(); // every file in the inbox processed
    assert.equal(counts.digests, 1);
    assert.deepEqual(await daemon.pendingFiles(), []);
    const [row] = await daemon.sql("SELECT name FROM digests WHERE path LIKE ?", ["%while-down.txt"]);
    assert.equal(row.name, "while-down.txt");
    const [result] = await daemon.lookup(["Matryoshka Representation Learning"]);
    assert.equal(result.status, "seen");
  } finally {
    await daemon.cleanup();
  }
});

/** A Hugging Face list of `n` cards, each `height` px tall, with made-up papers. */
function generatedList(n, height) {
  const cards = Array.from({ length: n }, (_, i) => {
    const id = `2401.${String(10000 + i)}`;
    return `<article style="height:${height}px"><a href="/papers/${id}"><img src="https://cdn-thumbnails.huggingface.co/${id}.png"></a>` +
      `<h3><a href="/papers/${id}">A generated paper number ${i} about nothing in particular</a></h3></article>`;
  }).join("\n");
  return `<!doctype html><html><head><title>generated</title></head><body><main id="cards">${cards}</main></body></html>`;
}

for (const name of browsersToTest()) {
  describe(name, { skip: skipReason(name) }, () => {
    let daemon;
    let browser;

    before(async () => {
      daemon = await startDaemon({ samples: true });
      browser = await launch(name, { storage: { apiBase: daemon.url, token: daemon.token, record: false } });
    });

    after(async () => {
      if (browser) await browser.close();
      if (daemon) await daemon.cleanup();
    });

    test("a page the test generates is served at its real address, and nothing else leaves the machine", async () => {
      const url = "https://huggingface.co/papers/trending";
      const remove = browser.servePage(url, () => generatedList(40, 300));
      try {
        browser.requests.length = 0;
        const page = await browser.openPage(url);
        const found = await marks(page, 40, "article[data-seenpapers]");
        assert.ok(found.every(([status]) => status === "new"), JSON.stringify(found));
        assert.equal(await page.$eval("article", (a) => a.getBoundingClientRect().height), 300);
        await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight)); // the lazy images load
        await page.close();
        const outside = browser.requests.filter(([u]) => /^https?:/.test(u) && !/^https?:\/\/(127\.0\.0\.1|localhost)[:/]/.test(u));
        assert.deepEqual(outside.filter(([, what]) => what === "continue"), []);
        assert.deepEqual(outside[0], [url, 200]);
        assert.ok(outside.some(([u, what]) => u.startsWith("https://cdn-thumbnails.huggingface.co/") && what === "aborted"),
          JSON.stringify(outside.slice(0, 5)));
      } finally {
        remove();
      }
    });

    test("a real address with no fixture is a 404 and no badge is set", async () => {
      const page = await browser.openPage("https://huggingface.co/spaces/nothing-here");
      assert.equal(await page.evaluate(() => document.body.textContent.trim()), "not found");
      assert.equal(await page.$$eval(".seenpapers-badge", (b) => b.length), 0);
      await page.close();
    });
  });
}
