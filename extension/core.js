// The tiny shared core of the content scripts: one namespace, text helpers, arXiv ids.
// Content scripts are classic scripts sharing one isolated world, so the files meet on
// a single global (`seenpapers`) instead of imports.
"use strict";

var seenpapers = globalThis.seenpapers || (globalThis.seenpapers = { readers: [] });

// New-style ids (2501.12948, 1506.03134v2) and old-style ones (hep-th/9901001).
seenpapers.ARXIV_ID = /(\d{4}\.\d{4,5}|[a-z][a-z-]*(?:\.[A-Z]{2})?\/\d{7})(?:v\d+)?/;

// The arXiv id a URL path names after `prefix` ("/papers/", "/abs/"), without version.
seenpapers.idFromPath = function idFromPath(path, prefix) {
  if (!path || !path.startsWith(prefix)) return null;
  const match = new RegExp("^" + seenpapers.ARXIV_ID.source + "/?$").exec(decodeURIComponent(path.slice(prefix.length)));
  return match ? match[1] : null;
};

// One line of text as a person reads it: single spaces, no descriptor like "Title:".
seenpapers.clean = function clean(text, descriptor) {
  let line = (text || "").replace(/\s+/g, " ").trim();
  if (descriptor && line.toLowerCase().startsWith(descriptor.toLowerCase())) {
    line = line.slice(descriptor.length).trim();
  }
  return line;
};

// The text of an element without what MathJax adds (rendered copies of the TeX it keeps
// in a script), so a title reads the same before and after typesetting.
seenpapers.textOf = function textOf(element, descriptor) {
  if (!element) return "";
  const copy = element.cloneNode(true);
  for (const junk of copy.querySelectorAll(".MathJax, .MathJax_Preview, .MathJax_Display, mjx-container, .seenpapers-badge")) {
    junk.remove();
  }
  for (const script of copy.querySelectorAll('script[type^="math/tex"]')) {
    script.replaceWith("$" + script.textContent + "$");
  }
  return seenpapers.clean(copy.textContent, descriptor);
};

// The key that says two cards show the same paper (the id when there is one).
seenpapers.keyOf = function keyOf(item) {
  return item.arxiv_id ? "id:" + item.arxiv_id : "title:" + item.title.toLowerCase();
};

// A date's local calendar day as YYYY-MM-DD (the day a person would say it was).
seenpapers.localDay = function localDay(date) {
  return [date.getFullYear(), date.getMonth() + 1, date.getDate()].map((n) => String(n).padStart(2, "0")).join("-");
};
