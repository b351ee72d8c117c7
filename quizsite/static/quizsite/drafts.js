// Drafts: what a learner types in an answer form marked for it (the form, or the quiet status
// line inside it, carries data-draft-url) is kept on the server, so that a reload or another
// device fills the form again, and a quiz or mock interview that runs out is graded on it.
// Sent about a second after typing stops, and at once when the page is hidden or left (a beacon);
// never more than one request in flight: what changes meanwhile is sent when it returns. Listens
// on the document, so a form that live.js puts in place of another is covered too. The code
// editor keeps its textarea in step and fires `input` on it (vendor/code-editor.js).
(function () {
  "use strict";
  var DELAY = 1000;
  var states = new WeakMap();
  var waiting = []; // forms with a save scheduled, to send when the page goes away

  function marker(form) {
    if (!form || !form.matches) return null;
    return form.matches("[data-draft-url]") ? form : form.querySelector("[data-draft-url]");
  }

  function state(form) {
    var s = states.get(form);
    if (!s) {
      s = { timer: null, busy: false, again: false, stopped: false, sent: null };
      states.set(form, s);
    }
    return s;
  }

  function fields(form) {
    return new URLSearchParams(new FormData(form)).toString();
  }

  function say(form, mark, text) {
    var box = mark.matches("[role=status]") ? mark : form.querySelector(".draft-status");
    if (box && box.textContent !== text) box.textContent = text;
  }

  function forget(form) {
    var s = state(form);
    clearTimeout(s.timer);
    s.timer = null;
    waiting = waiting.filter(function (f) { return f !== form && f.isConnected; });
  }

  function save(form) {
    var s = state(form);
    var mark = marker(form);
    forget(form);
    if (!mark || s.stopped) return;
    if (s.busy) { s.again = true; return; }
    var body = fields(form);
    if (body === s.sent) return;
    s.busy = true;
    s.again = false;
    fetch(mark.dataset.draftUrl, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-CSRFToken": window.quizsiteCsrfToken ? window.quizsiteCsrfToken(form) : "",
        "X-Requested-With": "fetch",
      },
    })
      .then(function (response) {
        if (response.status === 204) {
          s.sent = body;
          say(form, mark, "Draft saved");
        } else if (response.status === 409 || response.status === 404 || response.status === 403) {
          s.stopped = true; // the question takes no more answers (time is up, graded): stop asking
        } else if (response.status === 400) {
          s.sent = body; // not a draft of this question; the next change is tried again
        }
      })
      .catch(function () { /* offline: the next change tries again */ })
      .then(function () {
        s.busy = false;
        if (s.again) schedule(form);
      });
  }

  function schedule(form) {
    var s = state(form);
    if (s.stopped) return;
    clearTimeout(s.timer);
    s.timer = setTimeout(function () { save(form); }, DELAY);
    if (waiting.indexOf(form) < 0) waiting.push(form);
  }

  function changed(event) {
    var form = event.target && event.target.closest ? event.target.closest("form") : null;
    if (marker(form)) schedule(form);
  }

  // The page is hidden or left: what is scheduled goes now, in a request that outlives the page
  // (unless one is already in flight, which carries almost all of it).
  function flush() {
    waiting.slice().forEach(function (form) {
      var s = state(form);
      var mark = marker(form);
      forget(form);
      if (!mark || s.stopped || s.busy || !form.isConnected) return;
      var body = fields(form);
      if (body === s.sent) return;
      var blob = new Blob([body], { type: "application/x-www-form-urlencoded" });
      if (navigator.sendBeacon && navigator.sendBeacon(mark.dataset.draftUrl, blob)) s.sent = body;
    });
  }

  document.addEventListener("input", changed);
  document.addEventListener("change", changed);
  // Sending the answer itself: nothing of it is left to keep (the server deletes the draft).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!marker(form)) return;
    forget(form);
    state(form).sent = fields(form);
  }, true);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") flush();
  });
  window.addEventListener("pagehide", flush);
})();
