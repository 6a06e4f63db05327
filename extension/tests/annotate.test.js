// Badges on fixture pages, with the service worker replaced by a fake daemon.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { page } = require("./dom");

const TODAY = new Date(2026, 10, 22);
const tick = (ms = 30) => new Promise((resolve) => setTimeout(resolve, ms));

function seen(paperId, times, extra = {}) {
  return {
    status: "seen", paper_id: paperId, title: null, first_seen: "2026-03-11", last_seen: "2026-03-14",
    times_seen: times, read_at: null, duplicate_of: null, same_as_index: null,
    digests: [{ id: 3, name: "002_1b60d9b1a3c1c899.txt", date: "2026-03-14" }, { id: 1, name: "000_be2405954437598b.txt", date: "2026-03-11" }],
    ...extra,
  };
}
const NEW = { status: "new", paper_id: null, title: null, first_seen: null, last_seen: null, times_seen: 0, read_at: null, digests: [], duplicate_of: null, same_as_index: null };

// Answers lookups from `known` (title -> result), everything else is new.
function fakeDaemon(known, { fail } = {}) {
  const messages = [];
  async function send(message) {
    messages.push(JSON.parse(JSON.stringify(message)));
    if (fail) return { ok: false, error: { kind: "down", message: "The seenpapers daemon does not answer at http://127.0.0.1:7341." } };
    if (message.type === "lookup") return { ok: true, results: message.papers.map((p) => ({ ...NEW, ...known[p.title] })) };
    if (message.type === "capture") return { ok: true, name: message.name };
    return { ok: true };
  }
  return { send, messages, lookups: () => messages.filter((m) => m.type === "lookup") };
}

const KNOWN = {
  "Matryoshka Representation Learning": seen(8, 5, { title: "Matryoshka Representation Learning" }),
  "Pointer Networks": seen(16, 3, { title: "Pointer Networks" }),
  "2D Matryoshka Sentence Embeddings": seen(9, 4, { title: "2D Matryoshka Sentence Embeddings", status: "read", read_at: "2026-03-15T10:00:00Z" }),
};

async function annotated(fixture, url, daemon) {
  const window = page(fixture, url);
  const sp = window.seenpapers;
  const annotator = sp.annotator({ document: window.document, location: window.location, readers: sp.readers, send: daemon.send, today: TODAY, delay: 0 });
  await annotator.start();
  return { window, document: window.document, annotator };
}

function marks(document) {
  return [...document.querySelectorAll("[data-seenpapers]")].map((card) => [
    card.dataset.seenpapers, card.querySelector(".seenpapers-badge").textContent,
  ]);
}

test("every card gets its mark and a badge, from one lookup for the page", async () => {
  const daemon = fakeDaemon(KNOWN);
  const { document, annotator } = await annotated("pages/hf-daily.html", "https://huggingface.co/papers", daemon);
  assert.deepEqual(marks(document), [
    ["seen", "seen 5× · first 11 Mar"],
    ["seen", "seen 3× · first 11 Mar"],
    ["read", "read · seen 4×"],
    ["new", "new"],
    ["new", "new"],
  ]);
  assert.equal(daemon.lookups().length, 1);
  assert.deepEqual(daemon.lookups()[0].papers[1], {
    title: "Pointer Networks", arxiv_id: "1506.03134", url: "https://huggingface.co/papers/1506.03134",
  });
  assert.equal(document.querySelectorAll("article .seenpapers-badge").length, 5);
  const badge = document.querySelector("article .seenpapers-badge");
  assert.equal(badge.previousElementSibling.localName, "h3"); // right under the title
  assert.match(badge.title, /Seen 5 times, first 11 Mar 2026, last 14 Mar 2026/);
  assert.match(badge.title, /14 Mar 2026 · 002_1b60d9b1a3c1c899\.txt/);
  assert.deepEqual({ ...annotator.counts() }, { new: 2, seen: 2, read: 1, duplicate: 0 });
  await annotator.scan();
  assert.equal(daemon.lookups().length, 1, "a card is looked up once");
});

