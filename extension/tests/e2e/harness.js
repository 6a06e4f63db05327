// End-to-end harness: the real daemon, and the real extension (this folder, as is) in Debian's
// Firefox ESR and Chromium driven by puppeteer-core (Firefox over WebDriver BiDi, Chromium over
// CDP). Pages are served at their real addresses (https://huggingface.co/…, https://arxiv.org/…)
// by puppeteer's request interception; nothing else leaves the machine. See README.md here.
"use strict";

const childProcess = require("node:child_process");
const crypto = require("node:crypto");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");
const util = require("node:util");

process.env.PUPPETEER_SKIP_DOWNLOAD = "1"; // puppeteer-core downloads nothing anyway
const puppeteer = require("puppeteer-core");

const execFile = util.promisify(childProcess.execFile);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const EXTENSION = path.resolve(__dirname, "..", "..");
const REPO = path.resolve(EXTENSION, "..");
const FIXTURES = path.join(REPO, "tests", "fixtures");
const PAGES = path.join(FIXTURES, "pages");
const VENV = path.join(REPO, ".venv", "bin");
const GECKO_ID = "seenpapers@seenpapers.local";
// The extension's moz-extension:// host in Firefox, fixed by a preference so tests know it.
const FIREFOX_UUID = "5ee0a9e2-6e7e-4d7b-9a3b-2c1f0e5d7a11";
const BROWSERS = ["chromium", "firefox"];
const EXECUTABLES = { chromium: ["chromium"], firefox: ["firefox-esr", "firefox"] };

