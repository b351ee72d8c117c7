// Opens the next hint in place, so what the learner has typed in the answer form stays there.
// Without this script the form posts and the page reloads at the hints: same result.
(function () {
  "use strict";
  if (window.hintLadderReady) return; // the partial may be included more than once
  window.hintLadderReady = true;

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-hints]")) return;
    event.preventDefault();
    var button = form.querySelector("button");
    if (button) button.disabled = true; // one request per click
    fetch(form.action, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "text/html" },
    })
      .then(function (response) {
        return response.text().then(function (text) {
          if (!response.ok) throw new Error(text);
          return text;
        });
      })
      .then(function (html) {
        var section = form.closest("section.hints");
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.querySelector("section.hints");
        if (!section || !fresh) return;
        section.replaceWith(fresh);
        var hints = fresh.querySelectorAll(".hint");
        if (hints.length) hints[hints.length - 1].focus();
      })
      .catch(function () {
        form.submit(); // fall back to the plain post, which shows any message on the page
      });
  });
})();
