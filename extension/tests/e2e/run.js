// Runs the end-to-end suite: `node tests/e2e/run.js [chromium|firefox]...` (both by default;
// or $SEENPAPERS_E2E_BROWSERS). `npm run e2e -- firefox` does the same. The files are
// tests/e2e/*.e2e.js, a name plain `node --test` does not pick up.
"use strict";

const { spawnSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const passed = process.argv.slice(2).filter((a) => a.startsWith("-"));
const env = { ...process.env, PUPPETEER_SKIP_DOWNLOAD: "1" };
if (wanted.length) env.SEENPAPERS_E2E_BROWSERS = wanted.join(",");
const files = fs.readdirSync(__dirname).filter((f) => f.endsWith(".e2e.js")).sort().map((f) => path.join(__dirname, f));
// One file at a time: each starts its own browsers and daemons, and timing (a card on screen
// for a second) should not depend on what else runs on the machine's two cores.
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...passed, ...files], { stdio: "inherit", env });
process.exit(result.status ?? 1);
