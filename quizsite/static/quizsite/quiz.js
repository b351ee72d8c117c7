// Quiz attempts (the countdown is countdown.js): on a review whose answers are still being
// graded, reload the page a few times.
(function () {
  "use strict";

  var pending = document.querySelector("[data-reload-while-pending]");
  if (pending) {
    var key = "quiz-reloads:" + window.location.pathname;
    var count = Number(sessionStorage.getItem(key) || 0);
    if (count < 40) {
      sessionStorage.setItem(key, String(count + 1));
      setTimeout(function () { window.location.reload(); }, Math.min(1000 + count * 250, 4000));
    } else {
      pending.textContent = "Grading is taking longer than usual. Reload this page in a minute; your answers are safe.";
    }
  } else {
    try { sessionStorage.removeItem("quiz-reloads:" + window.location.pathname); } catch (e) { /* private mode */ }
  }
})();
