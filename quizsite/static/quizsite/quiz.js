// A quiz start refused for a moment while the worker prepares the problems (202): press Start
// again after the server's Retry-After, a bounded number of times. (A review still being graded
// fills in by itself through live.js.)
(function () {
  "use strict";

  var form = document.querySelector("form[data-submit-after]");
  var key = "quiz-start-retries:" + window.location.pathname;
  if (!form) {
    try { sessionStorage.removeItem(key); } catch (e) { /* private mode */ }
    return;
  }
  var tries = Number(sessionStorage.getItem(key) || 0);
  if (tries >= 15) {
    return;  // the notice and the Start button stay: the learner can press it
  }
  sessionStorage.setItem(key, String(tries + 1));
  setTimeout(function () { form.submit(); }, Number(form.dataset.submitAfter) * 1000);
})();