test("while the page is parsed, cards the parser has finished are asked about at once, the last one after it", async () => {
  // The page as the parser has it halfway through the fifth card: nothing follows that card yet.
  const window = page("pages/hf-daily.html", "https://huggingface.co/papers", (html) => html.slice(0, html.lastIndexOf("</h3>")));
  Object.defineProperty(window.document, "readyState", { value: "loading", configurable: true });
  const daemon = fakeDaemon(KNOWN);
  const sp = window.seenpapers;
  await sp.annotator({ document: window.document, location: window.location, readers: sp.readers, send: daemon.send, today: TODAY, delay: 0 }).start();
  assert.deepEqual(daemon.lookups().map((m) => m.papers.length), [4]);
  assert.equal(window.document.querySelectorAll("article[data-seenpapers]").length, 4);
  Object.defineProperty(window.document, "readyState", { value: "interactive", configurable: true });
  window.document.dispatchEvent(new window.Event("DOMContentLoaded"));
  await tick();
  assert.deepEqual(daemon.lookups().map((m) => m.papers.length), [4, 1]);
  assert.equal(window.document.querySelectorAll("article[data-seenpapers]").length, 5);
});

test("a card added later (infinite scroll) is annotated with one more lookup, for it alone", async () => {
  const daemon = fakeDaemon(KNOWN);
  const { document } = await annotated("pages/hf-daily.html", "https://huggingface.co/papers", daemon);
  const card = document.querySelector("article").cloneNode(true);
  card.querySelector(".seenpapers-badge").remove();
  card.removeAttribute("data-seenpapers");
  for (const link of card.querySelectorAll("a[href^='/papers/']")) link.setAttribute("href", "/papers/2305.02309");
  card.querySelector("h3 a").textContent = "CodeGen2: Lessons for Training LLMs on Programming and Natural Languages";
  document.querySelector("#cards").append(card);
  await tick();
  assert.equal(daemon.lookups().length, 2);
  assert.deepEqual(daemon.lookups()[1].papers.map((p) => p.arxiv_id), ["2305.02309"]);
  assert.equal(card.dataset.seenpapers, "new");
  assert.equal(card.querySelectorAll(".seenpapers-badge").length, 1);
});

test("a card the site re-renders gets its badge back without asking again; a reused card is asked about", async () => {
  const daemon = fakeDaemon(KNOWN);
  const { document } = await annotated("pages/hf-daily.html", "https://huggingface.co/papers", daemon);
  const [first, second] = document.querySelectorAll("article");
  const heading = first.querySelector("h3");
  heading.replaceWith(heading.cloneNode(true)); // a framework re-rendering the title
  first.querySelector(".seenpapers-badge").remove();
  await tick();
  assert.equal(first.querySelectorAll(".seenpapers-badge").length, 1);
  assert.equal(daemon.lookups().length, 1);
  // Client-side navigation that keeps the element and changes the paper in it.
  for (const link of second.querySelectorAll("a[href^='/papers/']")) link.setAttribute("href", "/papers/2501.05555");
  second.querySelector("h3 a").textContent = "A Different Paper In The Same Card";
  await tick();
  assert.equal(daemon.lookups().length, 2);
  assert.equal(second.querySelectorAll(".seenpapers-badge").length, 1);
  assert.equal(second.dataset.seenpapers, "new");
});

test("a click marks a paper read, and another click unread, in place", async () => {
  const daemon = fakeDaemon(KNOWN);
  const { window, document } = await annotated("pages/hf-daily.html", "https://huggingface.co/papers", daemon);
  const card = document.querySelectorAll("article")[1];
  const badge = card.querySelector(".seenpapers-badge");
  assert.equal(badge.getAttribute("role"), "button");
  badge.dispatchEvent(new window.MouseEvent("click", { bubbles: true, cancelable: true }));
  await tick();
  assert.deepEqual(daemon.messages.at(-1), { type: "read", paper_id: 16 });
  assert.equal(card.dataset.seenpapers, "read");
  assert.equal(badge.textContent, "read · seen 3×");
  assert.equal(badge.getAttribute("aria-pressed"), "true");
  badge.dispatchEvent(new window.KeyboardEvent("keydown", { key: "Enter", bubbles: true, cancelable: true }));
  await tick();
  assert.deepEqual(daemon.messages.at(-1), { type: "unread", paper_id: 16 });
  assert.equal(card.dataset.seenpapers, "seen");
  // A new paper's badge is no button: there is nothing to mark.
  const fresh = document.querySelectorAll("article")[3].querySelector(".seenpapers-badge");
  fresh.click();
  await tick();
  assert.equal(fresh.getAttribute("role"), null);
  assert.equal(daemon.messages.at(-1).type, "unread");
});