function which(names) {
  for (const name of names) {
    for (const dir of (process.env.PATH || "").split(path.delimiter)) {
      const candidate = path.join(dir, name);
      try {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {
        // not here
      }
    }
  }
  return null;
}

/** The browser's executable, or null when it is not installed. */
function executable(name) {
  if (!EXECUTABLES[name]) throw new Error(`unknown browser ${name}: one of ${BROWSERS.join(", ")}`);
  return which(EXECUTABLES[name]);
}

/** The browsers to test: $SEENPAPERS_E2E_BROWSERS (comma-separated) or both. */
function browsersToTest() {
  const wanted = (process.env.SEENPAPERS_E2E_BROWSERS || BROWSERS.join(","))
    .split(",").map((s) => s.trim()).filter(Boolean);
  for (const name of wanted) executable(name); // throws on a name we do not know
  return wanted;
}

/** Why a browser's tests are skipped (a string for node:test's `skip`), or false. */
function skipReason(name) {
  if (executable(name)) return false;
  return `${EXECUTABLES[name].join(" or ")} is not on PATH (./scripts/test installs it with apt when run as root)`;
}

// --- the daemon ----------------------------------------------------------------------------

/** A `seenpapers run` process on a loopback port, with a small client and database access. */
class Daemon {
  constructor({ dataDir, samples, args }) {
    this.dataDir = dataDir;
    this.inbox = path.join(dataDir, "inbox");
    this.db = path.join(dataDir, "seenpapers.db");
    this.logFile = path.join(path.dirname(dataDir), "daemon.log");
    this.samples = samples;
    this.args = args;
    this.port = 0; // any free port the first time; the same one on every start after
    this.proc = null;
    this.url = null;
    this.token = null;
  }

  /** Start (or start again, on the same data dir and port); resolves once health answers. */
  async start() {
    if (this.proc) throw new Error("the daemon is already running");
    fs.mkdirSync(this.dataDir, { recursive: true });
    const log = fs.openSync(this.logFile, "a");
    const args = ["run", "--data-dir", this.dataDir, "--port", String(this.port), "--no-datasette",
      ...(this.samples ? ["--samples"] : []), ...this.args];
    const proc = childProcess.spawn(path.join(VENV, "seenpapers"), args, { stdio: ["ignore", "pipe", log] });
    fs.closeSync(log);
    this.proc = proc;
    proc.on("exit", () => { if (this.proc === proc) this.proc = null; });
    const line = await new Promise((resolve, reject) => {
      let out = "";
      const timer = setTimeout(() => reject(new Error(`the daemon did not start in 30 s\n${this.log()}`)), 30_000);
      proc.stdout.on("data", (chunk) => {
        out += chunk;
        if (out.includes("\n")) { clearTimeout(timer); resolve(out.split("\n")[0]); }
      });
      proc.on("exit", (code) => { clearTimeout(timer); reject(new Error(`the daemon exited (${code}) before listening\n${this.log()}`)); });
    });
    const match = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/.exec(line.trim());
    if (!match) throw new Error(`unexpected first line from the daemon: ${line}`);
    proc.stdout.resume(); // later lines are not read: keep the pipe drained
    this.url = match[1];
    this.port = Number(match[2]);
    this.token = fs.readFileSync(path.join(this.dataDir, "token"), "utf8").trim();
    await this.waitFor(async () => (await this.health().catch(() => null)) !== null, { what: "the daemon's health" });
    return this;
  }

  /** SIGTERM and wait for the exit; returns the exit code. */
  async stop() {
    const proc = this.proc;
    if (!proc) return null;
    if (proc.exitCode !== null) { this.proc = null; return proc.exitCode; }
    const exited = new Promise((resolve) => proc.once("exit", (code, signal) => resolve(code ?? signal)));
    proc.kill("SIGTERM");
    const timer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const code = await exited;
    clearTimeout(timer);
    this.proc = null;
    return code;
  }

  /** Stop, and remove the data dir and log (kept when $SEENPAPERS_E2E_KEEP is set). */
  async cleanup() {
    await this.stop();
    if (process.env.SEENPAPERS_E2E_KEEP) {
      process.stderr.write(`kept the daemon's data dir ${this.dataDir}\n`);
      return;
    }
    fs.rmSync(path.dirname(this.dataDir), { recursive: true, force: true });
  }

  get running() {
    return this.proc !== null;
  }

  log() {
    try {
      return fs.readFileSync(this.logFile, "utf8");
    } catch {
      return "";
    }
  }

  /**
   * One API call: `json` (an object) or `{raw, contentType}` as the body.
   * Resolves to {status, headers, body} (body parsed as JSON when it is JSON, else text).
   */
  async request(method, urlPath, json, { token = true, raw, contentType = "application/json", headers = {} } = {}) {
    const all = { ...headers };
    let body;
    if (raw !== undefined) {
      body = raw;
      all["Content-Type"] = contentType;
    } else if (json !== undefined) {
      body = JSON.stringify(json);
      all["Content-Type"] = "application/json";
    }
    if (token) all.Authorization = `Bearer ${this.token}`;
    const response = await fetch(this.url + urlPath, { method, headers: all, body, signal: AbortSignal.timeout(30_000) });
    const text = await response.text();
    let parsed = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: the text
    }
    return { status: response.status, headers: response.headers, body: parsed };
  }

  async health() {
    const { status, body } = await this.request("GET", "/api/v1/health", undefined, { token: false });
    if (status !== 200) throw new Error(`health answered ${status}`);
    return body;
  }

  /** Lookup results for `papers`: titles (strings) or lookup items ({title, arxiv_id, …}). */
  async lookup(papers) {
    const items = (Array.isArray(papers) ? papers : [papers]).map((p) => (typeof p === "string" ? { title: p } : p));
    const { status, body } = await this.request("POST", "/api/v1/lookup", { papers: items });
    if (status !== 200) throw new Error(`lookup answered ${status}: ${JSON.stringify(body)}`);
    return body.results;
  }

  /** Post a digest (a string, or an object sent as JSON) as the extension would; the file name. */
  async postDigest(name, content) {
    const raw = typeof content === "string" ? content : JSON.stringify(content);
    const { status, body } = await this.request("POST", `/api/v1/digests?name=${encodeURIComponent(name)}`, undefined,
      { raw, contentType: typeof content === "string" ? "text/plain; charset=utf-8" : "application/json" });
    if (status !== 202) throw new Error(`digests answered ${status}: ${JSON.stringify(body)}`);
    return body;
  }

  /** Rows (objects) of a read-only query on the daemon's database; params are bound (?). */
  async sql(query, params = []) {
    const script = [
      "import json, sqlite3, sys",
      "conn = sqlite3.connect('file:' + sys.argv[1] + '?mode=ro', uri=True, timeout=10)",
      "conn.row_factory = sqlite3.Row",
      "rows = [dict(r) for r in conn.execute(sys.argv[2], json.loads(sys.argv[3]))]",
      "print(json.dumps(rows, default=str))",
    ].join("\n");
    const { stdout } = await execFile(path.join(VENV, "python"), ["-c", script, this.db, query, JSON.stringify(params)],
      { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout);
  }

  /** {digests, papers, sightings, duplicates, reads, failures}: the tables' row counts. */
  async counts() {
    const tables = ["digests", "papers", "sightings", "duplicates", "reads", "failures"];
    const [row] = await this.sql(`SELECT ${tables.map((t) => `(SELECT count(*) FROM ${t}) AS ${t}`).join(", ")}`);
    return row;
  }

  /** Poll `predicate` (sync or async) until it returns something truthy; returns it. */
  async waitFor(predicate, { timeout = 20_000, interval = 50, what = "a condition" } = {}) {
    const deadline = Date.now() + timeout;
    let last;
    while (Date.now() < deadline) {
      try {
        const value = await predicate();
        if (value) return value;
      } catch (error) {
        last = error;
      }
      await sleep(interval);
    }
    throw new Error(`timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ""}\n` +
      `daemon log:\n${this.log().slice(-4000)}`);
  }

  /**
   * Wait until the daemon is idle: with `digests` (and `failures`), until the database holds
   * at least that many; without, until every file now in the inbox is ingested or failed
   * (its bytes' SHA-256 is a digest's or a failure's, or its path is a failure's).
   * Resolves to the table counts.
   */
  async waitIdle({ digests, failures = 0, timeout = 20_000 } = {}) {
    if (digests !== undefined) {
      return this.waitFor(async () => {
        const c = await this.counts();
        return c.digests >= digests && c.failures >= failures && c;
      }, { timeout, what: `${digests} digests and ${failures} failures` });
    }
    return this.waitFor(async () => {
      const pending = await this.pendingFiles();
      return pending.length === 0 && this.counts();
    }, { timeout, what: "every file in the inbox to be processed" });
  }

  /** Files in the inbox that the database knows nothing of yet. */
  async pendingFiles() {
    const files = fs.readdirSync(this.inbox, { withFileTypes: true })
      .filter((d) => d.isFile() && !d.name.startsWith(".")).map((d) => path.join(this.inbox, d.name));
    if (!files.length) return [];
    const known = new Set();
    for (const row of await this.sql("SELECT sha256 AS k FROM digests UNION SELECT sha256 FROM failures"
      + " UNION SELECT path FROM failures UNION SELECT path FROM digests")) known.add(row.k);
    return files.filter((file) => {
      if (known.has(file)) return false;
      const sha = crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");
      return !known.has(sha);
    });
  }
}

/**
 * Start the real daemon on a new temporary data dir (with the five sample digests unless
 * `samples: false`) and wait until the samples are in. Returns a Daemon: url, port, token,
 * dataDir, inbox, request(), lookup(), postDigest(), sql(), counts(), waitFor(), waitIdle(),
 * pendingFiles(), stop(), start(), cleanup() (stop and remove the temporary folder).
 */
async function startDaemon({ samples = true, args = [] } = {}) {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "seenpapers-e2e-"));
  const daemon = new Daemon({ dataDir: path.join(root, "data"), samples, args });
  await daemon.start();
  if (samples) await daemon.waitIdle({ digests: 5 });
  return daemon;
}

