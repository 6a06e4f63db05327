// Reads Hugging Face papers pages: the daily, weekly and monthly lists, search results,
// trending, and a single paper. Keys on links to /papers/<arXiv id> and on visible
// titles, not on class names, which the site changes often.
"use strict";

(function () {
  const PREFIX = "/papers/";

  function paperId(link) {
    let url;
    try {
      url = new URL(link.getAttribute("href"), link.ownerDocument.baseURI);
    } catch {
      return null;
    }
    return url.hostname === "huggingface.co" ? seenpapers.idFromPath(url.pathname, PREFIX) : null;
  }

  // The card of a link: the <article> holding it, else the largest ancestor that is still
  // about this paper alone -- no other paper's link, no page title, not much text -- such
  // as a list item in a comment. (A lone link must not make the whole page its card.)
  const CARD_TEXT = 1000;

  function cardOf(link, id, ids) {
    const article = link.closest("article");
    if (article) return article;
    let card = link;
    for (let up = link.parentElement; up && up !== link.ownerDocument.body; up = up.parentElement) {
      const others = [...up.querySelectorAll('a[href*="/papers/"]')].some((a) => ids.has(a) && ids.get(a) !== id);
      if (others || up.querySelector("h1") || up.textContent.length > CARD_TEXT) break;
      card = up;
    }
    return card;
  }

  function looksLikeTitle(text) {
    return text.length > 3 && !/^[\d\s.,k·•-]*$/i.test(text) && !/^[·•]?\s*\d+\s+authors?$/i.test(text);
  }

  // The title shown on a card, and where its badge goes: the heading that holds a link to
  // the paper (or, in an <article>, its first heading), else the link with the most text.
  function titleOf(card, links) {
    const headings = [...card.querySelectorAll("h1, h2, h3, h4")];
    const heading = headings.find((h) => links.some((a) => h.contains(a))) || (card.localName === "article" ? headings[0] : null);
    const text = seenpapers.textOf(heading);
    if (looksLikeTitle(text)) return { title: text, anchor: heading };
    let best = null;
    for (const link of links) {
      const linkText = seenpapers.textOf(link);
      if (looksLikeTitle(linkText) && (!best || linkText.length > best.title.length)) best = { title: linkText, anchor: link };
    }
    return best;
  }

  // A single paper page: the page's only <h1> is the title, its container the card.
  function singlePaper(document, id) {
    const heading = document.querySelector("main h1") || document.querySelector("h1");
    const title = seenpapers.textOf(heading);
    if (!title) return null;
    let abstract = "";
    const label = [...document.querySelectorAll("h2, h3")].find((h) => seenpapers.clean(h.textContent).toLowerCase() === "abstract");
    if (label) {
      // The abstract is the longest paragraph under the label (the AI summary is shorter).
      for (const p of label.parentElement.querySelectorAll("p")) {
        const text = seenpapers.textOf(p);
        if (text.length > abstract.length) abstract = text;
      }
    }
    return {
      card: heading.parentElement,
      anchor: heading,
      title,
      arxiv_id: id,
      url: "https://huggingface.co/papers/" + id,
      abstract: abstract || undefined,
      main: true, // the paper the page is about
    };
  }

  function read(document, location) {
    const pageId = seenpapers.idFromPath(location.pathname, PREFIX);
    const items = [];
    if (pageId) {
      const main = singlePaper(document, pageId);
      if (main) items.push(main);
    }
    const ids = new Map();
    for (const link of document.querySelectorAll('a[href*="/papers/"]')) {
      const id = paperId(link);
      if (id && id !== pageId) ids.set(link, id);
    }
    const cards = new Map();
    for (const [link, id] of ids) {
      const card = cardOf(link, id, ids);
      if (items.some((item) => item.card === card || item.card.contains(card))) continue;
      const entry = cards.get(card) || cards.set(card, { id, links: [] }).get(card);
      if (entry.id === id) entry.links.push(link);
    }
    for (const [card, { id, links }] of cards) {
      const found = titleOf(card, links);
      if (!found) continue;
      items.push({ card, anchor: found.anchor, title: found.title, arxiv_id: id, url: "https://huggingface.co/papers/" + id });
    }
    return items;
  }

  seenpapers.readers.push({
    name: "huggingface",
    matches: (location) => location.hostname === "huggingface.co" && /^\/papers(\/|$)/.test(location.pathname),
    read,
  });
})();
