// The badge inside each card: what the daemon said about the paper, in a few words,
// with the details on hover. Everything from pages and from the API is set as text.
"use strict";

(function () {
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // "2026-03-11" -> "11 Mar", with the year when it is not this year's (fixed English,
  // so a badge reads the same in every locale).
  function shortDate(iso, today = new Date()) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    if (!match) return "";
    const [, year, month, day] = match;
    const text = `${Number(day)} ${MONTHS[Number(month) - 1]}`;
    return Number(year) === today.getFullYear() ? text : `${text} ${year}`;
  }

  // "today" when it was first seen today, else "first 11 Mar".
  function firstSeen(iso, today = new Date()) {
    return (iso || "").startsWith(seenpapers.localDay(today)) ? "today" : `first ${shortDate(iso, today)}`;
  }

  function longDate(iso) {
    const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return match ? `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}` : "";
  }

  // Where the paper a duplicate points to lives, on the site being read.
  function paperLink(duplicate, location) {
    const id = duplicate.arxiv_id && seenpapers.ARXIV_ID.test(duplicate.arxiv_id) ? duplicate.arxiv_id : null;
    if (id && /arxiv\.org$/.test(location.hostname)) return "https://arxiv.org/abs/" + id;
    if (id) return "https://huggingface.co/papers/" + id;
    return "https://huggingface.co/papers?q=" + encodeURIComponent(duplicate.title);
  }

  // The badge's words and its hover text for one lookup result.
  function describe(result, item, today) {
    const lines = [];
    let label;
    const times = result.times_seen || 0;
    if (result.status === "new") {
      label = "new";
      lines.push("seenpapers: in none of your digests yet.");
    } else if (result.status === "duplicate") {
      label = "same as: ";
      const dup = result.duplicate_of;
      lines.push(`Same work as “${dup.title}”`, `similarity ${dup.similarity} · ${dup.reason}`);
    } else {
      label = result.status === "read" ? `read · seen ${times}×` : `seen ${times}× · ${firstSeen(result.first_seen, today)}`;
      lines.push(`Seen ${times} time${times === 1 ? "" : "s"}, first ${longDate(result.first_seen)}, last ${longDate(result.last_seen)}`);
      if (result.read_at) lines.push(`Read ${longDate(result.read_at)}`);
      if (result.title && item && result.title.toLowerCase() !== item.title.toLowerCase()) lines.push(`Known as: ${result.title}`);
      if (result.duplicate_of) lines.push(`Same work as “${result.duplicate_of.title}” (${result.duplicate_of.reason})`);
      if (result.digests && result.digests.length) {
        lines.push("In digests:", ...result.digests.map((d) => `  ${longDate(d.date)} · ${d.name}`));
      }
      lines.push(result.status === "read" ? "Click to mark as unread." : "Click to mark as read.");
    }
    return { label, tooltip: lines.join("\n") };
  }

  // Fill `badge` for `result`; the card carries the status for styles and tests.
  function render(badge, result, item, location, today) {
    const { label, tooltip } = describe(result, item, today);
    badge.replaceChildren(label);
    if (result.status === "duplicate") {
      const link = badge.ownerDocument.createElement("a");
      link.href = paperLink(result.duplicate_of, location);
      link.rel = "noopener";
      link.textContent = result.duplicate_of.title;
      badge.append(link);
    }
    badge.title = tooltip;
    badge.dataset.status = result.status;
    if (result.paper_id) {  // a known paper: the badge is the read/unread button
      badge.tabIndex = 0;
      badge.setAttribute("role", "button");
      badge.setAttribute("aria-pressed", String(result.status === "read"));
    } else {
      for (const name of ["tabindex", "role", "aria-pressed"]) badge.removeAttribute(name);
    }
    if (item) item.card.dataset.seenpapers = result.status;
  }

  function create(document) {
    const badge = document.createElement("span");
    badge.className = "seenpapers-badge";
    return badge;
  }

  Object.assign(seenpapers, { shortDate, describe, render, createBadge: create });
})();
