// "Record what I see": the papers that were really on screen become a visit digest.
// A card counts once at least half of it (or half the screen, for a card taller than
// that) has been on screen for a second while the tab is visible; the paper of a single
// paper page counts after two seconds visible. What was noted goes to the background
// when the page is hidden or left, and every 30 seconds while it stays open.
"use strict";

(function () {
  const LISTING_MS = 1000;
  const SINGLE_MS = 2000;
  const SEND_EVERY_MS = 30000;
  const MAX_PART = 200; // papers in one message; a longer visit is sent in parts
  const MAX_FIELD = 20000;
  const MAX_TITLE = 1000; // the daemon refuses a visit holding a longer "title" (a card's whole text)

  // The rule alone, with time passed in (setTimer/clearTimer), so it can be tested
  // without a browser: a key is noted once it has been on screen for `dwell` ms at a
  // stretch while the page is visible.
  function dwellRule({ onNoted, setTimer = setTimeout, clearTimer = clearTimeout }) {
    const watched = new Map(); // key -> {dwell, onScreen, timer}
    const noted = new Set();
    let pageVisible = true;

    function update(key) {
      const state = watched.get(key);
      if (!state || noted.has(key)) return;
      const counting = state.onScreen && pageVisible;
      if (counting && !state.timer) {
        state.timer = setTimer(() => {
          state.timer = null;
          noted.add(key);
          onNoted(key);
        }, state.dwell);
      } else if (!counting && state.timer) {
        clearTimer(state.timer);
        state.timer = null;
      }
    }

    return {
      watch(key, dwell) {
        if (!watched.has(key)) watched.set(key, { dwell, onScreen: false, timer: null });
      },
      onScreen(key, yes) {
        const state = watched.get(key);
        if (!state) return;
        state.onScreen = yes;
        update(key);
      },
      pageVisible(yes) {
        pageVisible = yes;
        for (const key of watched.keys()) update(key);
      },
      // A new visit (the page's address changed): everything counts afresh.
      reset() {
        for (const state of watched.values()) if (state.timer) clearTimer(state.timer);
        watched.clear();
        noted.clear();
      },
      noted: (key) => noted.has(key),
    };
  }

  // Half of the card, or half of the screen, is on screen.
  function halfOnScreen(entry) {
    if (!entry.isIntersecting) return false;
    const screen = entry.rootBounds ? entry.rootBounds.height : Infinity;
    return entry.intersectionRatio >= 0.5 || entry.intersectionRect.height >= screen / 2;
  }

  // The page's address as one meeting knows it: without the fragment.
  function pageAddress(location) {
    return location.origin + location.pathname + location.search;
  }

  const SITES = { "huggingface.co": "huggingface.co", "arxiv.org": "arxiv.org", "www.arxiv.org": "arxiv.org" };

  function randomId() {
    return Math.random().toString(36).slice(2, 10).padEnd(8, "0");
  }

  function paperOf(item, seenAt) {
    const paper = { title: item.title.slice(0, MAX_TITLE) };
    for (const field of ["arxiv_id", "url", "abstract"]) if (item[field]) paper[field] = item[field].slice(0, MAX_FIELD);
    if (item.authors && item.authors.length) paper.authors = item.authors;
    paper.seen_at = seenAt.toISOString();
    return paper;
  }

  // `send` carries a message to the background; `settings()` resolves to
  // {record, recordSites}; `incognito` is the browser's word for a private window.
  function recorder({ document, location, send, settings, incognito = false, now = () => new Date() }) {
    const window = document.defaultView;
    const site = SITES[location.hostname];
    const items = new Map(); // key -> item last read for it
    const cardKeys = new WeakMap(); // card element -> key it is watched under
    let visit = null;
    let unsent = [];
    let enabled = false;
    let settled = false; // the settings are read: until then, items wait in `early`
    let early = [];
    let observer = null;
    let interval = null;

    const rule = dwellRule({ onNoted });

    function newVisit() {
      const started = now();
      visit = { id: randomId(), part: 0, page: pageAddress(location), started, title: document.title };
      rule.reset();
      if (observer) observer.disconnect();
      observer = new window.IntersectionObserver((entries) => {
        for (const entry of entries) {
          const key = cardKeys.get(entry.target);
          if (key) rule.onScreen(key, halfOnScreen(entry));
        }
      }, { threshold: [0, 0.25, 0.5, 0.75, 1] });
    }

    function onNoted(key) {
      const item = items.get(key);
      if (!item) return;
      unsent.push(paperOf(item, now()));
      // A quiet mark that it was noted; the badge keeps what was true when the page opened.
      item.card.dataset.seenpapersNoted = "true";
    }

    // The annotator shows us every item it reads, on every scan.
    function watch(item, key) {
      if (!settled) {
        early.push([item, key]);
        return;
      }
      if (!enabled) return;
      if (!visit || visit.page !== pageAddress(location)) {
        flush();
        newVisit();
      }
      items.set(key, item);
      if (item.main) {
        // The page is about this paper: it is on screen while the tab is.
        rule.watch(key, SINGLE_MS);
        rule.onScreen(key, true);
        return;
      }
      if (cardKeys.get(item.card) === key) return;
      cardKeys.set(item.card, key);
      rule.watch(key, LISTING_MS);
      observer.observe(item.card);
    }

    function flush() {
      if (!visit || !unsent.length) return;
      while (unsent.length) {
        const papers = unsent.splice(0, MAX_PART);
        visit.part += 1;
        send({
          type: "visit",
          visit: {
            page: visit.page, page_title: visit.title, visit: visit.id, part: visit.part,
            started: visit.started.toISOString(), date: seenpapers.localDay(visit.started), papers,
          },
        }).catch(() => {}); // the background keeps what it got; a closed page cannot do more
      }
    }

    function visibility() {
      const visible = document.visibilityState === "visible";
      rule.pageVisible(visible);
      if (!visible) flush();
    }

    async function start() {
      if (incognito || !site) {
        settled = true; // and never enabled: a private window records nothing
        early = [];
        return;
      }
      const { record, recordSites } = await settings();
      enabled = record !== false && (!recordSites || recordSites[site] !== false);
      settled = true;
      const waiting = early;
      early = [];
      if (!enabled) return;
      rule.pageVisible(document.visibilityState === "visible");
      document.addEventListener("visibilitychange", visibility);
      window.addEventListener("pagehide", flush);
      interval = window.setInterval(flush, SEND_EVERY_MS);
      for (const [item, key] of waiting) watch(item, key);
    }

    // The switch turned off mid-visit: stop counting; what was noted is still sent.
    function stop() {
      flush();
      enabled = false;
      rule.reset();
      if (observer) observer.disconnect();
      window.clearInterval(interval);
      document.removeEventListener("visibilitychange", visibility);
      window.removeEventListener("pagehide", flush);
    }

    return { start, stop, watch, flush, enabled: () => enabled };
  }

  Object.assign(seenpapers, { dwellRule, halfOnScreen, recorder, pageAddress });
})();