// --- pages at their real addresses -----------------------------------------------------------

/** The fixture standing in for a real page address, or null (404); as tests/test_extension.py. */
function fixturePage(url) {
  let m;
  if ((m = /^https:\/\/huggingface\.co\/papers(?:\/(\d{4}\.\d{4,5}))?(?:[/?#]|$)/.exec(url))) {
    return path.join(PAGES, m[1] ? "hf-paper.html" : "hf-daily.html");
  }
  if (/^https:\/\/(www\.)?arxiv\.org\/list\//.test(url)) return path.join(PAGES, "arxiv-list.html");
  if (/^https:\/\/(www\.)?arxiv\.org\/abs\//.test(url)) return path.join(PAGES, "arxiv-abs.html");
  if (/^https:\/\/(www\.)?arxiv\.org\/search\//.test(url)) return path.join(PAGES, "arxiv-search.html");
  return null;
}

const SITES = /^https:\/\/(huggingface\.co|(www\.)?arxiv\.org)\//;
const LOOPBACK = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//;
const LOCAL_SCHEMES = /^(data|blob|about|chrome-extension|moz-extension|chrome|devtools):/;

function normaliseResponse(answer) {
  if (answer === null || answer === undefined) return null;
  if (typeof answer === "string" || Buffer.isBuffer(answer)) {
    return { status: 200, contentType: "text/html; charset=utf-8", body: answer };
  }
  return { status: 200, contentType: "text/html; charset=utf-8", ...answer };
}

// --- browsers --------------------------------------------------------------------------------

const CHROMIUM_ARGS = [
  "--no-sandbox", // as root, Chromium's sandbox refuses to start
  "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync",
  "--no-first-run", "--no-default-browser-check", "--disable-default-apps", "--metrics-recording-only",
  "--disable-features=MediaRouter,OptimizationHints,Translate,AutofillServerCommunication",
  // Nothing that interception does not answer resolves: every name but loopback is unknown.
  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
];

// Firefox: every connection that interception does not answer goes to a proxy that is not there
// (loopback is never proxied), so nothing leaves the machine; no DNS, captive portal, updates.
const FIREFOX_PREFS = {
  [`extensions.webextensions.uuids`]: JSON.stringify({ [GECKO_ID]: FIREFOX_UUID }),
  "network.proxy.type": 1,
  "network.proxy.http": "127.0.0.1",
  "network.proxy.http_port": 9,
  "network.proxy.ssl": "127.0.0.1",
  "network.proxy.ssl_port": 9,
  "network.proxy.share_proxy_settings": false,
  "network.proxy.no_proxies_on": "",
  "network.proxy.allow_hijacking_localhost": false,
  "network.dns.disablePrefetch": true,
  "network.prefetch-next": false,
  // Names are resolved only by a DNS-over-HTTPS server that is not there ("TRR only"): a
  // lookup that slips past the proxy fails on this machine instead of asking the resolver.
  "network.trr.mode": 3,
  "network.trr.uri": "https://127.0.0.1:9/dns-query",
  "network.trr.confirmationNS": "skip",
  // Remote Settings (its Rust client looks firefox.settings.services.mozilla.com up itself);
  // release builds honour this only with MOZ_REMOTE_SETTINGS_DEVTOOLS=1 in the environment.
  "services.settings.server": "http://127.0.0.1:9/v1",
  "network.captive-portal-service.enabled": false,
  "network.connectivity-service.enabled": false,
  "app.update.enabled": false,
  "browser.safebrowsing.malware.enabled": false,
  "browser.safebrowsing.phishing.enabled": false,
  "extensions.getAddons.cache.enabled": false,
  "datareporting.policy.dataSubmissionEnabled": false,
  "toolkit.telemetry.enabled": false,
};

/**
 * A browser with the extension loaded. `name`: 'chromium' or 'firefox'. Options:
 * - `storage`: values set in the extension's chrome.storage.local before any page opens
 *   (e.g. {apiBase, token, record: false});
 * - `prefs`: more Firefox preferences (e.g. {"extensions.originControls.grantByDefault": false});
 * - `args`: more Chromium arguments.
 * Resolves to a Session (see the class).
 */
async function launch(name, { storage = null, prefs = {}, args = [], headless = true } = {}) {
  const executablePath = executable(name);
  if (!executablePath) throw new Error(skipReason(name));
  const session = new Session(name);
  if (name === "firefox") {
    session.browser = await puppeteer.launch({
      browser: "firefox", executablePath, headless,
      // WebDriver BiDi refuses to navigate to moz-extension:// pages unless system access is allowed.
      args: ["--remote-allow-system-access", ...args],
      extraPrefsFirefox: { ...FIREFOX_PREFS, ...prefs },
      env: { ...process.env, MOZ_REMOTE_SETTINGS_DEVTOOLS: "1" },
    });
    const id = await session.browser.installExtension(EXTENSION); // temporary, like about:debugging
    if (id !== GECKO_ID) throw new Error(`the extension was installed as ${id}, not ${GECKO_ID}`);
    session.extensionOrigin = `moz-extension://${FIREFOX_UUID}`;
  } else {
    session.browser = await puppeteer.launch({
      browser: "chrome", executablePath, headless,
      pipe: true, enableExtensions: [EXTENSION], // --load-extension over the pipe, new headless
      args: [...CHROMIUM_ARGS, ...args],
    });
    const worker = await session.browser.waitForTarget(
      (t) => t.type() === "service_worker" && t.url().startsWith("chrome-extension://"), { timeout: 15_000 });
    session.extensionOrigin = /^chrome-extension:\/\/[a-p]{32}/.exec(worker.url())[0];
    session.worker = worker;
  }
  session.extensionId = session.extensionOrigin.split("/")[2];
  // An extension document with no script of its own, kept open to reach chrome.* APIs.
  session.control = await session.openExtensionPage("icons/icon-16.png");
  if (storage) await session.setStorage(storage);
  return session;
}

/**
 * One browser with the extension: `name`, `browser` (puppeteer's Browser), `extensionId`,
 * `extensionOrigin`, `control` (an extension page kept open to reach chrome.* APIs).
 */
class Session {
  constructor(name) {
    this.name = name;
    this.browser = null;
    this.routes = []; // [{match, respond}], the newest first
    this.requests = []; // [url (cut at 200 characters), what was done] for every request a page made
  }

  /** The extension page's address: 'options.html' → moz-extension://…/options.html. */
  extensionUrl(file) {
    return `${this.extensionOrigin}/${file.replace(/^\//, "")}`;
  }

  /**
   * Open an extension page (options.html, popup.html?tab=N) in a new tab; resolves to the
   * Page once its document is complete. In Firefox, BiDi reports no load for moz-extension
   * documents, so the navigation is not awaited: the document is polled.
   */
  async openExtensionPage(file) {
    const url = this.extensionUrl(file);
    const page = await this.browser.newPage();
    if (this.name === "chromium") {
      await page.goto(url);
      return page;
    }
    page.goto(url, { timeout: 20_000 }).catch(() => {}); // never reports a load; see above
    const deadline = Date.now() + 15_000;
    while (Date.now() < deadline) {
      const state = await page.evaluate(() => [location.href, document.readyState]).catch(() => null);
      if (state && state[0] === url && state[1] === "complete") return page;
      await sleep(50);
    }
    throw new Error(`${url} did not load in Firefox`);
  }

  /** chrome.storage.local.set(values) in the extension. */
  async setStorage(values) {
    await this.control.evaluate((v) => chrome.storage.local.set(v), values);
  }

  /** chrome.storage.local.get(keys) in the extension (null: everything). */
  async getStorage(keys = null) {
    return this.control.evaluate((k) => chrome.storage.local.get(k), keys);
  }

  /** chrome.storage.local.remove(keys). */
  async removeStorage(keys) {
    await this.control.evaluate((k) => chrome.storage.local.remove(k), keys);
  }

  /** Run `fn(arg)` in the control extension page (chrome.* is there); its result. */
  async inExtension(fn, arg) {
    return this.control.evaluate(fn, arg);
  }

  /** The id of the newest tab showing `url` (for popup.html?tab=N). */
  async tabId(url) {
    return this.control.evaluate(async (u) => {
      const tabs = await chrome.tabs.query({ url: u });
      if (!tabs.length) throw new Error(`no tab shows ${u}`);
      return Math.max(...tabs.map((t) => t.id));
    }, url);
  }

  /**
   * Serve a page at a real address: `match` is a URL string, a RegExp or a function of the URL;
   * `respond(url)` returns HTML (string/Buffer), {status, contentType, headers, body} or null
   * (404), or is itself such a value. The newest route wins; fixtures come last. Returns a
   * function that removes the route.
   */
  servePage(match, respond) {
    const test = typeof match === "string" ? (url) => url === match
      : match instanceof RegExp ? (url) => match.test(url) : match;
    const route = { test, respond: typeof respond === "function" ? respond : () => respond };
    this.routes.unshift(route);
    return () => { this.routes = this.routes.filter((r) => r !== route); };
  }

  async #answer(request) {
    const url = request.url();
    const shown = url.length > 200 ? `${url.slice(0, 200)}…` : url;
    if (request.isInterceptResolutionHandled()) return;
    try {
      if (LOCAL_SCHEMES.test(url) || LOOPBACK.test(url)) {
        this.requests.push([shown, "continue"]);
        return await request.continue(); // the daemon, the extension's own files
      }
      for (const route of this.routes) {
        if (route.test(url)) {
          const answer = normaliseResponse(await route.respond(url));
          this.requests.push([shown, answer ? answer.status : 404]);
          return await request.respond(answer || { status: 404, contentType: "text/plain", body: "not found" });
        }
      }
      if (SITES.test(url) && request.isNavigationRequest()) {
        const file = fixturePage(url);
        this.requests.push([shown, file ? path.basename(file) : 404]);
        if (!file) return await request.respond({ status: 404, contentType: "text/plain", body: "not found" });
        return await request.respond({ status: 200, contentType: "text/html; charset=utf-8", body: fs.readFileSync(file) });
      }
      this.requests.push([shown, "aborted"]);
      return await request.abort(); // thumbnails, avatars, fonts: nothing leaves the machine
    } catch (error) {
      if (!/closed|detached|Target|No resource|already handled/i.test(String(error && error.message))) throw error;
    }
  }

  /** A new tab whose requests are answered as above (no navigation yet). */
  async newPage() {
    const page = await this.browser.newPage();
    await page.setRequestInterception(true);
    page.on("request", (request) => { this.#answer(request); });
    return page;
  }

  /** A new tab showing `url`, served as above; resolves once it has loaded. */
  async openPage(url, { waitUntil = "load" } = {}) {
    const page = await this.newPage();
    await page.goto(url, { waitUntil });
    return page;
  }

  async close() {
    if (this.browser) await this.browser.close().catch(() => {});
    this.browser = null;
  }
}

// --- what pages show -------------------------------------------------------------------------

/** Wait until `selector` matches at least `count` cards; [[status, badge text], …] of all. */
async function marks(page, count, selector = "[data-seenpapers]", { timeout = 10_000 } = {}) {
  await page.waitForFunction((s, n) => document.querySelectorAll(s).length >= n, { timeout, polling: 50 }, selector, count);
  return page.$$eval(selector, (cards) => cards.map((c) => {
    const badge = c.querySelector(".seenpapers-badge");
    return [c.dataset.seenpapers, badge ? badge.textContent : null];
  }));
}

/** Wait until `fn(arg)` is truthy in the page; its value. */
async function waitInPage(page, fn, arg, { timeout = 10_000 } = {}) {
  const handle = await page.waitForFunction(fn, { timeout, polling: 50 }, arg);
  return handle.jsonValue();
}

module.exports = {
  startDaemon, Daemon, launch, Session, marks, waitInPage, fixturePage, browsersToTest, skipReason, executable,
  sleep, EXTENSION, REPO, FIXTURES, PAGES, FIREFOX_UUID, GECKO_ID, BROWSERS,
};
