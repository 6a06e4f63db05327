// Starts the content script: badges on the page, the record of what is seen, and answers
// to the toolbar popup.
"use strict";

(function () {
  const send = (message) => chrome.runtime.sendMessage(message);
  const settings = () => chrome.storage.local.get(["record", "recordSites"]);
  const incognito = Boolean(chrome.extension && chrome.extension.inIncognitoContext);
  let recorder = seenpapers.recorder({ document, location, send, settings, incognito });
  const page = seenpapers.annotator({
    document, location, readers: seenpapers.readers, send, onItem: (item, key) => recorder.watch(item, key),
  });
  page.start();
  recorder.start();

  // The switch in the popup or the options page takes effect on this page at once.
  chrome.storage.onChanged.addListener((changes, area) => {
    if (area !== "local" || !("record" in changes || "recordSites" in changes)) return;
    recorder.stop();
    recorder = seenpapers.recorder({ document, location, send, settings, incognito });
    recorder.start().then(() => page.scan());
  });

  chrome.runtime.onMessage.addListener((message, sender, reply) => {
    if (sender.id !== chrome.runtime.id) return false;
    if (message.type === "page") {
      const active = seenpapers.readers.some((reader) => reader.matches(location));
      page.summary().then((summary) => reply({ ok: true, active, recording: recorder.enabled(), ...summary }));
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
