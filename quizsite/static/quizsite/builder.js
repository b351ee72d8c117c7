// The quiz builder, in the page: sections are added, removed and moved without a round trip, and
// each section's question picker searches the bank on the server (a small JSON endpoint).
// Without this script the same buttons post the form and the server lays the builder out again
// with every value kept; the picker is then the full list of checkboxes by topic. The checkboxes
// stay the form's field either way: the picker only ticks them.
(function () {
  "use strict";
  var form = document.querySelector("form[data-quiz-builder]");
  if (!form) return;
  var list = form.querySelector("[data-sections]");
  var countInput = form.querySelector("[data-section-count]");
  var addButton = form.querySelector('[data-builder="add"]');
  var blank = document.getElementById("builder-section-template");
  var status = document.querySelector("[data-builder-status]");
  var maxSections = Number(form.getAttribute("data-max-sections"));
  var searchUrl = form.getAttribute("data-search-url");
  var PREFIX = /^(id_)?s(\d+|__new__)-/; // the prefix Django gives section N's fields: s<N>-
  var SEARCH_DELAY_MS = 300;

  function sections() {
    return Array.prototype.slice.call(list.children).filter(function (el) {
      return el.hasAttribute("data-section");
    });
  }

  function say(text) {
    status.hidden = false;
    status.textContent = text;
  }

  function renamed(value, index) {
    return value.replace(PREFIX, function (match, id) {
      return (id || "") + "s" + index + "-";
    });
  }

  // Names, ids and labels follow the section's place, so the server reads section N as s<N>-.
  function renumber() {
    var all = sections();
    all.forEach(function (section, i) {
      section.id = "section-" + i;
      section.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
        ["name", "id", "for"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value && PREFIX.test(value)) el.setAttribute(attr, renamed(value, i));
        });
        var described = el.getAttribute("aria-describedby");
        if (described) {
          el.setAttribute("aria-describedby", described.split(/\s+/).map(function (token) {
            return renamed(token, i);
          }).join(" "));
        }
      });
      section.querySelectorAll("[data-section-number]").forEach(function (el) {
        el.textContent = String(i + 1);
      });
      section.querySelectorAll("[data-builder]").forEach(function (button) {
        var verb = button.getAttribute("data-builder");
        button.value = verb + "-" + i;
        button.hidden = verb === "up" ? i === 0 : verb === "down" ? i === all.length - 1 : all.length === 1;
      });
    });
    countInput.value = String(all.length);
    addButton.hidden = all.length >= maxSections;
  }

  function titleInput(section) {
    return section.querySelector('input[name$="-title"]');
  }

  function add() {
    if (sections().length >= maxSections) return;
    var section = blank.content.firstElementChild.cloneNode(true);
    list.appendChild(section);
    renumber();
    setUpPicker(section);
    titleInput(section).focus();
    say("Section " + sections().length + " added.");
  }

  function remove(section) {
    var all = sections();
    var i = all.indexOf(section);
    if (all.length === 1) return;
    var next = all[i + 1] || all[i - 1];
    section.remove();
    renumber();
    titleInput(next).focus();
    say("Section " + (i + 1) + " removed.");
  }

  function move(section, verb) {
    var all = sections();
    var i = all.indexOf(section);
    var j = verb === "up" ? i - 1 : i + 1;
    if (j < 0 || j >= all.length) return;
    if (verb === "up") list.insertBefore(section, all[j]);
    else list.insertBefore(all[j], section);
    renumber();
    var same = section.querySelector('[data-builder="' + verb + '"]');
    var other = section.querySelector('[data-builder="' + (verb === "up" ? "down" : "up") + '"]');
    (same.hidden ? other : same).focus();
    say("Section " + (i + 1) + " moved " + verb + ": it is now section " + (j + 1) + ".");
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-builder]");
    if (!button || !form.contains(button)) return;
    event.preventDefault(); // done here; the plain post is the way without this script
    var verb = button.getAttribute("data-builder");
    if (verb === "add") return add();
    var section = button.closest("[data-section]");
    if (verb === "remove") remove(section);
    else move(section, verb);
  });

  // --- The question picker -------------------------------------------------------------------

  function element(tag, className, text) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    if (text) el.textContent = text;
    return el;
  }

  function questionRow(title, topic, type) {
    var li = element("li");
    var words = element("span", "picker-words");
    words.appendChild(element("span", "picker-title", title));
    words.appendChild(element("span", "meta", topic + " · " + type));
    li.appendChild(words);
    return li;
  }

  function setUpPicker(section) {
    var picker = section.querySelector("[data-picker]");
    if (!picker || picker.hasAttribute("data-ready")) return;
    picker.setAttribute("data-ready", "");
    var boxes = picker.querySelector("[data-picker-all]");
    var search = picker.querySelector("[data-picker-search]");
    var query = search.querySelector("[data-picker-q]");
    var topic = search.querySelector("[data-picker-topic]");
    var type = search.querySelector("[data-picker-type]");
    var note = search.querySelector("[data-picker-note]");
    var results = search.querySelector("[data-picker-results]");
    var picked = search.querySelector("[data-picker-picked]");
    var timer = null;
    var latest = 0; // answers to older searches that arrive late are dropped
    var searched = false;
    boxes.hidden = true;
    search.hidden = false;

    function box(slug) {
      return boxes.querySelector('input[type="checkbox"][value="' + CSS.escape(slug) + '"]');
    }

    function pickedCount() {
      return boxes.querySelectorAll('input[type="checkbox"]:checked').length;
    }

    function label(button, checkbox) {
      var title = checkbox.getAttribute("data-title");
      button.textContent = checkbox.checked ? "Remove" : "Add";
      button.setAttribute("aria-label", (checkbox.checked ? "Remove " : "Add ") + title);
    }

    function showPicked() {
      picked.textContent = "";
      var checked = boxes.querySelectorAll('input[type="checkbox"]:checked');
      if (!checked.length) picked.appendChild(element("li", "meta", "None yet."));
      checked.forEach(function (checkbox) {
        var li = questionRow(checkbox.getAttribute("data-title"), checkbox.getAttribute("data-topic"),
                             checkbox.getAttribute("data-type"));
        var button = element("button", "secondary");
        button.type = "button";
        label(button, checkbox);
        button.addEventListener("click", function () {
          var rows = Array.prototype.slice.call(picked.children);
          var i = rows.indexOf(li);
          checkbox.checked = false;
          showPicked();
          refreshResults();
          var buttons = picked.querySelectorAll("button");
          (buttons[Math.min(i, buttons.length - 1)] || query).focus();
          say("Removed " + checkbox.getAttribute("data-title") + " from section " + (sections().indexOf(section) + 1) +
              ": " + pickedCount() + " picked.");
        });
        li.appendChild(button);
        picked.appendChild(li);
      });
    }

    function refreshResults() {
      results.querySelectorAll("li[data-slug]").forEach(function (li) {
        var checkbox = box(li.getAttribute("data-slug"));
        if (checkbox) label(li.querySelector("button"), checkbox);
      });
    }

    function showResults(body) {
      results.textContent = "";
      body.results.forEach(function (question) {
        var checkbox = box(question.slug);
        if (!checkbox) return; // not in this page's pool (published since it loaded)
        var li = questionRow(question.title, question.topic, question.type);
        li.setAttribute("data-slug", question.slug);
        var button = element("button", "secondary");
        button.type = "button";
        label(button, checkbox);
        button.addEventListener("click", function () {
          checkbox.checked = !checkbox.checked;
          label(button, checkbox);
          showPicked();
          say((checkbox.checked ? "Added " : "Removed ") + question.title + (checkbox.checked ? " to" : " from") +
              " section " + (sections().indexOf(section) + 1) + ": " + pickedCount() + " picked.");
        });
        li.appendChild(button);
        results.appendChild(li);
      });
      var found = results.children.length;
      note.textContent = !found ? "No question matches." :
        body.more ? "The first " + found + " questions that match: narrow the search to see others." :
        found + (found === 1 ? " question matches." : " questions match.");
    }

    function run() {
      window.clearTimeout(timer);
      searched = true;
      var mine = ++latest;
      var params = new URLSearchParams({ q: query.value.trim(), topic: topic.value, type: type.value });
      note.textContent = "Searching…";
      fetch(searchUrl + "?" + params.toString(), { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          return response.json().catch(function () {
            return {};
          }).then(function (body) {
            if (!response.ok || !body.results) throw new Error(body.error || "The search did not work; try again.");
            return body;
          });
        })
        .then(function (body) {
          if (mine === latest) showResults(body);
        })
        .catch(function (error) {
          if (mine !== latest) return;
          results.textContent = "";
          note.textContent = error.message;
        });
    }

    query.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(run, SEARCH_DELAY_MS);
    });
    query.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault(); // Enter searches here; it does not save the quiz
      run();
    });
    topic.addEventListener("change", run);
    type.addEventListener("change", run);
    search.addEventListener("focusin", function () {
      if (!searched) run(); // the first look lists the pool, before any word is typed
    });
    showPicked();
  }

  sections().forEach(setUpPicker);
  renumber();

  // A page sent back with errors: the server marked the first wrong field (autofocus); a refusal
  // of the whole quiz has no field, so its message takes the focus.
  var alert = document.querySelector(".alert[tabindex]");
  if (alert && !form.querySelector("[autofocus]")) alert.focus();
})();
