// Finds the papers on a page, asks the daemon about them in one batch, and puts a badge
// in each card -- once per card, and again for cards the site adds later (infinite
// scroll, client-side navigation), which a MutationObserver notices. It starts before
// the page is parsed (document_start) and reads cards as the parser finishes them, so the
// first answer is on its way before DOMContentLoaded.
"use strict";

(function () {
  const BATCH = 500; // the API's limit per lookup
  const MAX_FIELD = 20000; // and per field
  const RETRY_AFTER_MS = 30000; // after a failed lookup, leave the daemon alone for a while

  function paperOf(item) {
    const paper = { title: item.title.slice(0, MAX_FIELD) };
    for (const field of ["arxiv_id", "url", "abstract"]) {
      if (item[field]) paper[field] = item[field].slice(0, MAX_FIELD);
    }
    return paper;
  }

  // `send` carries a message to the service worker and resolves to its answer:
  // {ok: true, ...} or {ok: false, error: {kind, message}}.
  // `onItem(item, key)` hears of every paper read on every scan (the recorder watches them).
  function annotator({ document, location, readers, send, today, delay = 100, onItem = () => {} }) {
    const cards = new WeakMap(); // card -> entry {key, item, badge}
    const live = new Set(); // entries with a badge, to update every copy of a paper at once
    const answers = new Map(); // key -> lookup result, so a re-rendered card costs no request
    let timer = null;
    let running = false;
    let rescan = false;
    let retryAt = 0;
    let observer = null;
    let lastError = null;
    let inFlight = Promise.resolve(); // the latest lookup, for the popup to wait on
    let address = location.pathname + location.search; // answers hold for one page: a client-side navigation asks again

    async function ask(message) {
      try {
        return (await send(message)) || { ok: false, error: { kind: "extension", message: "no answer from the extension" } };
      } catch (error) {
        return { ok: false, error: { kind: "extension", message: String((error && error.message) || error) } };
      }
    }

    function place(entry) {
      const { anchor, card } = entry.item;
      if (!anchor || !card.contains(anchor)) card.append(entry.badge);
      else if (entry.item.place === "append") anchor.append(entry.badge);
      else anchor.after(entry.badge);
    }

    function show(entry, result) {
      if (!entry.badge) {
        entry.badge = seenpapers.createBadge(document);
        entry.badge.addEventListener("click", (event) => toggle(event, entry));
        entry.badge.addEventListener("keydown", (event) => {
          if (event.key === "Enter" || event.key === " ") toggle(event, entry);
        });
      }
      seenpapers.render(entry.badge, result, entry.item, location, today);
      if (!entry.badge.isConnected) place(entry);
      live.add(entry);
    }

    // Click on a known paper's badge: mark it read, or unread, and update it in place.
    async function toggle(event, entry) {
      const result = answers.get(entry.key);
      if (event.target.closest("a") || !result || !result.paper_id) return; // a link is a link
      event.preventDefault();
      event.stopPropagation();
      if (entry.badge.getAttribute("aria-busy") === "true") return;
      entry.badge.setAttribute("aria-busy", "true");
      const read = result.status !== "read";
      const answer = await ask({ type: read ? "read" : "unread", paper_id: result.paper_id });
      entry.badge.removeAttribute("aria-busy");
      if (!answer.ok) {
        entry.badge.title = `Could not mark as ${read ? "read" : "unread"}: ${answer.error.message}`;
        return;
      }
      const changed = { ...result, status: read ? "read" : "seen", read_at: read ? new Date().toISOString() : null };
      for (const other of [...live]) {
        if (!other.badge.isConnected) live.delete(other);
        else if (answers.get(other.key)?.paper_id === result.paper_id) {
          answers.set(other.key, changed);
          show(other, changed);
        }
      }
    }

    async function lookup(entries) {
      for (let start = 0; start < entries.length; start += BATCH) {
        const batch = entries.slice(start, start + BATCH);
        const answer = await ask({ type: "lookup", papers: batch.map((entry) => paperOf(entry.item)) });
        if (!answer.ok) {
          // The page stays as it was; these cards are tried again on a later change.
          lastError = answer.error;
          retryAt = Date.now() + RETRY_AFTER_MS;
          for (const entry of entries.slice(start)) if (cards.get(entry.item.card) === entry) cards.delete(entry.item.card);
          return;
        }
        lastError = null;
        batch.forEach((entry, i) => {
          answers.set(entry.key, answer.results[i]);
          if (cards.get(entry.item.card) === entry) show(entry, answer.results[i]);
        });
      }
    }

    // While the page is still being parsed, a card is whole once the parser has gone past
    // its end: something follows it, or one of its ancestors.
    function parsed(card) {
      if (document.readyState !== "loading") return true;
      for (let node = card; node && node !== document; node = node.parentNode) if (node.nextSibling) return true;
      return false;
    }

    async function scan() {
      if (running) {
        rescan = true;
        return;
      }
      running = true;
      try {
        for (const entry of live) if (!entry.item.card.isConnected) live.delete(entry); // gone with a navigation
        if (location.pathname + location.search !== address) {
          address = location.pathname + location.search;
          answers.clear();
        }
        const pending = [];
        for (const reader of readers.filter((r) => r.matches(location))) {
          for (const item of reader.read(document, location)) {
            if (!parsed(item.card)) continue; // its title or abstract may not all be there yet
            const key = seenpapers.keyOf(item);
            onItem(item, key);
            const known = cards.get(item.card);
            if (known && known.key === key) {
              // The site re-rendered the card's insides: put the badge back where it belongs.
              if (known.badge && !known.badge.isConnected) {
                known.item = item;
                place(known);
              }
              continue;
            }
            if (known && known.badge) {
              known.badge.remove();
              live.delete(known);
            }
            if (!answers.has(key) && Date.now() < retryAt) continue;
            const entry = { key, item, badge: null };
            cards.set(item.card, entry);
            if (answers.has(key)) show(entry, answers.get(key));
            else pending.push(entry);
          }
        }
        if (pending.length) await (inFlight = lookup(pending));
      } finally {
        running = false;
        if (rescan) {
          rescan = false;
          schedule();
        }
      }
    }

    // While the parser runs, each of its pauses is a chance to send the cards it finished.
    function schedule() {
      clearTimeout(timer);
      timer = setTimeout(scan, document.readyState === "loading" ? 0 : delay);
    }

    // Ask again about every paper on the page (after a capture, say).
    async function refresh() {
      answers.clear();
      retryAt = 0;
      const entries = [...live].filter((entry) => entry.badge.isConnected && cards.get(entry.item.card) === entry);
      if (entries.length) await (inFlight = lookup(entries));
      await scan();
    }

    // Our own badges coming and going are no news.
    function ours(node) {
      const element = node && node.nodeType === 1 ? node : node && node.parentElement;
      return !element || Boolean(element.closest(".seenpapers-badge"));
    }

    function news(mutation) {
      if (mutation.type === "childList") return [...mutation.addedNodes].some((node) => node.nodeType === 1 && !ours(node));
      return !ours(mutation.target); // a link or a title changed in place (a reused card)
    }

    function start() {
      observer = new document.defaultView.MutationObserver((mutations) => {
        if (mutations.some(news)) schedule();
      });
      // The document itself: at document_start there may be no <html> element yet.
      observer.observe(document, {
        childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ["href"],
      });
      if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", () => {
          clearTimeout(timer);
          scan();
        }, { once: true });
      }
      return scan();
    }

    function stop() {
      clearTimeout(timer);
      if (observer) observer.disconnect();
    }

    function counts() {
      const tally = { new: 0, seen: 0, read: 0, duplicate: 0 };
      for (const card of document.querySelectorAll("[data-seenpapers]")) {
        if (card.dataset.seenpapers in tally) tally[card.dataset.seenpapers] += 1;
      }
      return tally;
    }

    // What the popup shows: the counts and the last error, once the lookup under way is done.
    async function summary() {
      await inFlight;
      return { counts: counts(), error: lastError };
    }

    return { scan, start, stop, refresh, counts, summary, error: () => lastError };
  }

  seenpapers.annotator = annotator;
})();
