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

// Stored settings, or the ones being tried on the options page.
async function settings(trying = {}) {
  const stored = await chrome.storage.local.get(["apiBase", "token"]);
  return {
    apiBase: apiBaseOf(trying.apiBase ?? stored.apiBase ?? DEFAULT_API),
    token: String(trying.token ?? stored.token ?? "").trim(),
  };
}

async function call(config, method, path, { json, text, auth = true } = {}) {
  if (auth && !config.token) {
    throw new DaemonError("token", "No token yet: run `seenpapers token` and paste it in the extension's options.");
  }
  const headers = {};
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
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
  handler(message).then(
    (answer) => reply({ ok: true, ...answer }),
    (error) => reply({ ok: false, error: { kind: error.kind || "extension", message: error.message }, health: error.health }),
  );
  return true; // the reply comes later
});

// A fresh install knows no token: show the options page, where it goes.
chrome.runtime.onInstalled.addListener(({ reason }) => {
  if (reason === "install") chrome.runtime.openOptionsPage();
});
