// The board's and roll-call's live parts, beside live.js (which swaps the fragment in): after each swap, the
// "showing data from HH:MM" note takes the time of the data now shown (the fragment's data-as-of), and a
// scrolled table (data-keep-scroll) keeps its place instead of jumping back to the top every refresh.
(function () {
  "use strict";
  var scrolls = {};
  document.addEventListener("scroll", function (ev) {
    var el = ev.target;
    if (el && el.dataset && el.dataset.keepScroll) {
      scrolls[el.dataset.keepScroll] = [el.scrollTop, el.scrollLeft];
    }
  }, true);
  function swapped(live) {
    var frame = live.querySelector("[data-as-of]");
    var stale = document.getElementById(live.dataset.liveStale || "");
    if (frame && stale && stale.dataset.template) {
      stale.textContent = stale.dataset.template.replace("%(t)s", frame.dataset.asOf);
    }
    live.querySelectorAll("[data-keep-scroll]").forEach(function (el) {
      var at = scrolls[el.dataset.keepScroll];
      if (at) { el.scrollTop = at[0]; el.scrollLeft = at[1]; }
    });
  }
  function start() {
    document.querySelectorAll("[data-live]").forEach(function (live) {
      new MutationObserver(function () { swapped(live); }).observe(live, { childList: true });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
