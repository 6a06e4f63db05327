// The badge's words.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { page } = require("./dom");

const { seenpapers } = page("pages/arxiv-abs.html", "https://arxiv.org/abs/2402.14776");
const TODAY = new Date(2026, 10, 22);

test("dates read as day and month, with the year only when it is another year", () => {
  assert.equal(seenpapers.shortDate("2026-03-11", TODAY), "11 Mar");
  assert.equal(seenpapers.shortDate("2024-12-01", TODAY), "1 Dec 2024");
  assert.equal(seenpapers.shortDate(null, TODAY), "");
});

test("each status in a few words, the details on hover", () => {
  const item = { title: "Pointer Networks" };
  const seen = { status: "seen", paper_id: 1, title: "Pointer networks", times_seen: 1, first_seen: "2026-03-11", last_seen: "2026-03-11", digests: [] };
  assert.equal(seenpapers.describe(seen, item, TODAY).label, "seen 1× · first 11 Mar");
  assert.equal(seenpapers.describe({ ...seen, first_seen: "2026-11-22" }, item, TODAY).label, "seen 1× · today");
  assert.match(seenpapers.describe(seen, item, TODAY).tooltip, /^Seen 1 time, first 11 Mar 2026/);
  assert.doesNotMatch(seenpapers.describe(seen, item, TODAY).tooltip, /Known as/); // same title, other case
  const renamed = { ...seen, title: "Ptr-Nets" };
  assert.match(seenpapers.describe(renamed, item, TODAY).tooltip, /Known as: Ptr-Nets/);
  assert.equal(seenpapers.describe({ status: "new" }, item, TODAY).label, "new");
  const read = { ...seen, status: "read", read_at: "2026-03-12T08:00:00Z", times_seen: 2 };
  assert.equal(seenpapers.describe(read, item, TODAY).label, "read · seen 2×");
  assert.match(seenpapers.describe(read, item, TODAY).tooltip, /Read 12 Mar 2026[\s\S]*Click to mark as unread\./);
});
