// The page readers on fixture pages that copy the real pages' structure.
"use strict";

const test = require("node:test");
const assert = require("node:assert/strict");
const { page, read } = require("./dom");

test("a Hugging Face daily list: one item per card, keyed on links and titles", () => {
  const window = page("pages/hf-daily.html", "https://huggingface.co/papers/date/2025-01-22");
  const items = read(window);
  assert.deepEqual(items.map((i) => [i.arxiv_id, i.title]), [
    ["2205.13147", "Matryoshka Representation Learning"],
    ["1506.03134", "Pointer Networks"],
    ["2402.14776", "2D Matryoshka Sentence Embeddings"],
    ["2501.04001", "Lighthouse Keepers: A Benchmark Nobody Has Read Before"],
    ["2501.04002", `<img src=x onerror="document.title='pwned'">Escaped Markup In A Title`],
  ]);
  for (const item of items) {
    assert.equal(item.card.localName, "article");
    assert.equal(item.anchor.localName, "h3");
    assert.equal(item.url, `https://huggingface.co/papers/${item.arxiv_id}`);
  }
});

test("the same cards are read on the weekly, monthly, trending and search pages", () => {
  for (const url of ["https://huggingface.co/papers", "https://huggingface.co/papers/week/2025-W04",
    "https://huggingface.co/papers/month/2025-01", "https://huggingface.co/papers/trending",
    "https://huggingface.co/papers?q=matryoshka"]) {
    assert.equal(read(page("pages/hf-daily.html", url)).length, 5, url);
  }
});

test("other Hugging Face pages are left alone", () => {
  assert.deepEqual(read(page("pages/hf-daily.html", "https://huggingface.co/models")), []);
});

test("a single paper page: the title's container, the abstract, and papers a comment links to", () => {
  const window = page("pages/hf-paper.html", "https://huggingface.co/papers/2305.02309");
  const [main, ...others] = read(window);
  assert.equal(main.title, "CodeGen2: Lessons for Training LLMs on Programming and Natural Languages");
  assert.equal(main.arxiv_id, "2305.02309");
  assert.equal(main.anchor.localName, "h1");
  assert.equal(main.card, main.anchor.parentElement);
  assert.match(main.abstract, /^Large language models \(LLMs\) have demonstrated/); // not the AI summary
  assert.deepEqual(others.map((i) => [i.arxiv_id, i.title, i.card.localName]), [
    ["1506.03134", "Pointer Networks", "li"],
    ["2501.04003", "Code Models Nobody Has Catalogued Yet", "li"],
  ]);
});

test("the daemon's HTML fixtures of Hugging Face pages read the same way", () => {
  const daily = read(page("html/hf-daily.html", "https://huggingface.co/papers/date/2025-01-22"));
  assert.deepEqual(daily.map((i) => i.arxiv_id), ["2501.12948", "2501.12599", "2501.12909"]);
  assert.equal(daily[1].title, "Kimi k1.5: Scaling Reinforcement Learning with LLMs");
  const search = read(page("html/hf-search.html", "https://huggingface.co/papers?q=mistral"));
  assert.deepEqual(search.map((i) => i.title), ["Mistral 7B", "Mixtral of Experts"]);
  const [paper] = read(page("html/hf-paper.html", "https://huggingface.co/papers/2501.12948"));
  assert.equal(paper.title, "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning");
  assert.match(paper.abstract, /^We introduce our first-generation reasoning models/);
});

test("an arXiv listing: the dd of each entry, its title without the descriptor, TeX kept", () => {
  const items = read(page("pages/arxiv-list.html", "https://arxiv.org/list/cs.LG/new"));
  assert.deepEqual(items.map((i) => [i.arxiv_id, i.title]), [
    ["1506.03134", "Pointer Networks"],
    ["2507.13739", "Can Synthetic Images Conquer Forgetting? Beyond Unexplored Doubts in Few-Shot Class-Incremental Learning"],
    ["2501.09001", "Tight Bounds for $\\epsilon$-Greedy Exploration in Linear Bandits"],
    ["2205.13147", "Matryoshka Representation Learning"],
  ]);
  for (const item of items) {
    assert.equal(item.card.localName, "dd");
    assert.ok(item.anchor.classList.contains("list-title"));
    assert.equal(item.place, "append");
  }
  assert.match(items[0].abstract, /^We introduce a new neural architecture/);
});

test("arXiv's recent and month listings (no abstracts) and the daemon's fixtures", () => {
  const recent = read(page("html/arxiv-recent.html", "https://arxiv.org/list/cs.LG/recent"));
  assert.ok(recent.length >= 3);
  assert.ok(recent.every((i) => i.title && i.arxiv_id && i.card.localName === "dd"));
  const listing = read(page("html/arxiv-list.html", "https://arxiv.org/list/cs.LG/new"));
  assert.equal(listing[0].title, "DeepSeek-R1: Incentivizing Reasoning Capability in LLMs via Reinforcement Learning");
  const [abs] = read(page("html/arxiv-abs.html", "https://arxiv.org/abs/1706.03762"));
  assert.equal(abs.title, "Attention Is All You Need");
  assert.equal(abs.arxiv_id, "1706.03762");
});

