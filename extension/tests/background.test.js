// The service worker's talk with the daemon, with fetch and chrome.storage replaced.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "background.js"), "utf8");

// chrome.storage.local and chrome.alarms as the browser keeps them, in memory.
function fakeChrome(stored) {
  let listener;
  let alarm;
  const alarms = new Map();
  const changed = [];
  const chrome = {
    runtime: { id: "me", onMessage: { addListener: (fn) => { listener = fn; } }, onInstalled: { addListener() {} } },
    storage: {
      local: {
        get: async (keys) => {
          const wanted = typeof keys === "string" ? [keys] : keys;
          return structuredClone(Object.fromEntries(wanted.filter((k) => k in stored).map((k) => [k, stored[k]])));
        },
        set: async (values) => {
          Object.assign(stored, structuredClone(values));
          const changes = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { newValue: v }]));
          for (const fn of changed) fn(changes, "local");
        },
      },
      onChanged: { addListener: (fn) => { changed.push(fn); } },
    },
    alarms: {
      create: async (name, info) => { alarms.set(name, info); },
      clear: async (name) => alarms.delete(name),
      onAlarm: { addListener: (fn) => { alarm = fn; } },
    },
  };
  return { chrome, listener: () => listener, alarms, fireAlarm: (name) => alarm({ name }), set: (v) => chrome.storage.local.set(v) };
}

// A background with `stored` settings and a fetch that answers from `routes`
// ("METHOD /path" -> [status, body] or an Error to throw; a function of the request for
// answers that change). `clock.now` is the background's Date.now.
function background(stored, routes, clock = { now: Date.parse("2026-12-07T09:00:00Z") }) {
  const requests = [];
  const fake = fakeChrome(stored);
  async function fetch(url, init) {
    const { pathname, search } = new URL(url);
    requests.push({ url, ...init });
    let answer = routes[`${init.method} ${pathname}`] ?? [404, { error: { code: "not_found", message: "no route" } }];
    if (typeof answer === "function") answer = answer({ url, ...init });
    if (answer instanceof Error) throw answer;
    const [status, body] = answer;
    return { ok: status < 300, status, json: async () => body, search };
  }
  class FakeDate extends Date {
    constructor(...args) {
      super(...(args.length ? args : [clock.now]));
    }
    static now() {
      return clock.now;
    }
  }
  vm.runInNewContext(SOURCE, { chrome: fake.chrome, fetch, AbortSignal, URL, console, Date: FakeDate, structuredClone });
  const ask = (message, sender = { id: "me" }) => new Promise((resolve) => {
    assert.equal(fake.listener()(message, sender, resolve), true);
  });
  return { ask, requests, stored, alarms: fake.alarms, fireAlarm: fake.fireAlarm, clock, set: fake.set };
}

const HEALTH = [200, { status: "ok", version: "0.1.0", papers: 172, digests: 5 }];

test("a lookup carries the token and the daemon's answers", async () => {
  const { ask, requests } = background({ apiBase: "http://127.0.0.1:7341/", token: " secret " }, {
    "POST /api/v1/lookup": [200, { results: [{ status: "new", duplicate_of: null }, { status: "duplicate", duplicate_of: { paper_id: 7, title: "T", arxiv_id: "2503.23402" } }] }],
  });
  const answer = await ask({ type: "lookup", papers: [{ title: "A" }, { title: "B" }] });
  assert.equal(answer.ok, true);
  assert.equal(answer.results[1].duplicate_of.arxiv_id, "2503.23402");
  assert.equal(requests[0].url, "http://127.0.0.1:7341/api/v1/lookup");
  assert.equal(requests[0].headers.Authorization, "Bearer secret");
  assert.deepEqual(JSON.parse(requests[0].body), { papers: [{ title: "A" }, { title: "B" }] });
});

test("the settings are read once, and again after they change", async () => {
  const bg = background({ token: "one" }, { "POST /api/v1/lookup": [200, { results: [] }] });
  await bg.ask({ type: "lookup", papers: [] });
  await bg.set({ token: "two", apiBase: "http://127.0.0.1:7400" });
  await bg.ask({ type: "lookup", papers: [] });
  assert.deepEqual(bg.requests.map((r) => [r.url, r.headers.Authorization]), [
    ["http://127.0.0.1:7341/api/v1/lookup", "Bearer one"], ["http://127.0.0.1:7400/api/v1/lookup", "Bearer two"],
  ]);
});

