// Shows a submission's result as soon as the worker has graded it. One long poll at a time: the
// server answers the moment the grade is stored (or after `wait` seconds, 202, and we ask again),
// so the result appears within milliseconds of its grading without hammering the server. The
// server renders the result fragment, so there is one template for it. inplace.js calls
// `quizsitePollResult(box)` for an answer it has just sent; a page loaded with a pending answer
// starts here.
(function () {
  "use strict";

  function pollResult(box) {
    if (!box || !box.dataset.submission || !box.querySelector(".pending")) return;
    var url = "/practice/submissions/" + box.dataset.submission + "/result?wait=10";
    var submission = box.dataset.submission;
    var failures = 0;
    var deadline = Date.now() + 5 * 60 * 1000;

    function poll() {
      if (box.dataset.submission !== submission) return; // another answer was sent meanwhile
      var started = Date.now();
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.status === 200) {
            return response.text().then(function (html) {
              if (box.dataset.submission !== submission) return;
              box.innerHTML = html;
              box.dispatchEvent(new CustomEvent("result-shown", { bubbles: true }));
            });
          }
          if (response.status !== 202) throw new Error("status " + response.status);
          failures = 0;
          // The server waited already: ask again at once. An early 202 (a busy server lets fewer
          // requests wait) is followed by a pause, so no client ever polls in a tight loop.
          again(Date.now() - started > 1000 ? 0 : 1000);
        })
        .catch(function () {
          failures += 1;  // the server or the network failed: back off before the next try
          again(Math.min(500 * Math.pow(2, failures), 8000));
        });
    }
    function again(delay) {
      if (Date.now() > deadline) {
        box.innerHTML = "<p>Grading is taking longer than usual. Reload this page in a minute; your answer is safe.</p>";
        return;
      }
      setTimeout(poll, delay);
    }
    poll();
  }

  window.quizsitePollResult = pollResult;
  pollResult(document.getElementById("result"));
})();
