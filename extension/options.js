// The options page: the daemon's address and token, a test of both, and recording.
"use strict";

const DEFAULTS = { apiBase: "http://127.0.0.1:7341", token: "", datasette: "http://127.0.0.1:7342/" };
const FIELDS = Object.keys(DEFAULTS);
const $ = (id) => document.getElementById(id);

function say(text, tone) {
  $("result").textContent = text;
  $("result").className = tone;
}

function typed() {
  return Object.fromEntries(FIELDS.map((name) => [name, $(name).value.trim() || DEFAULTS[name]]));
}

async function test() {
  say("Testing…", "muted");
  const { apiBase, token } = typed();
  const answer = await chrome.runtime.sendMessage({ type: "status", apiBase, token });
  if (answer.ok) {
    const { papers, digests, version } = answer.health;
    say(`Connected to seenpapers ${version} at ${answer.apiBase}: ${papers} papers from ${digests} digests.`, "ok");
  } else if (answer.health) {
    say(`The daemon is running (${answer.health.papers} papers), but: ${answer.error.message}`, "bad");
  } else {
    say(answer.error.message, "bad");
  }
  return answer.ok;
}

// Firefox lets people withhold host permissions; say so, and offer to ask again.
const ORIGINS = chrome.runtime.getManifest().host_permissions;

async function checkAccess() {
  const granted = await chrome.permissions.contains({ origins: ORIGINS });
  $("access").hidden = granted;
}

// `record` (default on) and `recordSites` ({"huggingface.co": bool, "arxiv.org": bool},
// each default on) take effect as soon as they are ticked: no Save needed.
const SITES = ["huggingface.co", "arxiv.org"];

async function showRecording() {
  const { record, recordSites = {} } = await chrome.storage.local.get(["record", "recordSites"]);
  $("record").checked = record !== false;
  for (const site of SITES) $("site-" + site).checked = recordSites[site] !== false;
  $("record").addEventListener("change", () => chrome.storage.local.set({ record: $("record").checked }));
  for (const site of SITES) {
    $("site-" + site).addEventListener("change", () => chrome.storage.local.set({
      recordSites: Object.fromEntries(SITES.map((s) => [s, $("site-" + s).checked])),
    }));
  }
}

async function main() {
  await showRecording();
  const stored = await chrome.storage.local.get(FIELDS);
  for (const name of FIELDS) $(name).value = stored[name] || (name === "token" ? "" : DEFAULTS[name]);
  $("form").addEventListener("submit", async (event) => {
    event.preventDefault();
    await chrome.storage.local.set(typed());
    const ok = await test();
    say(`Saved${ok ? "." : ", but the test failed:"} ${$("result").textContent}`, ok ? "ok" : "bad");
  });
  $("test").addEventListener("click", test);
  $("grant").addEventListener("click", async () => {
    await chrome.permissions.request({ origins: ORIGINS });
    await checkAccess();
  });
  await checkAccess();
}

main();
