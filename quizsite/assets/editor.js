// A Python code editor (CodeMirror 6) over every <textarea data-code-editor>, as progressive
// enhancement: the textarea stays in the form (hidden) and always holds the code, so a plain form
// submit sends it and other scripts can read it; without JavaScript it is the plain editor.
//
// Source only: `make assets` bundles this file with esbuild into
// ../static/quizsite/vendor/code-editor.js, which is committed (node is never needed to run the site).
//
// API for other scripts (e.g. a "Reset to starter code" button):
//   window.quizsiteCodeEditor.setValue(textarea, text)  replace the code (undoable), update the
//                                                        textarea and fire a bubbling `input` event
//   window.quizsiteCodeEditor.getValue(textarea)        the current code
//   window.quizsiteCodeEditor.focus(textarea)           focus the editor (or the textarea)
// Each works on a textarea that was not enhanced too (it then acts on the textarea itself).

import { Compartment, EditorState } from "@codemirror/state";
import {
  EditorView,
  drawSelection,
  highlightActiveLine,
  highlightActiveLineGutter,
  highlightSpecialChars,
  keymap,
  lineNumbers,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  HighlightStyle,
  bracketMatching,
  indentOnInput,
  indentUnit,
  syntaxHighlighting,
} from "@codemirror/language";
import { closeBrackets, closeBracketsKeymap } from "@codemirror/autocomplete";
import { classHighlighter, tags as t } from "@lezer/highlight";
import { python } from "@codemirror/lang-python";

const SELECTOR = "textarea[data-code-editor]";
const HINT = "Tab indents; press Escape then Tab to leave the editor.";
const MONO = 'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", monospace';
const MIN_LINES = 14;
const LINE_HEIGHT = 1.5;

// Token colours, each readable (contrast >= 4.5:1) on the site's --card in its scheme.
function palette(c) {
  return HighlightStyle.define([
    { tag: [t.keyword, t.controlKeyword, t.definitionKeyword, t.moduleKeyword, t.operatorKeyword],
      color: c.keyword },
    { tag: [t.string, t.special(t.string)], color: c.string },
    { tag: t.escape, color: c.number },
    { tag: [t.number, t.bool, t.null], color: c.number },
    { tag: t.lineComment, color: c.comment, fontStyle: "italic" },
    { tag: t.function(t.definition(t.variableName)), color: c.func, fontWeight: "600" },
    { tag: [t.function(t.variableName), t.function(t.propertyName)], color: c.func },
    { tag: t.definition(t.className), color: c.type, fontWeight: "600" },
    { tag: [t.meta, t.modifier], color: c.meta },
    { tag: t.invalid, color: c.invalid, textDecoration: "underline wavy" },
  ]);
}

const lightHighlight = palette({
  keyword: "#7c3aed", string: "#116329", number: "#a04b00", comment: "#5b6170",
  func: "#1f56b8", type: "#9c2a6b", meta: "#7a5a00", invalid: "#b3261e",
});
const darkHighlight = palette({
  keyword: "#c9a3ff", string: "#9fd89f", number: "#f3b670", comment: "#959aa7",
  func: "#8fb4ff", type: "#f5a6cf", meta: "#e2c67a", invalid: "#ff8a80",
});

// Matches site.css through its custom properties (--bg --fg --muted --card --line --accent),
// with fallbacks for a page without them.
const siteTheme = EditorView.theme({
  "&": {
    fontSize: "14px",
    color: "var(--fg, #1c1d21)",
    backgroundColor: "var(--card, #ffffff)",
    border: "1px solid var(--line, #d9dbe3)",
    borderRadius: "6px",
  },
  "&.cm-focused": { outline: "3px solid var(--accent, #3552d6)", outlineOffset: "2px" },
  ".cm-scroller": { overflow: "auto", fontFamily: MONO, lineHeight: String(LINE_HEIGHT) },
  ".cm-content, .cm-gutter": { minHeight: `calc(${MIN_LINES * LINE_HEIGHT}em + 8px)` },
  ".cm-content": { caretColor: "var(--fg, #1c1d21)" },
  ".cm-cursor, .cm-dropCursor": { borderLeftColor: "var(--fg, #1c1d21)", borderLeftWidth: "2px" },
  ".cm-gutters": {
    backgroundColor: "var(--bg, #fbfbfd)",
    color: "var(--muted, #5b5f6b)",
    borderRight: "1px solid var(--line, #d9dbe3)",
    borderRadius: "6px 0 0 6px",
  },
  ".cm-activeLine": { backgroundColor: "rgba(127, 127, 127, 0.09)" },
  ".cm-activeLineGutter": { backgroundColor: "rgba(127, 127, 127, 0.16)", color: "var(--fg, #1c1d21)" },
  "&.cm-focused .cm-matchingBracket": {
    backgroundColor: "rgba(53, 82, 214, 0.22)",
    outline: "1px solid var(--accent, #3552d6)",
  },
  "&.cm-focused .cm-nonmatchingBracket": { backgroundColor: "rgba(179, 38, 30, 0.28)" },
});

// Light or dark follows prefers-color-scheme, live: the base theme's selection and cursor
// colours (darkTheme) and the token palette swap together.
const darkQuery = typeof window.matchMedia === "function"
  ? window.matchMedia("(prefers-color-scheme: dark)") : null;
const schemeParts = () => {
  const dark = Boolean(darkQuery && darkQuery.matches);
  return [EditorView.darkTheme.of(dark), syntaxHighlighting(dark ? darkHighlight : lightHighlight)];
};

