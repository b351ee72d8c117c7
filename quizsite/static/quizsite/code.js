// Code exercises: "Run examples" sends the code to the server, which runs it on the visible
// examples in a sandbox on the code worker, and shows the per-example results in place (nothing
// is stored or counted); "Reset to the starter code" puts the starter back. The editor itself is
// vendor/code-editor.js (CodeMirror); without either script the textarea and Submit still work.
(function () {
  "use strict";
  if (window.codeExerciseReady) return; // the partial may be included more than once
  window.codeExerciseReady = true;

  function csrfToken(el) { return window.quizsiteCsrfToken(el); }

  function editorValue(textarea) {
    var editor = window.quizsiteCodeEditor;
    return editor ? editor.getValue(textarea) : textarea.value;
  }

  function run(box, button, tries) {
    var textarea = box.querySelector("textarea[data-code-editor]");
    var output = box.querySelector("[data-code-run-output]");
    var body = new FormData();
    body.append("code", editorValue(textarea));
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    if (!tries) output.innerHTML = '<p class="pending">Running the examples&hellip;</p>';
    fetch(box.dataset.runUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(box), "X-Requested-With": "fetch", Accept: "text/html" },
    })
      .then(function (response) {
        return response.text().then(function (html) {
          if (response.status === 202 && tries < 5) {
            // The worker is still busy with it: ask again when the server says.
            var wait = parseInt(response.headers.get("Retry-After") || "2", 10) * 1000;
            setTimeout(function () { run(box, button, tries + 1); }, wait);
            return;
          }
          done(button);
          output.innerHTML = html;
          var result = output.querySelector(".code-run-result");
          if (result) result.focus();
        });
      })
      .catch(function () {
        done(button);
        output.innerHTML = '<p class="alert" role="alert">The examples could not be run (no connection). Try again.</p>';
      });
  }

  function done(button) {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }

  function init() {
    document.querySelectorAll(".code-exercise").forEach(function (box) {
      var actions = box.querySelector(".code-actions");
      if (!actions || !box.dataset.runUrl) return;
      actions.hidden = false;
      var runButton = box.querySelector("[data-code-run]");
      runButton.addEventListener("click", function () { run(box, runButton, 0); });
      box.querySelector("[data-code-reset]").addEventListener("click", function () {
        var textarea = box.querySelector("textarea[data-code-editor]");
        var starter = box.querySelector("textarea.code-starter").value;
        if (editorValue(textarea) === starter) return;
        if (!window.confirm("Replace your code with the starter code?")) return;
        if (window.quizsiteCodeEditor) window.quizsiteCodeEditor.setValue(textarea, starter);
        else textarea.value = starter;
      });
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
