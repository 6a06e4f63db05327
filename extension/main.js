// Starts the content script: badges on the page, and answers to the toolbar popup.
"use strict";

(function () {
  const send = (message) => chrome.runtime.sendMessage(message);
  const page = seenpapers.annotator({ document, location, readers: seenpapers.readers, send });
  page.start();

  chrome.runtime.onMessage.addListener((message, sender, reply) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (message.type === "page") {
      const active = seenpapers.readers.some((reader) => reader.matches(location));
      page.summary().then((summary) => reply({ ok: true, active, ...summary }));
      return true; // the reply comes when the lookup under way is done
    }
    if (message.type === "capture") {
      seenpapers.capture(document, location, send).then((answer) => {
        reply(answer);
        // The daemon ingests a capture in a fraction of a second: then ask again, so the
        // page's papers show as seen.
        if (answer && answer.ok) setTimeout(() => page.refresh(), 1500);
      });
      return true; // the reply comes later
    }
    return false;
  });
})();
