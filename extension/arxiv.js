// Reads arXiv pages: listings (/list/…/new, /recent, /pastweek, a month), search results
// (/search/…), author pages (/a/<author>: a listing, or results in the search layout) and
// abstract pages (/abs/…). A listing is <dl> of <dt> (the id link) and <dd>
// (title, abstract); search results are li.arxiv-result (arXiv's search-macros template).
"use strict";

(function () {
  // The element whose descriptor span says `label` ("Title:"), else the fallback.
  function described(root, label, fallback) {
    for (const descriptor of root.querySelectorAll(".descriptor")) {
      if (seenpapers.clean(descriptor.textContent).toLowerCase() === label) return descriptor.parentElement;
    }
    return root.querySelector(fallback);
  }

  function absId(link) {
    let url;
    try {
      url = new URL(link.getAttribute("href"), link.ownerDocument.baseURI);
    } catch {
      return null;
    }
    return /(^|\.)arxiv\.org$/.test(url.hostname) ? seenpapers.idFromPath(url.pathname, "/abs/") : null;
  }

  // One entry of a list: its badge ends the title line.
  function listed(card, anchor, title, id, abstract) {
    return { card, anchor, place: "append", title, arxiv_id: id, url: "https://arxiv.org/abs/" + id, abstract: abstract || undefined };
  }

  function listing(document) {
    const items = [];
    for (const dt of document.querySelectorAll("dl > dt")) {
      const id = [...dt.querySelectorAll("a[href]")].map(absId).find(Boolean);
      let dd = dt.nextElementSibling;
      while (dd && dd.localName !== "dd" && dd.localName !== "dt") dd = dd.nextElementSibling;
      if (!id || !dd || dd.localName !== "dd") continue;
      const titleElement = described(dd, "title:", ".list-title");
      const title = seenpapers.textOf(titleElement, "Title:");
      if (!title) continue;
      const abstract = seenpapers.textOf(dd.querySelector("p"));
      items.push(listed(dd, titleElement, title, id, abstract));
    }
    return items;
  }

  // Each result: the /abs/ link in p.list-title, the title in p.title, the whole abstract in
  // span.abstract-full (hidden until "More"; its "Less" link is not the abstract's).
  function searchResults(document) {
    const items = [];
    for (const li of document.querySelectorAll("li.arxiv-result")) {
      const id = [...li.querySelectorAll("p.list-title a[href]")].map(absId).find(Boolean);
      const heading = li.querySelector("p.title");
      const title = seenpapers.textOf(heading);
      if (!id || !title) continue;
      const full = li.querySelector(".abstract-full");
      let abstract = "";
      if (full) {
        const copy = full.cloneNode(true);
        for (const link of copy.querySelectorAll("a")) link.remove();
        abstract = seenpapers.textOf(copy);
      }
      items.push(listed(li, heading, title, id, abstract));
    }
    return items;
  }

  function abstractPage(document, id) {
    const heading = document.querySelector("h1.title") || described(document, "title:", "#abs h1");
    const title = seenpapers.textOf(heading, "Title:");
    if (!title) return [];
    const abstract = seenpapers.textOf(document.querySelector("blockquote.abstract"), "Abstract:");
    return [{
      card: heading.parentElement,
      anchor: heading,
      title,
      arxiv_id: id,
      url: "https://arxiv.org/abs/" + id,
      abstract: abstract || undefined,
      main: true, // the paper the page is about
    }];
  }

  function read(document, location) {
    const id = seenpapers.idFromPath(location.pathname, "/abs/");
    if (id) return abstractPage(document, id);
    if (location.pathname.startsWith("/search/")) return searchResults(document);
    const listed = listing(document);
    return listed.length || !location.pathname.startsWith("/a/") ? listed : searchResults(document);
  }

  seenpapers.readers.push({
    name: "arxiv",
    matches: (location) => /(^|\.)arxiv\.org$/.test(location.hostname) && /^\/(list|abs|search|a)\//.test(location.pathname),
    read,
  });
})();
