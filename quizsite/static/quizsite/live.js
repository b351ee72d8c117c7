// Partial updates without reloading the page, for every page that answers or waits for grading.
// One mechanism, two parts; the server renders every piece of HTML (the same templates as its
// pages), this script only puts the pieces in place.
//
// (a) Forms marked data-in-place are sent in the background (X-Requested-With: fetch).
//     - 200/202 with X-Submission-Id (a practice answer): the body goes into the box named by
//       data-in-place (default #result); the address gets ?submission=<id>.
//     - 200/202 otherwise (a quiz or mock answer): each top-level element of the body replaces the
//       element of the page with the same id; X-Page-Url becomes the address (a reload shows the
//       same). A piece that brings scripts of its own (a code editor) is opened as a page instead.
//     - 400: the whole page comes back with its messages at the fields: the form's article is
//       swapped (a code editor stays as typed; its messages go into the box).
//     - another 4xx (409: the attempt closed meanwhile): the page's main content is replaced by
//       the server's page, which says why.
//     The piece marked data-focus (else the box) is scrolled into view and takes focus, so screen
//     readers read it. On a network failure or a 5xx the form posts as a plain form does.
// (b) An element marked data-live-url is a region that is still waiting (a grade): its URL is asked
//     until the server answers 200, whose body replaces the region's inside; 202 means "not yet"
//     (with a body whose data-live-message changed: the progress so far, shown too). One request in flight per region; a server that
//     waited (a long poll) is asked again at once, one that answers at once after a pause growing to
//     8 s; failures back off; it gives up after 5 minutes or 300 requests and says so. After each
//     update the region fires "result-shown"; data-live-status names a live region that gets the
//     message of the new content's data-live-message.
// Without this script every form posts and every waiting page refreshes itself (<noscript>).
(function () {
  "use strict";
  if (window.quizsiteLive) return;

  var HEADERS = { "X-Requested-With": "fetch", Accept: "text/html" };
  var DEADLINE_MS = 5 * 60 * 1000;
  var MAX_REQUESTS = 300;
  var LATE = "Grading is taking longer than usual. Reload this page in a minute; your answer is safe.";

  function fragment(html) {
    var template = document.createElement("template");
    template.innerHTML = html;
    return template.content;
  }

  function show(el) {
    if (!el) return;
    if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
    el.scrollIntoView({ block: "start" });
    el.focus({ preventScroll: true });
  }

  // --- (b) Regions that wait -------------------------------------------------------------------

  function announce(region) {
    var status = region.dataset.liveStatus && document.getElementById(region.dataset.liveStatus);
    var source = region.querySelector("[data-live-message]");
    if (status && source && status.textContent !== source.dataset.liveMessage) {
      status.textContent = source.dataset.liveMessage;
    }
  }

  function fill(region, html) {
    region.innerHTML = html;
    announce(region);
    region.dispatchEvent(new CustomEvent("result-shown", { bubbles: true }));
  }

  // A 202's body is shown only when it says something new (fewer answers left to grade): the
  // same body again would close what the learner opened and move the focus.
  function progressed(region, html) {
    var fresh = fragment(html).querySelector("[data-live-message]");
    var now = region.querySelector("[data-live-message]");
    return !!fresh && (!now || now.dataset.liveMessage !== fresh.dataset.liveMessage);
  }

  function watch(region) {
    if (!region.dataset.liveUrl || region.dataset.liveWatched) return;
    region.dataset.liveWatched = "1";
    var url = region.dataset.liveUrl;
    var deadline = Date.now() + DEADLINE_MS;
    var requests = 0;
    var pause = 500;
    var failures = 0;

    function stop(late) {
      delete region.dataset.liveWatched;
      region.removeAttribute("data-live-url");
      if (!late) return;
      var status = region.dataset.liveStatus && document.getElementById(region.dataset.liveStatus);
      if (status) { status.textContent = LATE; return; }
      var note = document.createElement("p");
      note.className = "meta";
      note.textContent = LATE;
      region.appendChild(note);
    }

    function again(delay) {
      if (!document.contains(region) || region.dataset.liveUrl !== url) return; // replaced meanwhile
      if (Date.now() + delay > deadline || requests >= MAX_REQUESTS) { stop(true); return; }
      setTimeout(ask, delay);
    }

    function ask() {
      if (!document.contains(region) || region.dataset.liveUrl !== url) return;
      requests += 1;
      var started = Date.now();
      fetch(url, { credentials: "same-origin", headers: HEADERS })
        .then(function (response) {
          if (response.redirected) { stop(false); return; } // the page moved on (an attempt submitted)
          if (response.status !== 200 && response.status !== 202) throw new Error("status " + response.status);
          return response.text().then(function (html) {
            if (!document.contains(region) || region.dataset.liveUrl !== url) return;
            failures = 0;
            if (response.status === 200) {
              stop(false);
              fill(region, html);
              return;
            }
            if (progressed(region, html)) fill(region, html);
            if (Date.now() - started > 1000) { pause = 500; again(0); return; } // the server waited
            pause = Math.min(pause * 1.5, 8000);
            again(pause);
          });
        })
        .catch(function () {
          failures += 1;
          again(Math.min(500 * Math.pow(2, failures), 8000));
        });
    }
    again(region.dataset.liveUrl.indexOf("wait=") >= 0 ? 0 : pause);
  }

  function watchAll(root) {
    if (root.matches && root.matches("[data-live-url]")) watch(root);
    root.querySelectorAll("[data-live-url]").forEach(watch);
  }

  // --- (a) Forms sent in place -----------------------------------------------------------------

  // A result shown in place marks the options it chose in the form above it, as a reload would.
  document.addEventListener("result-shown", function (event) {
    var form = event.target.closest("article") && event.target.closest("article").querySelector("form[data-in-place]");
    if (!form) return;
    var marks = event.target.querySelectorAll("[data-choice-marks] [data-choice]");
    if (!marks.length) return;
    form.querySelectorAll("label.choice").forEach(function (label) {
      label.classList.remove("marked-wrong", "marked-right");
      var old = label.querySelector(".mark");
      if (old) old.remove();
    });
    marks.forEach(function (entry) {
      var input = form.querySelector('input[name="response"][value="' + entry.dataset.choice + '"]');
      var label = input && input.closest("label.choice");
      if (!label) return;
      var mark = entry.dataset.mark;
      label.classList.add("marked-" + mark);
      var text = document.createElement("strong");
      text.className = "mark";
      text.textContent = mark === "wrong" ? "\u2717 not right" : "\u2713 right";
      var where = label.querySelector("span") || label;
      where.appendChild(document.createTextNode(" "));
      where.appendChild(text);
    });
  });

  function swapPieces(body, pageUrl) {
    var pieces = Array.prototype.filter.call(body.children, function (el) { return el.id && document.getElementById(el.id); });
    if (!pieces.length) throw new Error("nothing to put in place");
    if (body.querySelector("script[src]")) {
      window.location.assign(pageUrl || window.location.href); // its scripts run on a page of its own
      return;
    }
    if (pageUrl) history.replaceState(null, "", pageUrl);
    var focus = null;
    pieces.forEach(function (piece) {
      document.getElementById(piece.id).replaceWith(piece);
      if (!focus) focus = piece.matches("[data-focus]") ? piece : piece.querySelector("[data-focus]");
      if (piece.matches("article")) document.dispatchEvent(new CustomEvent("problem-replaced", { detail: piece }));
      watchAll(piece);
      piece.dispatchEvent(new CustomEvent("result-shown", { bubbles: true }));
    });
    show(focus || pieces[0]);
  }

  function showInvalid(form, box, html) {
    var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("article.problem");
    var here = form.closest("article.problem");
    if (!fresh || !here) throw new Error("no problem in the page");
    if (form.querySelector("textarea[data-code-editor]") && box) {
      // Keep the code editor as it is: show the messages in the box.
      box.innerHTML = "";
      fresh.querySelectorAll(".alert, .field-error").forEach(function (message) {
        box.appendChild(document.importNode(message, true));
      });
      show(box);
      return;
    }
    here.replaceWith(fresh);
    var alert = fresh.querySelector(".alert, [aria-invalid=true]");
    show(alert || fresh);
    document.dispatchEvent(new CustomEvent("problem-replaced", { detail: fresh }));
  }

  function showRefusal(html) {
    var page = new DOMParser().parseFromString(html, "text/html");
    var fresh = page.querySelector("main");
    var here = document.querySelector("main");
    if (!fresh || !here) throw new Error("no page");
    here.innerHTML = fresh.innerHTML;
    if (page.title) document.title = page.title;
    show(here.querySelector(".alert, h1") || here);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-in-place]") || form.dataset.sending) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    form.dataset.sending = "1";
    if (button) button.disabled = true;
    var box = document.getElementById(form.dataset.inPlace || "result");
    fetch(form.getAttribute("action") || window.location.pathname, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: HEADERS,
    })
      .then(function (response) {
        return response.text().then(function (html) {
          if (response.status === 400) return showInvalid(form, box, html);
          if (response.status > 400 && response.status < 500) return showRefusal(html);
          if (response.redirected || !(response.status === 200 || response.status === 202)) {
            throw new Error("status " + response.status);
          }
          var id = response.headers.get("X-Submission-Id");
          if (!id) return swapPieces(fragment(html), response.headers.get("X-Page-Url"));
          if (!box) throw new Error("no box for the result");
          box.innerHTML = html;
          history.replaceState(null, "", window.location.pathname + "?submission=" + encodeURIComponent(id));
          show(box);
          box.dispatchEvent(new CustomEvent("result-shown", { bubbles: true }));
          watchAll(box);
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

  window.quizsiteLive = { watch: watchAll };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { watchAll(document); });
  else watchAll(document);
})();