test("an arXiv abstract page: h1.title, not the subject heading, and the abstract", () => {
  const items = read(page("pages/arxiv-abs.html", "https://arxiv.org/abs/2402.14776v2"));
  assert.equal(items.length, 1);
  const [item] = items;
  assert.equal(item.title, "2D Matryoshka Sentence Embeddings");
  assert.equal(item.arxiv_id, "2402.14776");
  assert.ok(item.anchor.classList.contains("title"));
  assert.match(item.abstract, /^Common approaches rely on fixed-length embedding vectors/);
});

test("a title MathJax has typeset reads as its TeX", () => {
  const window = page("pages/arxiv-list.html", "https://arxiv.org/list/cs.LG/new");
  const title = window.document.querySelectorAll(".list-title")[2];
  title.innerHTML = '<span class="descriptor">Title:</span> Tight Bounds for <span class="MathJax_Preview"></span>'
    + '<span class="MathJax"><span>ε</span></span><script type="math/tex">\\epsilon</script>-Greedy Exploration in Linear Bandits';
  assert.equal(read(window)[2].title, "Tight Bounds for $\\epsilon$-Greedy Exploration in Linear Bandits");
});

test("arXiv ids, old and new, without versions", () => {
  const { seenpapers } = page("pages/arxiv-abs.html", "https://arxiv.org/abs/2402.14776");
  assert.equal(seenpapers.idFromPath("/abs/2402.14776v3", "/abs/"), "2402.14776");
  assert.equal(seenpapers.idFromPath("/abs/hep-th/9901001", "/abs/"), "hep-th/9901001");
  assert.equal(seenpapers.idFromPath("/papers/date/2025-01-22", "/papers/"), null);
  assert.equal(seenpapers.idFromPath("/papers/2501.12948/", "/papers/"), "2501.12948");
});

test("a lone link to a paper makes a small card, never the whole page", () => {
  const window = page("pages/hf-paper.html", "https://huggingface.co/papers/2305.02309");
  const prose = window.document.querySelector(".prose");
  prose.querySelector("ul").remove();
  prose.insertAdjacentHTML("beforeend", '<p>See also <a href="/papers/2501.04004">A Lone Linked Paper</a>, which does it better.</p>');
  const [, lone] = read(window);
  assert.equal(lone.title, "A Lone Linked Paper");
  assert.ok(lone.card.textContent.length < 1000);
  assert.ok(!lone.card.contains(window.document.querySelector("h1")));
});

test("an arXiv search results page: one item per li.arxiv-result, with the whole abstract", () => {
  const window = page("pages/arxiv-search.html", "https://arxiv.org/search/?query=networks&searchtype=all");
  const items = read(window);
  assert.deepEqual(items.map((i) => [i.arxiv_id, i.title]), [
    ["1506.03134", "Pointer Networks"],
    ["2501.04001", "Lighthouse Keepers: A Benchmark Nobody Has Read Before"],
    ["2501.04002", `<img src=x onerror="document.title='pwned'">Escaped Markup In A Title`],
  ]);
  for (const item of items) {
    assert.equal(item.card.localName, "li");
    assert.equal(item.anchor.localName, "p");
    assert.equal(item.url, `https://arxiv.org/abs/${item.arxiv_id}`);
  }
  assert.match(items[0].abstract, /^We introduce a new neural architecture .* input sequence\.$/); // not "△ Less"
  assert.equal(read(page("pages/arxiv-search.html", "https://arxiv.org/search/advanced?terms-0-term=networks")).length, 3);
});

test("an arXiv author page (/a/…) is read as a listing, or as results in the search layout", () => {
  const listed = read(page("pages/arxiv-list.html", "https://arxiv.org/a/vinyals_o_1"));
  assert.ok(listed.length > 0);
  assert.ok(listed.every((item) => item.card.localName === "dd" || item.card.localName === "dt"));
  const searched = read(page("pages/arxiv-search.html", "https://arxiv.org/a/vinyals_o_1.html"));
  assert.deepEqual(searched.map((i) => i.arxiv_id), ["1506.03134", "2501.04001", "2501.04002"]);
});

test("the manifest runs the arXiv reader on author pages", () => {
  const manifest = JSON.parse(require("node:fs").readFileSync(require("node:path").join(__dirname, "..", "manifest.json"), "utf8"));
  const arxiv = manifest.content_scripts.find((s) => s.js.includes("arxiv.js"));
  assert.ok(arxiv.matches.includes("https://arxiv.org/a/*"));
});
