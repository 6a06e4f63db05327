// The only part of the extension that talks to the daemon (Chrome: the service worker;
// Firefox: the background script). Pages never do: the daemon refuses web origins, and
// requests from a page to 127.0.0.1 would meet Local Network Access checks.
// Content scripts, the popup and the options page send it messages; it answers
// {ok: true, ...} or {ok: false, error: {kind, message}}.
"use strict";

const DEFAULT_API = "http://127.0.0.1:7341";
const TIMEOUT_MS = 8000;
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

class DaemonError extends Error {
  constructor(kind, message) {
    super(message);
    this.kind = kind; // address | down | token | refused | error
  }
}

// The daemon's address as an origin; only loopback addresses, which is all the
// extension has host permission for (and all the daemon listens on).
function apiBaseOf(value) {
  let url;
  try {
    url = new URL(String(value).trim());
  } catch {
    throw new DaemonError("address", `"${value}" is not an address like ${DEFAULT_API}`);
  }
  if (url.protocol !== "http:" || !LOOPBACK.has(url.hostname)) {
    throw new DaemonError("address", `The daemon's address must be http:// on this computer (127.0.0.1 or localhost), like ${DEFAULT_API}`);
  }
  return url.origin;
}

// Stored settings, or the ones being tried on the options page. Kept in memory between
// calls (a page load's lookup should not wait on storage), forgotten when they change.
let storedSettings = null;
let changes = 0; // a read that a change overtook is not kept
chrome.storage.onChanged.addListener((changed, area) => {
  if (area !== "local" || !("apiBase" in changed || "token" in changed)) return;
  changes += 1;
  storedSettings = null;
});

async function settings(trying = {}) {
  let stored = storedSettings;
  if (!stored) {
    const before = changes;
    stored = await chrome.storage.local.get(["apiBase", "token"]);
    if (before === changes) storedSettings = stored;
  }
  return {
    apiBase: apiBaseOf(trying.apiBase ?? stored.apiBase ?? DEFAULT_API),
    token: String(trying.token ?? stored.token ?? "").trim(),
  };
}

