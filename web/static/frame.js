// Frontdesk's patient pages inside a clinic's own website (FRONTDESK_FRAME_ANCESTORS): tell the page around the
// iframe how tall this page is, so that /embed.js there can size the iframe to it. Nothing else is sent, and
// only to the origins this server allows to frame it. Outside a frame it does nothing.
(function () {
  "use strict";
  if (window.parent === window) return;
  var script = document.currentScript;
  var origins = ((script && script.getAttribute("data-origins")) || "").split(/\s+/).filter(Boolean);
  if (!origins.length) return;
  var last = 0;
  function report() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height <= 0 || height === last) return;
    last = height;
    // A message to an origin that is not the embedding page's is dropped by the browser.
    origins.forEach(function (origin) {
      window.parent.postMessage({ "frontdesk-height": height }, origin);
    });
  }
  if (window.ResizeObserver) new ResizeObserver(report).observe(document.documentElement);
  window.addEventListener("load", report);
  window.addEventListener("resize", report);
  report();
})();