test("a capture posts the page text as text/plain under its name", async () => {
  const { ask, requests } = background({ token: "t" }, { "POST /api/v1/digests": [202, { name: "a_b.txt" }] });
  const answer = await ask({ type: "capture", name: "a b.txt", text: "Daily Papers\n\nTitle" });
  assert.deepEqual({ ...answer }, { ok: true, name: "a_b.txt" });
  assert.equal(requests[0].url, "http://127.0.0.1:7341/api/v1/digests?name=a%20b.txt");
  assert.equal(requests[0].headers["Content-Type"], "text/plain; charset=utf-8");
  assert.equal(requests[0].body, "Daily Papers\n\nTitle");
});

test("read and unread", async () => {
  const { ask, requests } = background({ token: "t" }, {
    "POST /api/v1/read": [200, { marked: 1 }], "DELETE /api/v1/read/16": [200, { unmarked: 1 }],
  });
  assert.equal((await ask({ type: "read", paper_id: 16 })).marked, 1);
  assert.deepEqual(JSON.parse(requests[0].body), { paper_ids: [16] });
  assert.equal((await ask({ type: "unread", paper_id: 16 })).unmarked, 1);
});

test("clear messages: daemon down, no token, wrong token, a bad address", async () => {
  const down = background({ token: "t" }, { "GET /api/v1/health": new TypeError("Failed to fetch") });
  let answer = await down.ask({ type: "status" });
  assert.equal(answer.error.kind, "down");
  assert.match(answer.error.message, /does not answer at http:\/\/127\.0\.0\.1:7341\. Is it running\?/);

  answer = await background({}, { "GET /api/v1/health": HEALTH }).ask({ type: "status" });
  assert.equal(answer.error.kind, "token");
  assert.match(answer.error.message, /No token yet: run `seenpapers token`/);
  assert.equal(answer.health.papers, 172);

  const wrong = background({ token: "nope" }, {
    "GET /api/v1/health": HEALTH, "GET /api/v1/openapi.json": [401, { error: { code: "unauthorized", message: "x" } }],
  });
  answer = await wrong.ask({ type: "status" });
  assert.equal(answer.error.kind, "token");
  assert.match(answer.error.message, /refused the token/);

  answer = await background({ token: "t" }, {}).ask({ type: "status", apiBase: "https://example.com" });
  assert.equal(answer.error.kind, "address");
});

test("the options page can try settings before saving them", async () => {
  const { ask, requests } = background({ token: "old" }, { "GET /api/v1/health": HEALTH, "GET /api/v1/openapi.json": [200, {}] });
  const answer = await ask({ type: "status", apiBase: "http://localhost:9999", token: "new" });
  assert.equal(answer.ok, true);
  assert.equal(answer.apiBase, "http://localhost:9999");
  assert.equal(requests[1].headers.Authorization, "Bearer new");
});

test("messages from anywhere but this extension are ignored", () => {
  const fake = fakeChrome({});
  vm.runInNewContext(SOURCE, { chrome: fake.chrome, fetch: null, AbortSignal, URL });
  assert.equal(fake.listener()({ type: "lookup", papers: [] }, { id: "someone-else" }, () => {}), false);
});

// --- visits ---------------------------------------------------------------------------

const PAGE = "https://huggingface.co/papers/date/2025-01-22";
const TAB = { id: "me", tab: { id: 3, incognito: false } };

function visit(papers, extra = {}) {
  return {
    page: PAGE, page_title: "Daily Papers - Hugging Face", visit: "v1", part: 1,
    started: "2026-12-07T09:00:00.000Z", date: "2026-12-07",
    papers: papers.map((title) => ({ title, url: `https://huggingface.co/papers?q=${title}`, seen_at: "2026-12-07T09:00:02.000Z" })),
    ...extra,
  };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 20));
const posted = (requests) => requests.filter((r) => r.method === "POST" && r.url.includes("/api/v1/digests"));

test("a visit goes to the daemon as one JSON digest named after the page and the time", async () => {
  const bg = background({ token: "t" }, { "POST /api/v1/digests": [202, { name: "x.json" }] });
  const answer = await bg.ask({ type: "visit", visit: visit(["A", "B"]) }, TAB);
  assert.equal(answer.queued, 2);
  await settle();
  const [request] = posted(bg.requests);
  assert.equal(request.headers["Content-Type"], "application/json");
  assert.match(decodeURIComponent(request.url), /\?name=visit_huggingface\.co_papers_date_2025-01-22_\d{8}T\d{6}_v1-1\.json$/);
  const body = JSON.parse(request.body);
  assert.equal(Object.keys(body)[0], "seenpapers");
  assert.equal(body.seenpapers, "visit");
  assert.equal(body.page, PAGE);
  assert.deepEqual(body.papers.map((p) => p.title), ["A", "B"]);
  assert.deepEqual(bg.stored.visitQueue, []);
  assert.equal((await bg.ask({ type: "queue" })).waiting, 0);
});

