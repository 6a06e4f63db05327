// The service worker's talk with the daemon, with fetch and chrome.storage replaced.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const SOURCE = fs.readFileSync(path.join(__dirname, "..", "background.js"), "utf8");

// A background with `stored` settings and a fetch that answers from `routes`
// ("METHOD /path" -> [status, body] or an Error to throw).
function background(stored, routes) {
  const requests = [];
  let listener;
  const chrome = {
    runtime: { id: "me", onMessage: { addListener: (fn) => { listener = fn; } }, onInstalled: { addListener() {} } },
    storage: { local: { get: async (keys) => Object.fromEntries(keys.filter((k) => k in stored).map((k) => [k, stored[k]])) } },
  };
  async function fetch(url, init) {
    const { pathname, search } = new URL(url);
    requests.push({ url, ...init });
    const answer = routes[`${init.method} ${pathname}`] ?? [404, { error: { code: "not_found", message: "no route" } }];
    if (answer instanceof Error) throw answer;
    const [status, body] = answer;
    return { ok: status < 300, status, json: async () => body, search };
  }
  vm.runInNewContext(SOURCE, { chrome, fetch, AbortSignal, URL, console });
  const ask = (message) => new Promise((resolve) => {
    assert.equal(listener(message, { id: "me" }, resolve), true);
  });
  return { ask, requests };
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
  let listener;
  const chrome = {
    runtime: { id: "me", onMessage: { addListener: (fn) => { listener = fn; } }, onInstalled: { addListener() {} } },
    storage: { local: {} },
  };
  vm.runInNewContext(SOURCE, { chrome, fetch: null, AbortSignal, URL });
  assert.equal(listener({ type: "lookup", papers: [] }, { id: "someone-else" }, () => {}), false);
});
