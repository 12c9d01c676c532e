/* PRM page behaviour that needs no inline script (the Content-Security-Policy forbids it).
 *
 * Scroll containers a keyboard can reach: a table wrapper whose table is wider than the
 * screen becomes a focusable region named after its table (caption, else the heading of
 * its section), so keyboard users can scroll it and screen readers announce it.
 *
 * Forms report every error at once: the browser's own validation (which stops at the first
 * invalid field) is turned off where the server's error summary takes over, and a page that
 * comes back with errors puts focus on that summary. */
(function () {
  "use strict";

  function regionName(wrap) {
    var caption = wrap.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var section = wrap.closest("[aria-labelledby]");
    var heading = section && document.getElementById(section.getAttribute("aria-labelledby"));
    return heading ? heading.textContent.trim() : "Table";
  }

  function markScrollable() {
    document.querySelectorAll(".table-wrap").forEach(function (wrap) {
      if (wrap.scrollWidth > wrap.clientWidth + 1) {
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", regionName(wrap) + " (scrolls sideways)");
      } else if (wrap.getAttribute("role") === "region") {
        wrap.removeAttribute("tabindex");
        wrap.removeAttribute("role");
        wrap.removeAttribute("aria-label");
      }
    });
  }

  function formsReportAllErrors() {
    document.querySelectorAll("form[method=post], form[method=POST]").forEach(function (form) {
      if (form.querySelector(".field")) form.noValidate = true;
    });
    var summary = document.querySelector(".error-summary");
    if (summary) summary.focus();
  }

  /* Filters stay folded on a phone (the rows come first); a wide screen shows them open. */
  function openFiltersOnWideScreens() {
    if (!window.matchMedia("(min-width: 761px)").matches) return;
    document.querySelectorAll("details.filters-disclosure").forEach(function (details) {
      details.open = true;
    });
  }

  function ready() {
    openFiltersOnWideScreens();
    markScrollable();
    formsReportAllErrors();
  }

  var pending = null;
  function later() {
    window.clearTimeout(pending);
    pending = window.setTimeout(markScrollable, 100);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
  window.addEventListener("resize", later);
  document.addEventListener("htmx:afterSettle", markScrollable);
})();
