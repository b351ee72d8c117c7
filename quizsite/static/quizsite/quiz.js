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

// A start refused for a moment while the worker prepares the problems (202): press Start again
// after the server's Retry-After, a bounded number of times.
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
