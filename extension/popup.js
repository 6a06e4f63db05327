// The toolbar popup: is the daemon there, what this page shows, "Record what I see",
// what waits for the daemon, and "Capture this page".
"use strict";

const $ = (id) => document.getElementById(id);

function say(element, text, tone) {
  element.textContent = text;
  element.className = tone || "muted";
}

// The tab the popup is about: the active one (a ?tab= id lets tests open the popup as a page).
async function targetTab() {
  const wanted = Number(new URLSearchParams(location.search).get("tab"));
  if (wanted) return wanted;
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab && tab.id;
}

async function showStatus() {
  const answer = await chrome.runtime.sendMessage({ type: "status" });
  if (answer.ok) {
    const { papers, digests } = answer.health;
    say($("status"), `Connected: ${papers} papers from ${digests} digests.`, "ok");
  } else {
    say($("status"), answer.error.message, "bad");
  }
}

async function showPage(tabId) {
  let page;
  try {
    page = await chrome.tabs.sendMessage(tabId, { type: "page" });
  } catch {
    page = null; // no content script there: not a papers page
  }
  if (!page || !page.active) {
    say($("page"), "Open a Hugging Face papers page or an arXiv listing or abstract to see badges and capture it.");
    return;
  }
  const counts = Object.entries(page.counts).map(([status, n]) => `${n} ${status}`);
  $("page").textContent = "On this page:";
  $("counts").textContent = counts.join(" · ");
  $("counts").hidden = false;
  $("capture").disabled = false;
  if (page.error) say($("message"), page.error.message, "bad");
  $("capture").addEventListener("click", async () => {
    $("capture").disabled = true;
    say($("message"), "Capturing…");
    const answer = await chrome.tabs.sendMessage(tabId, { type: "capture" });
    if (answer && answer.ok) say($("message"), `Captured as ${answer.name}.`, "ok");
    else say($("message"), answer ? answer.error.message : "The page did not answer.", "bad");
    $("capture").disabled = false;
  });
}

// The switch is `record` in chrome.storage.local (on unless set false); the sites are in
// the options page.
async function showRecording() {
  const { record } = await chrome.storage.local.get("record");
  $("record").checked = record !== false;
  $("record").addEventListener("change", () => chrome.storage.local.set({ record: $("record").checked }));
  const queue = await chrome.runtime.sendMessage({ type: "queue" });
  if (queue && queue.ok && (queue.waiting || queue.dropped)) {
    const waits = `${queue.waiting} sighting${queue.waiting === 1 ? "" : "s"} wait${queue.waiting === 1 ? "s" : ""} for the daemon.`;
    $("waiting").textContent = queue.dropped ? `${waits} ${queue.dropped} were dropped when the queue was full.` : waits;
    $("waiting").hidden = false;
  }
}

async function main() {
  const { datasette } = await chrome.storage.local.get("datasette");
  if (datasette) $("datasette").href = datasette;
  $("options").addEventListener("click", (event) => {
    event.preventDefault();
    chrome.runtime.openOptionsPage();
  });
  await Promise.all([showStatus(), showRecording(), targetTab().then(showPage)]);
}

main();
