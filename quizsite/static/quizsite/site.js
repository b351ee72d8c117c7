// Every page: the CSRF token for scripts; and a box that scrolls sideways (a wide matrix, a
// formula, a table) shows a cue and can be reached and scrolled with the keyboard: it becomes a
// focusable, named region while it overflows, and stops being one when the window is wide enough. Checked on load, on resize and
// whenever a result or a problem is put in place (live.js).
(function () {
  "use strict";

  // The CSRF token for a script's POST: the form's own field, else the cookie (grid.js, code.js).
  window.quizsiteCsrfToken = function (el) {
    var form = el && el.closest && el.closest("form");
    var input = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  };

  var SELECTOR = ".prompt, .math-box, .grid-scroll, .table-scroll, .heatmap-box, .step-text, .score .feedback, .score .mistake, .hint-text, pre, " +
    ".choice > span, .match > span, .match-answers li, .explanation, .key li";

  function label(box) {
    if (box.classList.contains("math-box")) return "Formula: scrolls sideways";
    var named = box.closest("[data-part], fieldset, figure, section");
    var heading = named && named.querySelector("legend, label, h2, h3, figcaption");
    var text = heading ? heading.textContent.trim().replace(/\s+/g, " ").slice(0, 80) : "";
    return (text ? text + ": " : "") + "scrolls sideways";
  }

  function mark(root) {
    (root || document).querySelectorAll(SELECTOR).forEach(function (box) {
      var overflows = box.scrollWidth > box.clientWidth + 1;
      box.classList.toggle("scrolls", overflows);
      if (overflows && !box.hasAttribute("tabindex")) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", label(box));
        box.dataset.scrollRegion = "1";
      } else if (!overflows && box.dataset.scrollRegion) {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
        delete box.dataset.scrollRegion;
      }
    });
  }

  var pending = null;
  function soon() {
    if (pending) return;
    pending = setTimeout(function () { pending = null; mark(); }, 100);
  }
  window.addEventListener("resize", soon);
  document.addEventListener("result-shown", soon);
  document.addEventListener("problem-replaced", soon);
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { mark(); });
  else mark();
  window.addEventListener("load", soon);  // fonts and formulas laid out
})();
