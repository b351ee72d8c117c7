// Mock interviews. The server keeps the clock and refuses late answers; this script only
// (1) counts down from the seconds the server said were left, announcing a few milestones to
//     screen readers, and opens the interview again at zero (the server then shows the review);
// (2) on the review, refreshes the body while the worker is still grading some answers;
// (3) on the start form, "Select all" and "Clear all" for the topic boxes.
(function () {
  "use strict";

  var toggle = document.querySelector(".mock-toggle");
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function (event) {
      var which = event.target.dataset && event.target.dataset.topics;
      if (!which) return;
      document.querySelectorAll('input[name="topic"]').forEach(function (box) { box.checked = which === "all"; });
    });
  }

  var timer = document.getElementById("mock-timer");
  if (timer) {
    var alertBox = document.getElementById("mock-timer-alert");
    // A monotonic clock from the page's load: the learner's wall clock may be wrong.
    var end = performance.now() + Number(timer.dataset.secondsLeft) * 1000;
    var milestones = [300, 60, 30];
    var reloaded = false;

    var format = function (seconds) {
      var m = Math.floor(seconds / 60);
      var s = seconds % 60;
      return m + ":" + (s < 10 ? "0" : "") + s;
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
        timer.classList.add("mock-timer-done");
        if (alertBox) alertBox.textContent = "Time is up.";
        if (!reloaded) {
          reloaded = true;
          // The server answers with the review once its own clock has passed the deadline.
          setTimeout(function () { window.location.assign(timer.dataset.expiredUrl); }, 600);
        }
        return;
      }
      if (left <= 60) timer.classList.add("mock-timer-low");
      setTimeout(tick, 250);
    };
    tick();
  }

  var review = document.getElementById("mock-review");
  if (review) {
    var status = document.getElementById("review-status");
    var pending = function () {
      var body = review.querySelector("[data-pending]");
      return body ? Number(body.dataset.pending) : 0;
    };
    var delay = 500;
    var giveUp = Date.now() + 5 * 60 * 1000;
    var poll = function () {
      fetch(review.dataset.bodyUrl, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("status " + response.status);
          return response.text();
        })
        .then(function (html) {
          var before = pending();
          review.innerHTML = html;
          var after = pending();
          if (status && after !== before) {
            status.textContent = after ? "Still grading " + after + " answer" + (after > 1 ? "s" : "") + "." : "All answers graded.";
          }
          schedule();
        })
        .catch(schedule);
    };
    var schedule = function () {
      if (!pending()) return;
      if (Date.now() > giveUp) {
        if (status) status.textContent = "Grading is taking longer than usual. Reload this page in a minute; your answers are safe.";
        return;
      }
      delay = Math.min(delay * 1.5, 3000);
      setTimeout(poll, delay);
    };
    if (pending()) setTimeout(poll, delay);
  }
})();
