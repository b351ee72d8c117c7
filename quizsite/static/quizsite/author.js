// The authoring form's lists (choices, answers, pairs, steps): "Add" puts a blank row in place
// from the list's <template>, so what is typed stays; without this script "Add" posts the form
// and the server adds the row. After a post, focus goes to the error summary or the preview.
(function () {
  "use strict";

  // Django's blank form names its fields with __prefix__; its legend says __num__.
  function number(row, index) {
    row.querySelectorAll("[name], [id], [for], [aria-describedby]").forEach(function (el) {
      ["name", "id", "for", "aria-describedby"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value && value.indexOf("__prefix__") !== -1) el.setAttribute(attr, value.split("__prefix__").join(String(index)));
      });
    });
    row.querySelectorAll("legend, .row-remove span").forEach(function (el) {
      el.textContent = el.textContent.split("__num__").join(String(index + 1));
    });
  }

  document.querySelectorAll("[data-rows]").forEach(function (list) {
    var key = list.getAttribute("data-rows");
    var max = parseInt(list.getAttribute("data-max"), 10);
    var total = list.querySelector('input[name="' + key + '-TOTAL_FORMS"]');
    var template = list.querySelector("template[data-row-template]");
    var button = list.querySelector("[data-add-row]");
    var status = list.querySelector("[data-rows-status]");
    var holder = list.querySelector(".row-list");
    if (!total || !template || !button || !holder || !status) return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var count = parseInt(total.value, 10) || 0;
      if (count >= max) {
        button.disabled = true;
        status.textContent = "At most " + max + " rows.";
        return;
      }
      var row = template.content.querySelector("[data-row]").cloneNode(true);
      number(row, count);
      holder.appendChild(row);
      total.value = String(count + 1);
      if (count + 1 >= max) button.disabled = true;
      var legend = row.querySelector("legend");
      status.textContent = (legend ? legend.textContent : "A row") + " added.";
      var first = row.querySelector("textarea, input:not([type=hidden]):not([type=checkbox]), select");
      if (first) first.focus();
    });
  });

  var landing = document.getElementById("form-errors") || document.getElementById("preview");
  if (landing) landing.focus();
})();
