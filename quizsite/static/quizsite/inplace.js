// Submitting an answer without leaving the page (forms marked data-in-place): the answer is sent
// in the background; the verdict appears in the result box right below the form, which is
// scrolled into view and takes focus, and, being a live region, is read out by screen readers.
// What the learner typed stays in the form. A pending grade is then awaited by poll.js. An
// answer the server cannot read comes back as the whole page with its messages at the fields:
// the problem is swapped in place. Without this script, or when the request fails, the form
// posts as a plain form does.
(function () {
  "use strict";
  if (window.inPlaceReady) return;
  window.inPlaceReady = true;

  function show(box) {
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
  }

  // A result shown in place marks the options it chose in the form above it, as a reload would.
  document.addEventListener("result-shown", function (event) {
    var form = document.querySelector("form[data-in-place]");
    if (!form) return;
    form.querySelectorAll("label.choice").forEach(function (label) {
      label.classList.remove("marked-wrong", "marked-right");
      var old = label.querySelector(".mark");
      if (old) old.remove();
    });
    event.target.querySelectorAll("[data-choice-marks] [data-choice]").forEach(function (entry) {
      var input = form.querySelector('input[name="response"][value="' + entry.dataset.choice + '"]');
      var label = input && input.closest("label.choice");
      if (!label) return;
      var mark = entry.dataset.mark;
      label.classList.add("marked-" + mark);
      var text = document.createElement("strong");
      text.className = "mark";
      text.textContent = mark === "wrong" ? "\u2717 not right" : "\u2713 right";
      (label.querySelector("span") || label).appendChild(document.createTextNode(" "));
      (label.querySelector("span") || label).appendChild(text);
    });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-in-place]") || form.dataset.sending) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    form.dataset.sending = "1";
    if (button) button.disabled = true;
    var box = document.getElementById("result");
    fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", Accept: "text/html" },
    })
      .then(function (response) {
        return response.text().then(function (html) {
          if (response.status === 400) {
            // The answer could not be read: the page comes back with each message at its field.
            var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("article.problem");
            var here = form.closest("article.problem");
            if (!fresh || !here) throw new Error("no problem in the page");
            if (form.querySelector("textarea[data-code-editor]")) {
              // Keep the code editor as it is: show the messages in the result box.
              box.innerHTML = "";
              fresh.querySelectorAll(".alert, .field-error").forEach(function (message) {
                box.appendChild(document.importNode(message, true));
              });
              show(box);
              return;
            }
            here.replaceWith(fresh);
            var alert = fresh.querySelector(".alert, [aria-invalid=true]");
            if (alert) { alert.setAttribute("tabindex", "-1"); show(alert); }
            document.dispatchEvent(new CustomEvent("problem-replaced", { detail: fresh }));
            return;
          }
          var id = response.headers.get("X-Submission-Id");
          if (!(response.status === 200 || response.status === 202) || !id || !box) {
            throw new Error("status " + response.status);
          }
          box.dataset.submission = id;
          box.innerHTML = html;
          history.replaceState(null, "", window.location.pathname + "?submission=" + encodeURIComponent(id));
          show(box);
          box.dispatchEvent(new CustomEvent("result-shown", { bubbles: true }));
          if (response.status === 202 && window.quizsitePollResult) window.quizsitePollResult(box);
        });
      })
      .catch(function () {
        form.submit(); // a plain post (no submit event): the page the server renders says what happened
      })
      .finally(function () {
        if (document.contains(form)) {
          delete form.dataset.sending;
          if (button) button.disabled = false;
        }
      });
  });
})();
