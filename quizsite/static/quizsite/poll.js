// Shows a submission's result as soon as the worker has graded it: a short wait, then polling
// with backoff. The server renders the result fragment, so there is one template for it.
(function () {
  "use strict";
  var box = document.getElementById("result");
  if (!box || !box.dataset.submission || !box.querySelector(".pending")) return;
  var url = "/practice/submissions/" + box.dataset.submission + "/result";
  var delay = 300;
  var deadline = Date.now() + 5 * 60 * 1000;

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (response.status === 200) {
          return response.text().then(function (html) { box.innerHTML = html; });
        }
        if (response.status !== 202) throw new Error("status " + response.status);
        schedule();
      })
      .catch(function () { schedule(); });
  }
  function schedule() {
    if (Date.now() > deadline) {
      box.innerHTML = "<p>Grading is taking longer than usual. Reload this page in a minute; your answer is safe.</p>";
      return;
    }
    delay = Math.min(delay * 1.5, 3000);
    setTimeout(poll, delay);
  }
  setTimeout(poll, delay);
})();
