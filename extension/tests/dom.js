// Loads a fixture page into jsdom at its real address, with the content scripts in it,
// as the browser would (classic scripts sharing one global).
"use strict";

const fs = require("node:fs");
const path = require("node:path");
const { JSDOM } = require("jsdom");

const EXTENSION = path.join(__dirname, "..");
const FIXTURES = path.join(EXTENSION, "..", "tests", "fixtures");
const CONTENT_SCRIPTS = ["core.js", "badge.js", "hf.js", "arxiv.js", "annotate.js", "capture.js", "record.js"];

// `cut(html)` may change the fixture's text first (a page the parser is halfway through).
function page(fixture, url, cut = (html) => html) {
  const html = cut(fs.readFileSync(path.join(FIXTURES, fixture), "utf8"));
  const dom = new JSDOM(html, { url, runScripts: "outside-only", pretendToBeVisual: true });
  for (const file of CONTENT_SCRIPTS) {
    dom.window.eval(fs.readFileSync(path.join(EXTENSION, file), "utf8"));
  }
  return dom.window;
}

// What the page's readers find (as an array of this realm, for deepEqual).
function read(window) {
  const found = window.seenpapers.readers
    .filter((reader) => reader.matches(window.location))
    .flatMap((reader) => reader.read(window.document, window.location));
  return Array.from(found);
}

module.exports = { page, read, EXTENSION, FIXTURES };