const editors = new WeakMap(); // textarea -> {view, scheme}
const mounted = new Set();
let hintCount = 0;

function fireInput(textarea) {
  textarea.dispatchEvent(new Event("input", { bubbles: true }));
}

function labelText(textarea) {
  const labels = textarea.labels ? Array.from(textarea.labels) : [];
  const fromLabels = labels.map((l) => l.textContent.replace(/\s+/g, " ").trim()).filter(Boolean);
  if (fromLabels.length) return fromLabels.join(" ");
  const own = (textarea.getAttribute("aria-label") || "").trim();
  if (own) return own;
  const byIds = (textarea.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
    .map((id) => document.getElementById(id)).filter(Boolean)
    .map((el) => el.textContent.replace(/\s+/g, " ").trim()).filter(Boolean);
  return byIds.length ? byIds.join(" ") : "Code editor";
}

function makeHint(textarea) {
  const hint = document.createElement("span");
  hintCount += 1;
  hint.id = `${textarea.id || "code-editor"}-hint-${hintCount}`;
  hint.className = "visually-hidden";
  // Inline too, so the hint stays hidden on a page without site.css.
  Object.assign(hint.style, {
    position: "absolute", width: "1px", height: "1px", padding: "0", margin: "-1px",
    overflow: "hidden", clip: "rect(0 0 0 0)", whiteSpace: "nowrap", border: "0",
  });
  hint.textContent = HINT;
  return hint;
}

function mount(textarea) {
  if (editors.has(textarea)) return editors.get(textarea).view;
  const readOnly = textarea.readOnly || textarea.disabled;
  const hint = makeHint(textarea);
  const describedBy = [textarea.getAttribute("aria-describedby"), hint.id]
    .filter(Boolean).join(" ");
  const scheme = new Compartment();

  const view = new EditorView({
    state: EditorState.create({
      doc: textarea.value,
      extensions: [
        lineNumbers(),
        highlightActiveLineGutter(),
        highlightSpecialChars(),
        history(),
        drawSelection(),
        EditorState.allowMultipleSelections.of(true),
        indentOnInput(),
        bracketMatching(),
        closeBrackets(),
        highlightActiveLine(),
        // Long lines wrap and the editor grows with its code: it never scrolls inside the page
        // (a phone's 375 px would otherwise hide half a line, and a box that scrolls needs a
        // keyboard stop of its own).
        EditorView.lineWrapping,
        indentUnit.of("    "),
        EditorState.tabSize.of(4),
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, indentWithTab]),
        python(),
        syntaxHighlighting(classHighlighter), // stable tok-* classes as hooks
        scheme.of(schemeParts()),
        siteTheme,
        EditorState.readOnly.of(readOnly),
        EditorView.editable.of(!readOnly),
        EditorView.contentAttributes.of({
          "aria-label": labelText(textarea),
          "aria-describedby": describedBy,
          // A read-only editor is not contenteditable: keep it reachable by keyboard, as the
          // read-only textarea would be, to read, select and scroll it.
          ...(readOnly ? { tabindex: "0", "aria-readonly": "true" } : {}),
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          textarea.value = update.state.doc.toString();
          fireInput(textarea);
        }),
      ],
    }),
  });

  // The contenteditable's own `input` events stop here: listeners on the form or the document
  // see one `input` per change, with the textarea as its target (fired by the update listener).
  view.dom.addEventListener("input", (event) => event.stopPropagation());
  textarea.after(view.dom, hint);
  textarea.hidden = true;
  textarea.setAttribute("data-code-editor-mounted", "");
  editors.set(textarea, { view, scheme });
  mounted.add(textarea);

  // The hidden textarea cannot take focus: send its label's clicks and a failed
  // constraint check (e.g. `required`) to the editor instead.
  for (const label of textarea.labels || []) {
    label.addEventListener("click", () => view.focus());
  }
  textarea.addEventListener("invalid", () => view.focus());
  // A form reset restores the textarea's default text: show it in the editor too.
  if (textarea.form) {
    textarea.form.addEventListener("reset", () => {
      setTimeout(() => setValue(textarea, textarea.value), 0);
    });
  }
  return view;
}

function setValue(textarea, text) {
  const value = text == null ? "" : String(text);
  const entry = editors.get(textarea);
  if (entry && entry.view.state.doc.toString() !== value) {
    const { view } = entry;
    // One undoable change; the update listener writes the textarea and fires `input`.
    view.dispatch({
      changes: { from: 0, to: view.state.doc.length, insert: value },
      selection: { anchor: Math.min(view.state.selection.main.head, value.length) },
      scrollIntoView: true,
    });
    return;
  }
  textarea.value = value;
  fireInput(textarea);
}

function getValue(textarea) {
  const entry = editors.get(textarea);
  return entry ? entry.view.state.doc.toString() : textarea.value;
}

function focus(textarea) {
  const entry = editors.get(textarea);
  if (entry) entry.view.focus();
  else textarea.focus();
}

function init() {
  document.querySelectorAll(SELECTOR).forEach((textarea) => mount(textarea));
}

if (darkQuery) {
  const onScheme = () => {
    for (const textarea of mounted) {
      const entry = editors.get(textarea);
      entry.view.dispatch({ effects: entry.scheme.reconfigure(schemeParts()) });
    }
  };
  if (typeof darkQuery.addEventListener === "function") darkQuery.addEventListener("change", onScheme);
  else if (typeof darkQuery.addListener === "function") darkQuery.addListener(onScheme);
}

window.quizsiteCodeEditor = { setValue, getValue, focus };

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