async function call(config, method, path, { json, jsonText, text, auth = true } = {}) {
  if (auth && !config.token) {
    throw new DaemonError("token", "No token yet: run `seenpapers token` and paste it in the extension's options.");
  }
  const headers = {};
  let body;
  if (json !== undefined || jsonText !== undefined) {
    headers["Content-Type"] = "application/json";
    body = jsonText ?? JSON.stringify(json);
  } else if (text !== undefined) {
    headers["Content-Type"] = "text/plain; charset=utf-8";
    body = text;
  }
  if (auth) headers.Authorization = `Bearer ${config.token}`;
  let response;
  try {
    response = await fetch(config.apiBase + path, {
      method, headers, body, credentials: "omit", cache: "no-store", signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch {
    throw new DaemonError("down", `The seenpapers daemon does not answer at ${config.apiBase}. Is it running? Start it with \`seenpapers run\`.`);
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    // an empty or non-JSON answer: the status says enough
  }
  if (response.ok) return payload;
  const detail = (payload && payload.error && payload.error.message) || `HTTP ${response.status}`;
  if (response.status === 401) {
    throw new DaemonError("token", "The daemon refused the token: run `seenpapers token` and paste it in the extension's options.");
  }
  if (response.status === 403) throw new DaemonError("refused", `The daemon refused this browser: ${detail}`);
  throw new DaemonError("error", `The daemon answered ${response.status}: ${detail}`);
}

const handlers = {
  async lookup({ papers }) {
    const config = await settings();
    const { results } = await call(config, "POST", "/api/v1/lookup", { json: { papers } });
    if (visitsMayWait) sendWaiting(); // the daemon answers: what waited can go
    return { results };
  },
  async read({ paper_id }) {
    return call(await settings(), "POST", "/api/v1/read", { json: { paper_ids: [paper_id] } });
  },
  async unread({ paper_id }) {
    return call(await settings(), "DELETE", `/api/v1/read/${Number(paper_id)}`);
  },
  async capture({ name, text }) {
    const path = `/api/v1/digests?name=${encodeURIComponent(name)}`;
    return call(await settings(), "POST", path, { text });
  },
  async visit({ visit }, sender) {
    return { queued: await queueVisit(visit, sender) };
  },
  async queue() {
    const { [QUEUE]: queue = [], [DROPPED]: dropped = 0, [LAST_ERROR]: error = null } = await chrome.storage.local.get([QUEUE, DROPPED, LAST_ERROR]);
    return { waiting: queue.reduce((n, part) => n + part.papers, 0), parts: queue.length, dropped, error };
  },
  // The connection as the popup and the options page show it: is the daemon there, and
  // does it take the token? (The token is checked on a route that reads nothing.)
  async status({ apiBase, token }) {
    const config = await settings({ apiBase, token });
    const health = await call(config, "GET", "/api/v1/health", { auth: false });
    try {
      await call(config, "GET", "/api/v1/openapi.json");
    } catch (error) {
      error.health = health;
      throw error;
    }
    return { health, apiBase: config.apiBase };
  },
};

chrome.runtime.onMessage.addListener((message, sender, reply) => {
  const handler = sender.id === chrome.runtime.id && message && handlers[message.type];
  if (!handler) return false;
  handler(message, sender).then(
    (answer) => reply({ ok: true, ...answer }),
    (error) => reply({ ok: false, error: { kind: error.kind || "extension", message: error.message }, health: error.health }),
  );
  return true; // the reply comes later
});

// --- Visits: what the content scripts saw on screen, as digests for the daemon --------------
// Kept in chrome.storage.local until the daemon has them, so nothing is lost while it is
// down, or when the browser stops this service worker; sent in order, one part at a time.
const QUEUE = "visitQueue"; // [{id, name, body, papers, bytes}], oldest first
const RECENT = "visitRecent"; // {page address: {paper key: ms it was last recorded there}}
const DROPPED = "visitDropped"; // sightings dropped because the queue was full
const LAST_ERROR = "visitError"; // why the daemon last refused a part
const SAME_MEETING_MS = 30 * 60 * 1000; // a reload or a return within this is the same meeting
const MAX_WAITING = 5000; // sightings kept while the daemon is away...
const MAX_WAITING_BYTES = 4 * 1024 * 1024; // ...within storage.local's 10 MB; the oldest go first
const RETRY = "seenpapers-send-visits";
let visitsMayWait = true; // until the queue is seen empty
let sending = null;

// Every change to the queue goes through here, one at a time (read, change, write).
let chain = Promise.resolve();
function serial(fn) {
  const run = chain.then(fn);
  chain = run.catch(() => {});
  return run;
}

function paperKey(paper) {
  return paper.arxiv_id ? "id:" + paper.arxiv_id : "title:" + String(paper.title).toLowerCase();
}

function stamp(iso) {
  const d = new Date(iso);
  const two = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${two(d.getMonth() + 1)}${two(d.getDate())}T${two(d.getHours())}${two(d.getMinutes())}${two(d.getSeconds())}`;
}

// The inbox name: the page and the time, then the visit and its part.
function visitName(visit) {
  const url = new URL(visit.page);
  const page = (url.hostname + url.pathname + url.search).replace(/[^A-Za-z0-9.-]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
  const id = String(visit.visit).replace(/[^A-Za-z0-9]/g, "").slice(0, 12);
  return `visit_${page}_${stamp(visit.started)}_${id}-${Number(visit.part) || 1}.json`;
}

async function recording(page) {
  const { record, recordSites } = await chrome.storage.local.get(["record", "recordSites"]);
  const site = new URL(page).hostname.replace(/^www\./, "");
  return record !== false && !(recordSites && recordSites[site] === false);
}

// One part of a visit into the queue, less the papers already recorded from the same page
// within half an hour. Answers how many sightings were queued.
async function queueVisit(visit, sender) {
  if ((sender && sender.tab && sender.tab.incognito) || !visit || !Array.isArray(visit.papers)) return 0;
  let page;
  try {
    page = new URL(visit.page);
  } catch {
    return 0;
  }
  // The daemon refuses a visit whose address is over 20,000 characters; no page of papers has one.
  if (!/^https?:$/.test(page.protocol) || visit.page.length > 20000 || !(await recording(page.href))) return 0;
  const queued = await serial(async () => {
    const now = Date.now();
    const stored = await chrome.storage.local.get([QUEUE, RECENT, DROPPED]);
    const recent = {};
    for (const [address, keys] of Object.entries(stored[RECENT] || {})) {
      const fresh = Object.entries(keys).filter(([, at]) => now - at < SAME_MEETING_MS);
      if (fresh.length) recent[address] = Object.fromEntries(fresh);
    }
    const met = recent[visit.page] || (recent[visit.page] = {});
    const papers = visit.papers.filter((paper) => paper && paper.title && !met[paperKey(paper)]);
    if (!papers.length) {
      await chrome.storage.local.set({ [RECENT]: recent });
      return 0;
    }
    for (const paper of papers) met[paperKey(paper)] = now;
    const body = JSON.stringify({
      seenpapers: "visit", version: 1, page: visit.page, page_title: visit.page_title || "", visit: visit.visit,
      part: visit.part, started: visit.started, date: visit.date, papers,
    });
    const queue = stored[QUEUE] || [];
    queue.push({ id: `${now}-${Math.random().toString(36).slice(2)}`, name: visitName(visit), body, papers: papers.length, bytes: body.length });
    let dropped = stored[DROPPED] || 0;
    const total = (key) => queue.reduce((n, part) => n + part[key], 0);
    while (queue.length > 1 && (total("papers") > MAX_WAITING || total("bytes") > MAX_WAITING_BYTES)) dropped += queue.shift().papers;
    await chrome.storage.local.set({ [QUEUE]: queue, [RECENT]: recent, [DROPPED]: dropped });
    visitsMayWait = true;
    return papers.length;
  });
  if (queued) sendWaiting();
  return queued;
}

// Send what waits, oldest first, until the queue is empty or the daemon is away (then an
// alarm tries again every 30 s). The same part sent twice is the same bytes: one digest.
function sendWaiting() {
  if (!sending) sending = drain().finally(() => { sending = null; });
  return sending;
}

async function drain() {
  for (;;) {
    const { [QUEUE]: queue = [] } = await chrome.storage.local.get(QUEUE);
    if (!queue.length) {
      visitsMayWait = false;
      await chrome.alarms.clear(RETRY);
      return;
    }
    const part = queue[0];
    try {
      await call(await settings(), "POST", `/api/v1/digests?name=${encodeURIComponent(part.name)}`, { jsonText: part.body });
    } catch (error) {
      if (error.kind !== "error" || /answered 5\d\d/.test(error.message)) {
        await chrome.alarms.create(RETRY, { periodInMinutes: 0.5 });
        return; // down, no token, refused: try again later
      }
      await chrome.storage.local.set({ [LAST_ERROR]: error.message }); // the daemon refused this part: keep the rest moving
    }
    await serial(async () => {
      const { [QUEUE]: now = [] } = await chrome.storage.local.get(QUEUE);
      await chrome.storage.local.set({ [QUEUE]: now.filter((p) => p.id !== part.id) });
    });
  }
}

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === RETRY) sendWaiting();
});

// A fresh install knows no token: show the options page, where it goes.
chrome.runtime.onInstalled.addListener(({ reason }) => {
  if (reason === "install") chrome.runtime.openOptionsPage();
});
