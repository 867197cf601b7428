// Dashboard's one script. Pages work without it; with it, a page follows its organization's
// changes live: the server-sent events of /orgs/{org}/events name what changed, and the page
// fetches itself again and swaps in each element marked data-live (same id). EventSource
// reconnects by itself after a lost connection and the server then says "resync".
(function () {
  "use strict";
  var source = document.body.getAttribute("data-events");
  if (!source || !window.EventSource || !window.fetch) return;
  var status = document.querySelector("[data-live-status]");
  var pending = null;
  var busy = false;

  function say(text) { if (status) status.textContent = text; }

  function refresh() {
    if (busy) { pending = pending || setTimeout(run, 250); return; }
    run();
  }

  function run() {
    pending = null;
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) return;
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live][id]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (!next || next.innerHTML === old.innerHTML) return;
          if (old.contains(document.activeElement)) return; // never pull a control from under the keyboard
          old.innerHTML = next.innerHTML;
          old.classList.remove("updated");
          void old.offsetWidth;
          old.classList.add("updated");
        });
        document.body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }

  // A page the browser keeps in its back/forward cache must let its stream go (a browser allows
  // a handful of connections per host: held streams would stall the next pages); shown again, it
  // reopens the stream and catches up.
  var events = null;
  function open() {
    events = new EventSource(source);
    events.addEventListener("change", function () { refresh(); });
    events.addEventListener("open", function () { say(""); });
    events.addEventListener("error", function () { say("Live updates paused; reconnecting…"); });
  }
  window.addEventListener("pagehide", function () {
    if (events) { events.close(); events = null; }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && !events) { open(); refresh(); }
  });
  open();
})();
