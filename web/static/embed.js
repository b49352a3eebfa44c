// Frontdesk's enquiry form on a clinic's own page. One tag does it:
//   <script src="https://frontdesk.clinic.example/embed.js" async></script>
// It inserts an iframe of /enquire where the tag is (or into the element with the attribute
// data-frontdesk-form) and keeps the iframe as tall as the page inside it, which tells its height with
// postMessage. Only messages from Frontdesk's own origin, from that iframe, carrying a height are heeded.
// Optional attributes, on the tag or the element: data-treatment="adhd" (preselects the treatment) and
// data-title (the iframe's title, "Enquiry form" by default). The page's utm_source, utm_medium and
// utm_campaign are passed on. Without JavaScript, the clinic's page can hold the iframe itself (see the README).
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src || !window.URL) return;
  var origin = new URL(script.src).origin;
  var holder = document.querySelector("[data-frontdesk-form]");
  function attr(name) {
    return (holder && holder.getAttribute(name)) || script.getAttribute(name) || "";
  }

  var src = new URL("/enquire", origin);
  var here = new URLSearchParams(window.location.search);
  ["utm_source", "utm_medium", "utm_campaign"].forEach(function (k) {
    var v = here.get(k);
    if (v) src.searchParams.set(k, v.slice(0, 100));
  });
  if (attr("data-treatment")) src.searchParams.set("treatment", attr("data-treatment"));

  var frame = document.createElement("iframe");
  frame.src = src.href;
  frame.title = attr("data-title") || "Enquiry form";
  frame.setAttribute("data-frontdesk-frame", "");
  // Tall enough for the form on a phone until the page inside tells its height.
  frame.style.cssText = "display:block;width:100%;max-width:100%;height:1600px;border:0;overflow:hidden;";

  function place() {
    if (holder) holder.appendChild(frame);
    else if (script.parentNode && script.parentNode !== document.head) script.parentNode.insertBefore(frame, script.nextSibling);
    else document.body.appendChild(frame);
  }
  if (!holder && script.parentNode === document.head && document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", place);
  } else {
    place();
  }

  window.addEventListener("message", function (e) {
    if (e.origin !== origin || e.source !== frame.contentWindow) return;
    var d = e.data;
    if (!d || typeof d !== "object") return;
    var height = d["frontdesk-height"];
    if (typeof height !== "number" || !isFinite(height) || height < 50 || height > 100000) return;
    frame.style.height = Math.ceil(height) + "px";
  });

  // After the form is sent (a new page inside the frame), bring the frame's top into view: the answer starts
  // there, and the patient was at the bottom of a long form.
  var loads = 0;
  frame.addEventListener("load", function () {
    loads += 1;
    if (loads > 1 && frame.getBoundingClientRect().top < 0) frame.scrollIntoView({ block: "start" });
  });
})();
