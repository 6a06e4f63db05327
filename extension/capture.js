// "Capture this page": the page's visible text, exactly as a person would copy it, goes to
// the daemon as a digest (POST /api/v1/digests), where it is read like the sample dumps.
"use strict";

(function () {
  // A name a person recognises in the inbox: the page's address and the day it was taken.
  function captureName(location, now = new Date()) {
    const page = (location.hostname + location.pathname + location.search)
      .replace(/[^A-Za-z0-9.-]+/g, "_")
      .replace(/^_+|_+$/g, "")
      .slice(0, 80);
    return `${page}_${seenpapers.localDay(now)}.txt`;
  }

  // The page's text without our badges, which are not the page's and would stand between
  // a title and its author line. innerText is the rendered text (what the samples are);
  // textContent only where a DOM has no layout (tests).
  function visibleText(document) {
    const root = document.documentElement;
    root.classList.add("seenpapers-capturing"); // hides the badges (content.css)
    try {
      if (document.body.innerText !== undefined) return document.body.innerText;
      const copy = document.body.cloneNode(true);
      for (const badge of copy.querySelectorAll(".seenpapers-badge")) badge.remove();
      return copy.textContent;
    } finally {
      root.classList.remove("seenpapers-capturing");
    }
  }

  function capture(document, location, send) {
    return send({ type: "capture", name: captureName(location), text: visibleText(document) });
  }

  Object.assign(seenpapers, { captureName, capture, visibleText });
})();
