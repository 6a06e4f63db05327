// Firefox makes an MV3 extension's host permissions something a person can withhold (and
// before Firefox 127, or with extensions.originControls.grantByDefault false, they start
// withheld). Without them no content script runs; the options page says so and asks.
"use strict";

const { describe, test, before, after } = require("node:test");
const assert = require("node:assert/strict");
const { startDaemon, launch, marks, waitInPage, browsersToTest, skipReason, sleep } = require("./harness");

const DAILY = "https://huggingface.co/papers/date/2025-01-22";

describe("firefox with host permissions withheld", { skip: !browsersToTest().includes("firefox") ? "firefox is not among $SEENPAPERS_E2E_BROWSERS" : skipReason("firefox") }, () => {
  let daemon;
  let browser;

  before(async () => {
    daemon = await startDaemon({ samples: true });
    browser = await launch("firefox", {
      storage: { apiBase: daemon.url, token: daemon.token, record: false },
      prefs: {
        // As a person who clicked the permissions away (or an older Firefox) has it.
        "extensions.originControls.grantByDefault": false,
        // The prompt for chrome.permissions.request is answered yes (headless, no one can).
        "extensions.webextOptionalPermissionPrompts": false,
      },
    });
  });

  after(async () => {
    if (browser) await browser.close();
    if (daemon) await daemon.cleanup();
  });

  test("pages stay untouched, the options page offers Allow access, and once allowed the badges come", async () => {
    const granted = await browser.inExtension(() => chrome.permissions.getAll());
    assert.deepEqual(granted.origins, []);
    const page = await browser.openPage(DAILY);
    await sleep(1500); // the content script would have marked the cards by now
    assert.equal(await page.$$eval("[data-seenpapers], .seenpapers-badge", (e) => e.length), 0);

    const options = await browser.openExtensionPage("options.html");
    await waitInPage(options, () => !document.querySelector("#access").hidden);
    // The background still reaches the daemon: it answers CORS for extension origins.
    await options.click("#test");
    await waitInPage(options, () => document.querySelector("#result.ok"));
    await options.click("#grant");
    await waitInPage(options, () => document.querySelector("#access").hidden);
    const after = await browser.inExtension(() => chrome.permissions.getAll());
    assert.ok(after.origins.includes("https://huggingface.co/*") && after.origins.includes("http://127.0.0.1/*"),
      JSON.stringify(after.origins));
    await options.close();

    await page.reload();
    const found = await marks(page, 5, "article[data-seenpapers]");
    assert.deepEqual(found.map(([status]) => status), ["seen", "seen", "seen", "new", "new"]);
    await page.close();
  });
});