test("while the daemon is down the visit waits in storage, and goes when it answers again", async () => {
  let up = false;
  const bg = background({ token: "t" }, {
    "POST /api/v1/digests": () => (up ? [202, { name: "x.json" }] : new TypeError("Failed to fetch")),
  });
  await bg.ask({ type: "visit", visit: visit(["A", "B"]) }, TAB);
  await bg.ask({ type: "visit", visit: visit(["C"], { part: 2 }) }, TAB);
  await settle();
  const queue = await bg.ask({ type: "queue" });
  assert.deepEqual([queue.waiting, queue.parts], [3, 2]);
  assert.equal(bg.alarms.get("seenpapers-send-visits").periodInMinutes, 0.5);
  up = true;
  bg.fireAlarm("seenpapers-send-visits");
  await settle();
  const sent = posted(bg.requests).filter((r) => r.url);
  assert.deepEqual(sent.slice(-2).map((r) => JSON.parse(r.body).papers.map((p) => p.title)), [["A", "B"], ["C"]]);
  assert.equal((await bg.ask({ type: "queue" })).waiting, 0);
  assert.equal(bg.alarms.has("seenpapers-send-visits"), false);
});

test("a lookup that succeeds sends what waited", async () => {
  let up = false;
  const bg = background({ token: "t" }, {
    "POST /api/v1/digests": () => (up ? [202, { name: "x.json" }] : new TypeError("Failed to fetch")),
    "POST /api/v1/lookup": [200, { results: [] }],
  });
  await bg.ask({ type: "visit", visit: visit(["A"]) }, TAB);
  await settle();
  up = true;
  await bg.ask({ type: "lookup", papers: [] });
  await settle();
  assert.equal((await bg.ask({ type: "queue" })).waiting, 0);
  assert.equal(posted(bg.requests).length, 2);
});

test("a reload or a return to the same page within 30 minutes records nothing again", async () => {
  const bg = background({ token: "t" }, { "POST /api/v1/digests": [202, { name: "x.json" }] });
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A", "B"]) }, TAB)).queued, 2);
  bg.clock.now += 29 * 60 * 1000;
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A", "B", "C"], { visit: "v2" }) }, TAB)).queued, 1); // only C
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A"], { page: PAGE + "?q=a" }) }, TAB)).queued, 1); // another address
  bg.clock.now += 31 * 60 * 1000; // C was recorded 31 minutes ago, A 60
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A", "B", "C"], { visit: "v3" }) }, TAB)).queued, 3);
});

test("private windows, the switch off, and a site switched off record nothing", async () => {
  const routes = { "POST /api/v1/digests": [202, { name: "x.json" }] };
  let bg = background({ token: "t" }, routes);
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A"]) }, { id: "me", tab: { id: 4, incognito: true } })).queued, 0);
  bg = background({ token: "t", record: false }, routes);
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A"]) }, TAB)).queued, 0);
  bg = background({ token: "t", recordSites: { "huggingface.co": true, "arxiv.org": false } }, routes);
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A"], { page: "https://arxiv.org/list/cs.LG/new" }) }, TAB)).queued, 0);
  assert.equal((await bg.ask({ type: "visit", visit: visit(["A"]) }, TAB)).queued, 1);
  await settle();
  assert.equal(posted(bg.requests).length, 1);
});

test("the queue is bounded: past 5,000 waiting sightings the oldest parts are dropped and counted", async () => {
  const bg = background({ token: "t" }, { "POST /api/v1/digests": new TypeError("Failed to fetch") });
  const titles = (part) => Array.from({ length: 1000 }, (_, i) => `Paper ${part}-${i}`);
  for (let part = 1; part <= 6; part += 1) {
    await bg.ask({ type: "visit", visit: visit(titles(part), { part }) }, TAB);
  }
  await settle();
  const queue = await bg.ask({ type: "queue" });
  assert.deepEqual([queue.waiting, queue.parts, queue.dropped], [5000, 5, 1000]);
  assert.equal(JSON.parse(bg.stored.visitQueue[0].body).papers[0].title, "Paper 2-0");
});

test("a part the daemon refuses (4xx) is set aside with its reason; the rest still go", async () => {
  const bg = background({ token: "t" }, {
    "POST /api/v1/digests": (request) => (request.body.includes('"Bad"') ? [413, { error: { code: "too_large", message: "body too large" } }] : [202, { name: "x.json" }]),
  });
  await bg.ask({ type: "visit", visit: visit(["Bad"]) }, TAB);
  await bg.ask({ type: "visit", visit: visit(["Good"], { part: 2 }) }, TAB);
  await settle();
  const queue = await bg.ask({ type: "queue" });
  assert.equal(queue.waiting, 0);
  assert.match(queue.error, /413: body too large/);
  assert.equal(posted(bg.requests).length, 2);
});
