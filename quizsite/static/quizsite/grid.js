// The numeric answer grid. The server renders one input per cell and the form works without
// this script; it adds two things: pasting a block of numbers into a cell fills the grid from
// that cell, and a preview (debounced) of what the engine reads from every cell, with bad cells
// marked (aria-invalid, message linked by aria-describedby) before anything is submitted.
(function () {
  "use strict";
  if (window.attentionGridReady) return; // the partial may be included more than once
  window.attentionGridReady = true;

  function csrfToken(el) { return window.quizsiteCsrfToken(el); }

  // One text row into cells, as the engine splits it: commas or tabs when the row has any,
  // otherwise whitespace, with lone operators glued back ("1 / 4" is one cell, "1 -2" two).
  function splitRow(row) {
    if (/[,\t]/.test(row)) return row.split(/[,\t]/).map(function (c) { return c.trim(); });
    var cells = [];
    row.trim().split(/\s+/).forEach(function (piece) {
      if (!piece) return;
      var last = cells.length ? cells[cells.length - 1] : null;
      var glue = last !== null && (/[*\/^+\-(]$/.test(last) || /^[*\/^+)]/.test(piece) || piece === "-");
      if (glue) cells[cells.length - 1] = last + piece;
      else cells.push(piece);
    });
    return cells;
  }

  // A pasted block as rows of cell texts, or null when it is a single value (pasted normally).
  function parseBlock(text) {
    var t = text.trim();
    if (!t) return null;
    var rows = null;
    if (t.charAt(0) === "[") {
      try {
        var value = JSON.parse(t);
        if (Array.isArray(value)) {
          rows = value.every(Array.isArray) ? value : [value];
          rows = rows.map(function (r) { return r.map(function (c) { return String(c); }); });
        }
      } catch (e) {
        t = t.replace(/\]\s*,?/g, ";").replace(/\[/g, "");
      }
    }
    if (!rows) {
      rows = t.split(/\r?\n|;/).filter(function (r) { return r.trim(); }).map(splitRow);
    }
    if (rows.length === 1 && rows[0].length === 1) return null;
    return rows;
  }

  function cellAt(part, row, col) {
    return part.querySelector('input.cell-input[data-row="' + row + '"][data-col="' + col + '"]');
  }

  function onPaste(event) {
    var input = event.target;
    if (!input.classList || !input.classList.contains("cell-input")) return;
    var part = input.closest(".grid-part");
    if (!part) return;
    var text = (event.clipboardData || window.clipboardData).getData("text");
    var rows = parseBlock(text);
    if (!rows) return;
    event.preventDefault();
    if (part.dataset.shape === "vector" && rows.length > 1 && rows.every(function (r) { return r.length === 1; })) {
      rows = [rows.map(function (r) { return r[0]; })]; // a column pasted into a vector
    }
    var r0 = Number(input.dataset.row), c0 = Number(input.dataset.col);
    var filled = 0, left = 0;
    rows.forEach(function (row, i) {
      row.forEach(function (value, j) {
        var cell = cellAt(part, r0 + i, c0 + j);
        if (cell) { cell.value = value; filled += 1; } else { left += 1; }
      });
    });
    part.dataset.pasteNote = "Filled " + filled + " cell" + (filled === 1 ? "" : "s") + " from row " + (r0 + 1) +
      ", column " + (c0 + 1) + "." + (left ? " " + left + " pasted value" + (left === 1 ? "" : "s") +
      " did not fit the " + part.dataset.rows + "\u00d7" + part.dataset.cols + " grid and " +
      (left === 1 ? "was" : "were") + " left out." : "");
    status(part, part.dataset.pasteNote);
    schedule(part.closest(".numeric-parts"));
  }

  function status(part, message) {
    var box = part.querySelector(".grid-status");
    if (box) box.textContent = message;
  }

  // The answer as the form would post it, for the preview.
  function collect(container) {
    var answer = {};
    container.querySelectorAll("[data-part]").forEach(function (part) {
      var name = part.dataset.part;
      var inputs = part.querySelectorAll("input.cell-input");
      if (!part.classList.contains("grid-part")) { answer[name] = inputs[0].value; return; }
      var rows = [];
      var any = false;
      inputs.forEach(function (input) {
        var r = Number(input.dataset.row);
        (rows[r] = rows[r] || []).push(input.value.trim());
        if (input.value.trim()) any = true;
      });
      var text = part.querySelector("textarea");
      if (!any && text && text.value.trim()) answer[name] = text.value;
      else answer[name] = part.dataset.shape === "vector" ? rows[0] : rows;
    });
    return answer;
  }

  var PLAIN = /^-?\d+(\.\d*)?$/;

  function show(container, result) {
    container.querySelectorAll("[data-part]").forEach(function (part) {
      var data = result.parts[part.dataset.part];
      if (!data) return;
      var bad = 0;
      part.querySelectorAll("input.cell-input").forEach(function (input) {
        var r = Number(input.dataset.row), c = Number(input.dataset.col);
        var msg = document.getElementById(input.id + "-msg");
        var cell = data.cells && data.cells[r] ? data.cells[r][c] : null;
        if (!cell && !part.classList.contains("grid-part")) {
          var err = data.errors.length && input.value.trim() ? data.errors[0].message : null;
          cell = { error: err, display: data.display ? data.display[0][0] : null };
        }
        var text = input.value.trim();
        var wrapper = input.closest(".cell");
        if (text && cell && cell.error) {
          bad += 1;
          input.setAttribute("aria-invalid", "true");
          if (wrapper) wrapper.classList.add("has-error");
          msg.textContent = cell.error;
        } else {
          input.removeAttribute("aria-invalid");
          if (wrapper) wrapper.classList.remove("has-error");
          msg.textContent = text && cell && cell.display && !PLAIN.test(text) ? "= " + cell.display : "";
        }
      });
      // What a paste did stays in view until the learner types again, unless a cell is bad.
      status(part, bad ? bad + " cell" + (bad === 1 ? "" : "s") + " could not be read." : part.dataset.pasteNote || "");
    });
    container.dataset.previews = String(Number(container.dataset.previews || 0) + 1); // for tests
  }

  var timers = new WeakMap();
  var sequence = 0;

  function schedule(container) {
    if (!container || !container.dataset.previewUrl) return;
    clearTimeout(timers.get(container));
    timers.set(container, setTimeout(function () { preview(container); }, 350));
  }

  function preview(container) {
    var mine = ++sequence;
    fetch(container.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken(container), Accept: "application/json" },
      body: JSON.stringify({ answer: collect(container) }),
    })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (result) { if (result && mine === sequence) show(container, result); })
      .catch(function () { /* the preview is a convenience: submitting still checks everything */ });
  }

  function init(root) {
    (root && root.querySelectorAll ? root : document).querySelectorAll(".numeric-parts").forEach(function (container) {
      container.addEventListener("paste", onPaste);
      container.addEventListener("input", function (event) {
        var part = event.target.closest && event.target.closest("[data-part]");
        if (part) delete part.dataset.pasteNote;
        schedule(container);
      });
    });
  }
  // live.js swaps in the problem the server sent back with its messages: its grid too.
  document.addEventListener("problem-replaced", function (event) { init(event.detail); });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { init(); });
  else init();
})();
