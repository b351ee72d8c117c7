// Quiz attempts. The server keeps the clock, refuses late answers and submits an attempt at its
// deadline; this script only
// (1) counts down from the seconds the server said were left, announcing a few milestones to
//     screen readers, and reloads the attempt at zero (the server then shows it as submitted);
// (2) on a review whose answers are still being graded, reloads the page a few times.
(function () {
  "use strict";

  var timer = document.getElementById("quiz-timer");
  if (timer) {
    var alertBox = document.getElementById("quiz-timer-alert");
    // A monotonic clock from the page's load: the learner's wall clock may be wrong.
    var end = performance.now() + Number(timer.dataset.secondsLeft) * 1000;
    var milestones = [300, 60, 30];
    var reloaded = false;

    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    var format = function (seconds) {
      var h = Math.floor(seconds / 3600);
      var m = Math.floor((seconds % 3600) / 60);
      var s = seconds % 60;
      return h ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
    };
    var tick = function () {
      var left = Math.max(0, Math.ceil((end - performance.now()) / 1000));
      timer.textContent = format(left);
      while (milestones.length && left <= milestones[0]) {
        var mark = milestones.shift();
        if (alertBox && left > 0 && left > mark - 5) {
          alertBox.textContent = mark >= 60 ? (mark / 60) + " minute" + (mark > 60 ? "s" : "") + " left" : mark + " seconds left";
        }
      }
      if (left <= 0) {
        timer.classList.add("quiz-timer-done");
        if (alertBox) alertBox.textContent = "Time is up.";
        if (!reloaded) {
          reloaded = true;
          // A little after zero, so the server's clock has passed the deadline too.
          setTimeout(function () { window.location.assign(timer.dataset.expiredUrl); }, 800);
        }
        return;
      }
      if (left <= 60) timer.classList.add("quiz-timer-low");
      setTimeout(tick, 250);
    };
    tick();
  }

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
