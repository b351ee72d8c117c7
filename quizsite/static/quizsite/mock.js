// Mock interviews (the countdown is countdown.js): on the review, refresh the body while the
// worker is still grading some answers; on the start form, "Select all" and "Clear all".
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
