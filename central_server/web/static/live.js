// Live parts of a page: an element with data-live="URL" is refreshed from URL (a server-rendered fragment)
// every data-live-every seconds (default 15) while the page is open; when a refresh fails the page says it is
// showing old data (ui.md) and keeps what it has. A date picker form with data-autosubmit submits on change.
(function () {
  "use strict";
  function refresh(el, stale) {
    fetch(el.dataset.live, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.redirected || r.status === 401) { window.location.reload(); return null; }
        if (!r.ok) { throw new Error(r.status); }
        return r.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        el.innerHTML = html;
        el.dataset.updated = new Date().toISOString();
        if (stale) { stale.hidden = true; }
      })
      .catch(function () { if (stale) { stale.hidden = false; } });
  }
  function start() {
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var every = Math.max(2, parseInt(el.dataset.liveEvery || "15", 10)) * 1000;
      var stale = document.getElementById(el.dataset.liveStale || "");
      setInterval(function () { if (!document.hidden) { refresh(el, stale); } }, every);
    });
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function () { form.requestSubmit ? form.requestSubmit() : form.submit(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
