// web-ext (lint, run, build) reads this: the extension is this folder minus the tools.
export default {
  ignoreFiles: ["tests", "package.json", "package-lock.json", "web-ext-config.mjs"],
};
