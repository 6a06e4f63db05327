// "Record what I see": the visibility rule with a mocked clock, and the recorder on
// fixture pages in jsdom (which has no layout, so the browser's IntersectionObserver is
// played by a stand-in that the test tells what is on screen).
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { page } = require("./dom");

function rule(t) {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const noted = [];
  const sp = page("pages/hf-daily.html", "https://huggingface.co/papers").seenpapers;
  const r = sp.dwellRule({ onNoted: (key) => noted.push(key), setTimer: setTimeout, clearTimer: clearTimeout });
  return { r, noted, tick: (ms) => t.mock.timers.tick(ms) };
}

test("a card counts once it has been on screen for the whole dwell at a stretch", (t) => {
  const { r, noted, tick } = rule(t);
  r.watch("a", 1000);
  r.onScreen("a", true);
  tick(999);
  assert.deepEqual(noted, []);
  tick(1);
  assert.deepEqual(noted, ["a"]);
  r.onScreen("a", false);
  r.onScreen("a", true);
  tick(5000);
  assert.deepEqual(noted, ["a"]); // once per visit
});

test("scrolled past in under a second, a card does not count; coming back starts again", (t) => {
  const { r, noted, tick } = rule(t);
  r.watch("a", 1000);
  r.onScreen("a", true);
  tick(600);
  r.onScreen("a", false);
  tick(2000);
  r.onScreen("a", true);
  tick(600);
  assert.deepEqual(noted, []);
  tick(400);
  assert.deepEqual(noted, ["a"]);
});

test("a hidden tab counts nothing, and time hidden does not add up", (t) => {
  const { r, noted, tick } = rule(t);
  r.pageVisible(false);
  r.watch("a", 1000);
  r.onScreen("a", true);
  tick(10_000);
  assert.deepEqual(noted, []);
  r.pageVisible(true);
  tick(500);
  r.pageVisible(false);
  tick(500);
  r.pageVisible(true);
  tick(999);
  assert.deepEqual(noted, []);
  tick(1);
  assert.deepEqual(noted, ["a"]);
});

test("a new visit counts every card afresh", (t) => {
  const { r, noted, tick } = rule(t);
  r.watch("a", 1000);
  r.onScreen("a", true);
  tick(1000);
  r.reset();
  r.watch("a", 1000);
  r.onScreen("a", true);
  tick(1000);
  assert.deepEqual(noted, ["a", "a"]);
});

test("half a card on screen, or half the screen filled by a tall card, is on screen", () => {
  const sp = page("pages/hf-daily.html", "https://huggingface.co/papers").seenpapers;
  const seen = (ratio, height, screen = 800) => sp.halfOnScreen({
    isIntersecting: ratio > 0, intersectionRatio: ratio, intersectionRect: { height }, rootBounds: { height: screen },
  });
  assert.equal(seen(0.5, 100), true);
  assert.equal(seen(0.49, 98), false);
  assert.equal(seen(0.3, 400), true); // a card of 1,333 px showing 400 of the screen's 800
  assert.equal(seen(0, 0), false);
});

// --- the recorder on a page ------------------------------------------------------------

// jsdom has no layout: the stand-in observer is told which cards are on screen.
function withObserver(window) {
  const observed = new Set();
  let callback;
  window.IntersectionObserver = class {
    constructor(fn) {
      callback = fn;
    }
    observe(element) {
      observed.add(element);
    }
    disconnect() {
      observed.clear();
    }
  };
  return {
    show(cards, ratio = 1) {
      if (callback) callback(cards.filter((c) => observed.has(c)).map((target) => ({
        target, isIntersecting: ratio > 0, intersectionRatio: ratio, intersectionRect: { height: 100 * ratio }, rootBounds: { height: 800 },
      })));
    },
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function recorded(fixture, url, { settings = {}, incognito = false } = {}) {
  const window = page(fixture, url);
  const screen = withObserver(window);
  const sp = window.seenpapers;
  const messages = [];
  const send = async (message) => {
    messages.push(JSON.parse(JSON.stringify(message)));
    if (message.type === "lookup") return { ok: true, results: message.papers.map(() => ({ status: "new", paper_id: null, times_seen: 0, digests: [] })) };
    return { ok: true, queued: 1 };
  };
  const recorder = sp.recorder({ document: window.document, location: window.location, send, settings: async () => settings, incognito });
  const annotator = sp.annotator({
    document: window.document, location: window.location, readers: sp.readers, send, delay: 0, onItem: (item, key) => recorder.watch(item, key),
  });
  await Promise.all([annotator.start(), recorder.start()]);
  const hide = () => {
    Object.defineProperty(window.document, "visibilityState", { value: "hidden", configurable: true });
    window.document.dispatchEvent(new window.Event("visibilitychange"));
  };
  // Each test closes its pages, so that no page's timers outlive it.
  test.after(() => {
    recorder.stop();
    annotator.stop();
    window.close();
  });
  return { window, document: window.document, screen, messages, visits: () => messages.filter((m) => m.type === "visit"), hide, recorder };
}

test("the cards on screen for a second are sent as one visit when the page is hidden", async () => {
  const { document, screen, visits, hide } = await recorded("pages/hf-daily.html", "https://huggingface.co/papers/date/2025-01-22");
  const cards = [...document.querySelectorAll("article")];
  screen.show(cards.slice(0, 2));
  screen.show(cards.slice(2, 3), 0.2); // a sliver of the third
  await sleep(1100);
  assert.deepEqual(cards.map((c) => c.dataset.seenpapersNoted === "true"), [true, true, false, false, false]);
  // The badges still say what was true when the page opened.
  assert.deepEqual(cards.map((c) => c.dataset.seenpapers), ["new", "new", "new", "new", "new"]);
  assert.equal(visits().length, 0);
  hide();
  const [{ visit }] = visits();
  assert.deepEqual(visit.papers.map((p) => p.arxiv_id), ["2205.13147", "1506.03134"]);
  assert.equal(visit.page, "https://huggingface.co/papers/date/2025-01-22");
  assert.equal(visit.part, 1);
  assert.match(visit.date, /^\d{4}-\d\d-\d\d$/);
  assert.match(visit.papers[0].seen_at, /^\d{4}-\d\d-\d\dT/);
  hide(); // nothing new: nothing sent
  assert.equal(visits().length, 1);
});

test("a paper's own page counts after two seconds visible, not the papers it mentions", async () => {
  const { visits, hide } = await recorded("pages/hf-paper.html", "https://huggingface.co/papers/2305.02309");
  await sleep(1500);
  hide();
  assert.equal(visits().length, 0);
  const again = await recorded("pages/hf-paper.html", "https://huggingface.co/papers/2305.02309");
  await sleep(2100);
  again.hide();
  assert.deepEqual(again.visits()[0].visit.papers.map((p) => p.arxiv_id), ["2305.02309"]);
});

test("nothing is recorded with the switch off, the site off, or in a private window", async () => {
  for (const options of [{ settings: { record: false } }, { settings: { recordSites: { "huggingface.co": false, "arxiv.org": true } } }, { incognito: true }]) {
    const { document, screen, visits, hide, recorder } = await recorded("pages/hf-daily.html", "https://huggingface.co/papers", options);
    screen.show([...document.querySelectorAll("article")]);
    await sleep(1100);
    hide();
    assert.equal(visits().length, 0, JSON.stringify(options));
    assert.equal(recorder.enabled(), false);
    assert.equal(document.querySelectorAll("[data-seenpapers-noted]").length, 0);
  }
});