test("a duplicate names the other paper as text, with a link, and its reason on hover", async () => {
  const hostile = `<img src=x onerror="window.pwned=1"> Diffusion Meets Few-shot Class Incremental Learning`;
  const copy = "Can Synthetic Images Conquer Forgetting? Beyond Unexplored Doubts in Few-Shot Class-Incremental Learning";
  const daemon = fakeDaemon({
    [copy]: { status: "duplicate", duplicate_of: { paper_id: 173, title: hostile, similarity: 0.7049, reason: "title 0.22 + same abstract", arxiv_id: "2503.23402" } },
  });
  const { window, document } = await annotated("pages/arxiv-list.html", "https://arxiv.org/list/cs.LG/new", daemon);
  const card = document.querySelectorAll("dd")[1];
  assert.equal(card.dataset.seenpapers, "duplicate");
  const badge = card.querySelector(".list-title .seenpapers-badge");
  assert.equal(badge.textContent, `same as: ${hostile}`);
  assert.equal(badge.querySelector("img"), null);
  assert.equal(badge.querySelector("a").href, "https://arxiv.org/abs/2503.23402");
  assert.match(badge.title, /similarity 0\.7049 · title 0\.22 \+ same abstract/);
  assert.equal(window.pwned, undefined);
  // Abstracts go with the titles, so the daemon can tell a retitled copy.
  assert.match(daemon.lookups()[0].papers[1].abstract, /^Few-shot class-incremental learning \(FSCIL\)/);
});

test("when the daemon is down the page is left as it was", async () => {
  const daemon = fakeDaemon(KNOWN, { fail: true });
  const before = page("pages/hf-daily.html", "https://huggingface.co/papers").document.body.innerHTML;
  const { document, annotator } = await annotated("pages/hf-daily.html", "https://huggingface.co/papers", daemon);
  assert.equal(document.body.innerHTML, before);
  assert.equal(annotator.error().kind, "down");
  const card = document.querySelector("article").cloneNode(true);
  for (const link of card.querySelectorAll("a[href^='/papers/']")) link.setAttribute("href", "/papers/2501.06666");
  document.querySelector("#cards").append(card);
  await tick();
  assert.equal(daemon.lookups().length, 1, "no retry storm while the daemon is away");
});

test("capture sends the page's text under a name made of its address", async () => {
  const daemon = fakeDaemon({});
  const window = page("pages/hf-daily.html", "https://huggingface.co/papers/date/2025-01-22");
  const answer = await window.seenpapers.capture(window.document, window.location, daemon.send);
  const [message] = daemon.messages;
  assert.equal(message.type, "capture");
  assert.match(message.name, /^huggingface\.co_papers_date_2025-01-22_\d{4}-\d{2}-\d{2}\.txt$/);
  assert.match(message.text, /Matryoshka Representation Learning/);
  assert.equal(answer.name, message.name);
});

test("a capture leaves our badges out of the page's text", async () => {
  const daemon = fakeDaemon({});
  const window = page("pages/hf-daily.html", "https://huggingface.co/papers/date/2025-01-22");
  const badge = window.seenpapers.createBadge(window.document);
  badge.textContent = "seen 3× · first 11 Mar";
  window.document.querySelector("article h3").append(badge);
  await window.seenpapers.capture(window.document, window.location, daemon.send);
  const [message] = daemon.messages;
  assert.doesNotMatch(message.text, /seen 3×/);
  assert.ok(badge.isConnected, "the badge stays on the page");
  assert.ok(!window.document.documentElement.classList.contains("seenpapers-capturing"));
});
