"""Instructors' pages: write and preview questions, publish them, import and export files.

A question is written in a form of its type (choices with weights and feedback, matching pairs,
ordering steps, numeric answers with tolerances...) or, for power users, as YAML
(`?format=yaml`). Both build the neutral dict of `questions/bank/FORMAT.md` and hand it to the
one validator (`validate_question`, through `question_author_save`); the form maps the
validator's messages back onto its fields. Import and export stay GIFT / Moodle XML.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import wraps
from typing import Any

import yaml
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.forms.utils import ErrorDict
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from questions import errors
from questions.catalogue import selectors as catalogue_selectors
from questions.catalogue import services as catalogue_services
from questions.catalogue.interchange import dump
from questions.catalogue.interchange.common import parse_number, slugify
from questions.catalogue.models import Topic
from questions.catalogue.schema import DIFFICULTIES, QUESTION_TYPES, validate_question
from questions.courses import selectors as courses_selectors
from questions.roles import is_instructor

from ..disclosure import theory_key_lines, theory_question_view

EXPORT_FORMATS = {"gift": ("text/plain", "txt"), "moodle_xml": ("application/xml", "xml")}
TYPE_FIELDS = ("choices", "answer", "feedback_true", "feedback_false", "answers", "unit", "engine",
               "other_feedback", "case_sensitive", "pairs", "distractors", "items")
TYPE_TITLES = {
    "single_choice": "Single choice",
    "multiple_response": "Multiple response",
    "true_false": "True or false",
    "numeric": "Numeric answer",
    "short_answer": "Short answer",
    "matching": "Matching",
    "ordering": "Ordering",
    "essay": "Essay",
}
TYPE_SUMMARIES = {
    "single_choice": "One right choice (weight 100); the others carry feedback saying why they are wrong.",
    "multiple_response": "Several right choices whose weights add up to 100; wrong ones carry negative weights.",
    "true_false": "A statement that is true or false, with feedback for each pick.",
    "numeric": "A number, right within a tolerance; common wrong values with feedback.",
    "short_answer": "A typed word or phrase; * is a wildcard.",
    "matching": "Match each left item to its right item, with optional distractors.",
    "ordering": "Put steps in the right order.",
    "essay": "A written answer, graded by a person.",
}
SPEC_EXAMPLES = {
    "single_choice": {"choices": [{"text": "Right", "weight": 100, "feedback": "Why it is right"},
                                  {"text": "Wrong", "weight": 0, "feedback": "Why it is wrong"}]},
    "multiple_response": {"choices": [{"text": "Right", "weight": 50, "feedback": "..."},
                                      {"text": "Also right", "weight": 50, "feedback": "..."},
                                      {"text": "Wrong", "weight": -50, "feedback": "Why it is wrong"}]},
    "true_false": {"answer": True, "feedback_true": "...", "feedback_false": "..."},
    "numeric": {"answers": [{"value": 64, "tolerance": 0, "weight": 100, "feedback": "..."}]},
    "short_answer": {"answers": [{"text": "softmax", "weight": 100, "feedback": "..."}], "case_sensitive": False},
    "matching": {"pairs": [{"left": "Query", "right": "What a token looks for"},
                           {"left": "Key", "right": "What a token offers to be matched on"}]},
    "ordering": {"items": ["First step", "Second step", "Third step"]},
    "essay": {},
}
# The most rows a list of a question (choices, answers, pairs, steps) may have, in the form and
# on the server: a post claiming more is refused with a 400.
MAX_ROWS = 20
# Empty rows the form offers beyond the filled ones, for browsers without JavaScript.
EXTRA_ROWS = 2
# The longest text a field takes (the bank's longest prompt is under 1,000 characters), an
# engine entry, and the YAML of a question's answer.
TEXT_MAX = 10_000
MAPPING_MAX = 2_000
SPEC_MAX = 100_000


def instructor_required(view):
    """Instructors (`questions.roles.is_instructor`); others get a 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_instructor(request.user):
            raise PermissionDenied("This page is for instructors. Ask an administrator to add you to the instructors group.")
        return view(request, *args, **kwargs)

    return wrapper


# --- Fields ------------------------------------------------------------------------------------


class TextField(forms.CharField):
    """Multi-line text with Unix line ends: browsers post textareas with CRLF, which the bank's
    rules refuse as a control character. At most `TEXT_MAX` characters unless told otherwise."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", TEXT_MAX)
        super().__init__(**kwargs)

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class NumberField(forms.CharField):
    """A number as written (`64`, `0.5`, `1e-05`): `100` is an integer and `100.0` a float, as
    YAML reads them, so a question stores the same whichever editor wrote it. Blank is `None`."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}))
        super().__init__(required=False, **kwargs)

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        number = parse_number(text) if len(text) <= 40 else None
        if number is None:
            raise forms.ValidationError("Enter a number such as 64, 0.5, -50 or 1e-05.")
        return number


class MappingField(TextField):
    """A small YAML mapping (an `engine` entry: function, args, field). Blank is `None`."""

    def __init__(self, **kwargs):
        super().__init__(max_length=None, **kwargs)  # the text's length is checked before parsing

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        if len(text) > MAPPING_MAX:
            raise forms.ValidationError(f"At most {MAPPING_MAX} characters.")
        try:
            mapping = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise forms.ValidationError(f"Not valid YAML: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(mapping, dict):
            raise forms.ValidationError("Write a mapping, e.g. {function: kv_cache_bytes, args: {...}, field: total}.")
        return mapping


def flow_yaml(value: Any) -> str:
    """A mapping on one line, as the engine fields show it."""
    return yaml.safe_dump(value, default_flow_style=True, sort_keys=False, allow_unicode=True, width=10_000).strip()


class OwnerField(forms.ChoiceField):
    """Where a question lives: a course the author teaches, or the public bank (site staff)."""

    def __init__(self, **kwargs):
        super().__init__(label="Belongs to", help_text="A course's questions appear only in its own quizzes; "
                         "the public bank's in everyone's practice and in any course's quizzes.", **kwargs)


# --- The fields every question has -------------------------------------------------------------


class CommonForm(forms.Form):
    owner = OwnerField()
    topic = forms.ChoiceField()
    title = forms.CharField(max_length=200)
    slug = forms.SlugField(max_length=120, help_text="Stable identity: lower-case words joined by hyphens.")
    difficulty = forms.ChoiceField(choices=[(d, d.capitalize()) for d in DIFFICULTIES])
    prompt = TextField(widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown; $inline$ and $$display$$ LaTeX.")
    explanation = TextField(widget=forms.Textarea(attrs={"rows": 4}),
                            help_text="Shown after answering: the reason. Markdown and LaTeX.")
    source = forms.CharField(max_length=500, help_text="Required: paper and section, documentation page, or lecture.")
    tags = forms.CharField(required=False, help_text="Comma-separated, lower-case words joined by hyphens.")
    hints = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One hint per line, easiest first.")

    def __init__(self, *args, owners: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners
        self.fields["topic"].choices = [(t.slug, t.title) for t in Topic.objects.all()]

    def common_data(self) -> dict:
        c = self.cleaned_data
        return {
            "slug": c["slug"], "type": c["type"], "difficulty": c["difficulty"], "title": c["title"],
            "prompt": c["prompt"], "explanation": c["explanation"], "source": c["source"],
            "tags": [t.strip() for t in c["tags"].split(",") if t.strip()],
            "hints": [h.strip() for h in c["hints"].splitlines() if h.strip()],
        }

    @staticmethod
    def common_initial(owner: str, topic_slug: str, data: dict) -> dict:
        """A stored version's common fields. A draft imported from a bare GIFT or Moodle file may
        lack fields the bank requires to publish (a source, an explanation): they come blank, for
        the author to fill in."""
        return {
            "owner": owner, "topic": topic_slug, "slug": data["slug"], "type": data.get("type", ""),
            "difficulty": data.get("difficulty", ""), "title": data.get("title", ""), "prompt": data.get("prompt", ""),
            "explanation": data.get("explanation", ""), "source": data.get("source", ""),
            "tags": ", ".join(data.get("tags") or []),
            "hints": "\n".join(data.get("hints") or []),
        }


class QuestionForm(CommonForm):
    """The YAML editor: the common fields, the type, and the type's fields as YAML."""

    type = forms.ChoiceField(choices=list(TYPE_TITLES.items()))
    spec = TextField(
        label="Answer (YAML)", required=False, max_length=SPEC_MAX, widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="The fields of the chosen type, as in questions/bank/FORMAT.md.",
    )
    field_order = ["owner", "topic", "slug", "type", "difficulty", "title", "prompt", "explanation", "source",
                   "tags", "hints", "spec"]

    def clean_spec(self) -> dict:
        text = self.cleaned_data.get("spec") or ""
        try:
            spec = yaml.safe_load(text) if text.strip() else {}
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            raise forms.ValidationError(f"Not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
        if not isinstance(spec, dict):
            raise forms.ValidationError("The answer must be a YAML mapping of field: value.")
        unknown = sorted(set(spec) - set(TYPE_FIELDS))
        if unknown:
            raise forms.ValidationError(f"Unknown answer fields: {', '.join(unknown)}.")
        return spec

    def question_data(self) -> dict:
        return {**self.common_data(), **self.cleaned_data["spec"]}

    @classmethod
    def initial_for(cls, owner: str, topic_slug: str, data: dict) -> dict:
        spec = {k: data[k] for k in TYPE_FIELDS if k in data}
        return {**cls.common_initial(owner, topic_slug, data),
                "spec": yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)}


# --- A type's own fields: scalar fields, and lists of rows ---------------------------------------


BANK_TEXTS = ("title", "prompt", "explanation", "source")


class TypeForm(CommonForm):
    """The form of one question type: the common fields plus the type's scalar fields. Its lists
    (choices, answers, pairs, steps) are formsets beside it (`QuestionEditor`)."""

    type = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The bank's own rule says these must not be empty: the browser is told (`required`), and
        # the server leaves it to the validator, so that every problem shows in one round.
        for name in BANK_TEXTS:
            self.fields[name].required = False
            self.fields[name].widget.attrs["required"] = True
        self.fields["slug"].required = False
        self.fields["slug"].help_text += " Blank: made from the title."

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("slug") and "slug" not in self.errors:
            cleaned["slug"] = slugify(cleaned.get("title") or "")
        return cleaned

    def own_data(self) -> dict:
        """The type's scalar fields as FORMAT.md names them."""
        return {}

    @staticmethod
    def own_initial(data: dict) -> dict:
        return {}


class TrueFalseForm(TypeForm):
    answer = forms.TypedChoiceField(
        label="The statement is", choices=[("true", "True"), ("false", "False")], widget=forms.RadioSelect,
        coerce=lambda v: v == "true", required=False, empty_value=None,
    )
    feedback_true = TextField(label="Feedback for “True”", required=False, widget=forms.Textarea(attrs={"rows": 2}))
    feedback_false = TextField(label="Feedback for “False”", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def own_data(self) -> dict:
        c = self.cleaned_data
        data = {"feedback_true": c["feedback_true"], "feedback_false": c["feedback_false"]}
        if c["answer"] is not None:
            data["answer"] = c["answer"]
        return data

    @staticmethod
    def own_initial(data: dict) -> dict:
        answer = data.get("answer")
        return {"answer": {True: "true", False: "false"}.get(answer, ""),
                "feedback_true": data.get("feedback_true", ""), "feedback_false": data.get("feedback_false", "")}


class NumericForm(TypeForm):
    unit = forms.CharField(required=False, max_length=40, help_text="Optional, shown beside the answer box (e.g. bytes).")
    other_feedback = TextField(label="Feedback for any other value", required=False,
                               widget=forms.Textarea(attrs={"rows": 2}))
    engine = MappingField(
        label="Computed by the engine", required=False, widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="Optional: the attention_engine.counting function that computes the first 100% answer, as "
                  "{function: ..., args: {...}, field: total}.",
    )

    def own_data(self) -> dict:
        c = self.cleaned_data
        return {k: c[k] for k in ("unit", "other_feedback", "engine") if c[k]}

    @staticmethod
    def own_initial(data: dict) -> dict:
        return {"unit": data.get("unit", ""), "other_feedback": data.get("other_feedback", ""),
                "engine": flow_yaml(data["engine"]) if data.get("engine") else ""}


class ShortAnswerForm(TypeForm):
    case_sensitive = forms.BooleanField(label="Case sensitive", required=False,
                                        help_text="Otherwise “Softmax” and “softmax” are the same answer.")

    def own_data(self) -> dict:
        return {"case_sensitive": self.cleaned_data["case_sensitive"]}

    @staticmethod
    def own_initial(data: dict) -> dict:
        return {"case_sensitive": bool(data.get("case_sensitive"))}


class MatchingForm(TypeForm):
    distractors = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                            help_text="Optional wrong right-hand items, one per line.")

    def own_data(self) -> dict:
        return {"distractors": [d.strip() for d in self.cleaned_data["distractors"].splitlines() if d.strip()]}

    @staticmethod
    def own_initial(data: dict) -> dict:
        return {"distractors": "\n".join(data.get("distractors") or [])}


class RowForm(forms.Form):
    """One row of a list. `to_data` gives the row as FORMAT.md writes it, `initial` the other way
    round; a blank row (`is_blank`) is left out of the question."""

    def to_data(self) -> Any:
        raise NotImplementedError

    @staticmethod
    def initial(entry: Any) -> dict:
        raise NotImplementedError

    def is_blank(self) -> bool:
        return all(v in (None, "") for k, v in self.cleaned_data.items() if k != "DELETE")


def _without_blank(row: dict, optional: tuple[str, ...]) -> dict:
    """A row without its blank optional fields (a blank `feedback` is no feedback: the validator
    then says which choices must have one)."""
    return {k: v for k, v in row.items() if not (k in optional and v in (None, ""))}


class ChoiceRow(RowForm):
    text = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    weight = NumberField(label="Weight (%)")
    feedback = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="Why it is right or wrong.")

    def to_data(self) -> dict:
        c = self.cleaned_data
        return _without_blank({"text": c["text"], "weight": c["weight"], "feedback": c["feedback"]}, ("feedback",))

    @staticmethod
    def initial(entry: dict) -> dict:
        return {"text": entry.get("text", ""), "weight": entry.get("weight", ""), "feedback": entry.get("feedback", "")}


class NumericAnswerRow(RowForm):
    value = NumberField()
    tolerance = NumberField(label="± tolerance", help_text="Absolute; blank is exact.")
    weight = NumberField(label="Weight (%)")
    feedback = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}),
                         help_text="For a wrong value: the mistake it reveals.")
    engine = MappingField(label="Computed by the engine", required=False,
                          widget=forms.TextInput(attrs={"spellcheck": "false"}), help_text="Optional, as above.")

    def to_data(self) -> dict:
        c = self.cleaned_data
        row = {"value": c["value"], "tolerance": 0 if c["tolerance"] is None else c["tolerance"],
               "weight": c["weight"], "feedback": c["feedback"], "engine": c["engine"]}
        return _without_blank(row, ("feedback", "engine"))

    @staticmethod
    def initial(entry: dict) -> dict:
        return {"value": entry.get("value", ""), "tolerance": entry.get("tolerance", ""), "weight": entry.get("weight", ""),
                "feedback": entry.get("feedback", ""), "engine": flow_yaml(entry["engine"]) if entry.get("engine") else ""}


class TextAnswerRow(ChoiceRow):
    """A short answer's accepted text: a choice's row (text, weight, feedback) with a one-line text."""

    text = forms.CharField(required=False, max_length=300, label="Answer", help_text="* matches any text.")


class PairRow(RowForm):
    left = forms.CharField(required=False, max_length=500, label="Item")
    right = forms.CharField(required=False, max_length=500, label="Matches")

    def to_data(self) -> dict:
        return {"left": self.cleaned_data["left"], "right": self.cleaned_data["right"]}

    @staticmethod
    def initial(entry: dict) -> dict:
        return {"left": entry.get("left", ""), "right": entry.get("right", "")}


class StepRow(RowForm):
    text = forms.CharField(required=False, max_length=500, label="Step")

    def to_data(self) -> str:
        return self.cleaned_data["text"]

    @staticmethod
    def initial(entry: str) -> dict:
        return {"text": entry}


class RowList:
    """How one list of a type shows in the form: FORMAT.md's key, the row form, and words."""

    def __init__(self, key: str, row: type[RowForm], *, title: str, row_title: str, min_rows: int):
        self.key, self.row, self.title, self.row_title, self.min_rows = key, row, title, row_title, min_rows

    def formset_class(self, extra: int) -> type[forms.BaseFormSet]:
        return forms.formset_factory(self.row, extra=extra, can_delete=True, max_num=MAX_ROWS,
                                     absolute_max=MAX_ROWS, validate_max=True)


CHOICES = RowList("choices", ChoiceRow, title="Choices", row_title="Choice", min_rows=4)
TYPE_EDITORS: dict[str, tuple[type[TypeForm], tuple[RowList, ...]]] = {
    "single_choice": (TypeForm, (CHOICES,)),
    "multiple_response": (TypeForm, (CHOICES,)),
    "true_false": (TrueFalseForm, ()),
    "numeric": (NumericForm, (RowList("answers", NumericAnswerRow, title="Accepted values", row_title="Value",
                                      min_rows=2),)),
    "short_answer": (ShortAnswerForm, (RowList("answers", TextAnswerRow, title="Accepted answers", row_title="Answer",
                                               min_rows=2),)),
    "matching": (MatchingForm, (RowList("pairs", PairRow, title="Pairs", row_title="Pair", min_rows=4),)),
    "ordering": (TypeForm, (RowList("items", StepRow, title="Steps, in the right order", row_title="Step",
                                    min_rows=4),)),
    "essay": (TypeForm, ()),
}
assert set(TYPE_EDITORS) == set(QUESTION_TYPES) == set(TYPE_TITLES)

# A validator message names where it applies: `choices[1].feedback: ...`, `source: ...`.
_WHERE_RE = re.compile(r"^(?P<key>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<sub>[a-z_]+))?[^\s:]*: (?P<message>.+)$", re.S)
_MISSING_RE = re.compile(r"missing required field '(?P<key>[a-z_]+)'")


class QuestionEditor:
    """The form of one question type: `form` (common and scalar fields) and one formset per list.

    Bound to a post, `question_data()` builds the FORMAT.md dict; `show_problems()` puts the
    validator's messages at the fields they name. `quiet` (adding a row) shows no errors yet.
    """

    def __init__(self, kind: str, post: QueryDict | None = None, *, owners: list[tuple[str, str]],
                 initial: dict | None = None, quiet: bool = False):
        form_class, lists = TYPE_EDITORS[kind]
        self.kind, self.title, self.lists, self.quiet = kind, TYPE_TITLES[kind], lists, quiet
        initial = initial or {"difficulty": "medium"}
        self.form = form_class(post, owners=owners, initial={**initial, **form_class.own_initial(initial.get("data", {})),
                                                              "type": kind})
        self.rows: dict[str, forms.BaseFormSet] = {}
        entries = initial.get("data", {})
        for rows in lists:
            present = [rows.row.initial(e) for e in entries.get(rows.key) or []][:MAX_ROWS]
            extra = min(max(rows.min_rows - len(present), EXTRA_ROWS), MAX_ROWS - len(present))
            self.rows[rows.key] = rows.formset_class(extra)(post, initial=present or None, prefix=rows.key)
        self.list_errors: dict[str, list[str]] = {rows.key: [] for rows in lists}
        self.problems: list[str] = []  # messages that name no field of the form
        self._row_of: dict[str, list[int]] = {}  # list key -> formset index of each data entry

    @property
    def own_fields(self) -> list[forms.BoundField]:
        """The type's scalar fields (the common ones are laid out by the template)."""
        return [self.form[name] for name in self.form.fields if name not in CommonForm.base_fields and name != "type"]

    @property
    def row_lists(self) -> list[dict]:
        """What the template lays out, list by list."""
        return [{"spec": rows, "formset": self.rows[rows.key], "errors": self.list_errors[rows.key],
                 "max": MAX_ROWS} for rows in self.lists]

    def is_valid(self) -> bool:
        valid = self.form.is_valid()
        valid = all([fs.is_valid() for fs in self.rows.values()]) and valid
        if self.quiet:
            self._silence()
        return valid

    def rows_posted_whole(self) -> bool:
        """Whether each list came with its row count (Django's management form)."""
        return all(fs.management_form.is_valid() for fs in self.rows.values())

    def too_many_rows(self) -> bool:
        return any(fs.is_bound and fs.management_form.is_valid()
                   and fs.management_form.cleaned_data["TOTAL_FORMS"] > MAX_ROWS for fs in self.rows.values())

    def _silence(self) -> None:
        self.form._errors = ErrorDict()
        for fs in self.rows.values():
            fs._non_form_errors = fs.error_class()
            for f in fs.forms:
                f._errors = ErrorDict()

    def question_data(self) -> dict:
        data = {**self.form.common_data(), **self.form.own_data()}
        for key, fs in self.rows.items():
            entries, self._row_of[key] = [], []
            for index, row in enumerate(fs.forms):
                if row.cleaned_data.get("DELETE") or row.is_blank():
                    continue
                entries.append(row.to_data())
                self._row_of[key].append(index)
            data[key] = entries
        return data

    def show_problems(self, messages: list[str]) -> None:
        """Each validator message at the field it names, else above the list, else on top."""
        for text in messages:
            if not self._place(text):
                self.problems.append(text)

    def _place(self, text: str) -> bool:
        where = _WHERE_RE.match(text)
        key, index, sub, message = (where.group("key"), where.group("index"), where.group("sub"), where.group("message")) \
            if where else (None, None, None, text)
        missing = _MISSING_RE.search(message)
        if key is None and missing:  # a missing field of the question itself
            key = missing.group("key")
        elif sub is None and missing:  # a missing field of one row
            sub = missing.group("key")
        if key in self.rows:
            if index is None:
                self.list_errors[key].append(message)
                return True
            rows = self._row_of.get(key, [])
            if int(index) >= len(rows):
                return False
            row = self.rows[key].forms[rows[int(index)]]
            row.add_error(sub if sub in row.fields else None, message)
            return True
        if key in self.form.fields and not isinstance(self.form.fields[key].widget, forms.HiddenInput):
            self.form.add_error(key, message)
            return True
        return False

    def error_count(self) -> int:
        rows = sum(len(f.errors) for fs in self.rows.values() for f in fs.forms)
        return len(self.form.errors) + rows + sum(len(e) for e in self.list_errors.values()) + len(self.problems)

    @classmethod
    def initial_for(cls, owner: str, topic_slug: str, data: dict) -> dict:
        return {**CommonForm.common_initial(owner, topic_slug, data), "data": data}


def _beyond_the_form(kind: str, data: dict) -> bool:
    """Whether a stored question has a list longer than the form takes (imported from Moodle)."""
    return any(len(data.get(rows.key) or []) > MAX_ROWS for rows in TYPE_EDITORS[kind][1])


def _with_added_row(post: QueryDict, key: str) -> QueryDict:
    """The post with one more (blank) row in list `key`, up to `MAX_ROWS` (a post without the
    list's row count is left as it is, and refused)."""
    total = f"{key}-TOTAL_FORMS"
    count = post.get(total, "")
    if not (count.isdigit() and len(count) <= 6):
        return post
    post = post.copy()
    post[total] = str(min(int(count) + 1, MAX_ROWS))
    return post


# --- Views -------------------------------------------------------------------------------------


@instructor_required
@require_GET
def question_list(request: HttpRequest) -> HttpResponse:
    """The questions this author may edit: their courses' (and the public bank's for staff)."""
    versions = catalogue_selectors.current_versions(
        published_only=False, questions=courses_selectors.questions_writable(user=request.user)
    ).select_related("question__owner", "question__topic")
    return render(request, "quizsite/author/list.html",
                  {"versions": versions, "formats": EXPORT_FORMATS, "type_titles": TYPE_TITLES})


def _editor_context(current, **extra) -> dict:
    return {"current": current, "type_titles": TYPE_TITLES, "examples": SPEC_EXAMPLES, **extra}


@instructor_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
    """Write a question: choose its type, then fill in the form of that type (or its YAML);
    preview it as a learner sees it, with its key; save it as a draft or publish it."""
    user = request.user
    current = None
    if slug:  # another course's question reads as missing; the bank's, to a non-staff author, as 403
        current = catalogue_selectors.question_latest(
            slug=slug, questions=courses_selectors.questions_readable(user=user)
        )
        if not courses_selectors.question_writable(user=user, question=current.question):
            raise PermissionDenied("The public bank is edited by site staff; put your own version in a course.")
    owners = courses_selectors.question_owners(user=user)
    if not owners:
        raise PermissionDenied("You teach no course yet: create one, then write its questions.")
    stored = None
    if current is not None:
        stored = (courses_selectors.question_owner_key(current.question), current.question.topic.slug, current.data)

    if request.method == "GET":
        if request.GET.get("format") == "yaml":
            initial = QuestionForm.initial_for(*stored) if stored else {
                "type": "single_choice", "difficulty": "medium",
                "spec": yaml.safe_dump(SPEC_EXAMPLES["single_choice"], sort_keys=False)}
            form = QuestionForm(initial=initial, owners=owners)
            return render(request, "quizsite/author/edit.html", _editor_context(current, form=form, yaml_editor=True))
        kind = current.data.get("type") if current is not None else request.GET.get("type")
        if stored and kind in TYPE_EDITORS and _beyond_the_form(kind, current.data):
            form = QuestionForm(initial=QuestionForm.initial_for(*stored), owners=owners)
            notice = f"This question has more than {MAX_ROWS} rows in a list, more than the form holds: edit it here as YAML."
            return render(request, "quizsite/author/edit.html",
                          _editor_context(current, form=form, yaml_editor=True, notice=notice))
        if kind not in TYPE_EDITORS:
            status = 400 if kind else 200
            error = f"Unknown question type {kind!r}: choose one of the types below." if kind else None
            return render(request, "quizsite/author/choose_type.html",
                          {"types": [(k, TYPE_TITLES[k], TYPE_SUMMARIES[k]) for k in QUESTION_TYPES], "error": error},
                          status=status)
        initial = QuestionEditor.initial_for(*stored) if stored else None
        editor = QuestionEditor(kind, owners=owners, initial=initial)
        return render(request, "quizsite/author/edit.html", _editor_context(current, editor=editor))

    if request.POST.get("editor", "yaml" if "spec" in request.POST else "form") == "yaml":
        return _post_yaml(request, current, owners)
    return _post_form(request, current, owners)


def _post_yaml(request: HttpRequest, current, owners) -> HttpResponse:
    form = QuestionForm(request.POST, owners=owners)
    context = _editor_context(current, form=form, yaml_editor=True)
    if not form.is_valid():
        return render(request, "quizsite/author/edit.html", context, status=400)

    def show_problems(messages: list[str]) -> None:
        context["problems"] = messages

    return _preview_or_save(request, current, form.question_data(), form.cleaned_data, context,
                            show_problems=show_problems, slug_error=lambda m: form.add_error("slug", m),
                            topic_error=lambda m: form.add_error("topic", m))


def _post_form(request: HttpRequest, current, owners) -> HttpResponse:
    kind = request.POST.get("type")
    if kind not in TYPE_EDITORS:
        return render(request, "quizsite/author/choose_type.html",
                      {"types": [(k, TYPE_TITLES[k], TYPE_SUMMARIES[k]) for k in QUESTION_TYPES],
                       "error": f"Unknown question type {kind!r}: choose one of the types below."}, status=400)
    action = request.POST.get("action", "preview")
    adding = action.removeprefix("add-") if action.startswith("add-") else None
    if adding is not None and adding not in {rows.key for rows in TYPE_EDITORS[kind][1]}:
        adding = None
    post = _with_added_row(request.POST, adding) if adding else request.POST
    editor = QuestionEditor(kind, post, owners=owners, quiet=adding is not None)
    context = _editor_context(current, editor=editor)
    if not editor.rows_posted_whole():
        context["error"] = "The form's lists came without their row counts; reload the page and try again."
        return render(request, "quizsite/author/edit.html", context, status=400)
    valid = editor.is_valid()
    if editor.too_many_rows():
        context["error"] = f"A question has at most {MAX_ROWS} rows in each list; nothing was saved."
        return render(request, "quizsite/author/edit.html", context, status=400)
    if adding is not None:  # a browser without JavaScript asked for one more row: focus it
        if editor.rows[adding].forms:
            new_row = editor.rows[adding].forms[-1]
            new_row.fields[next(iter(new_row.fields))].widget.attrs["autofocus"] = True
        return render(request, "quizsite/author/edit.html", context)
    if not valid:
        context["error"] = "Some fields need attention; nothing was saved."
        return render(request, "quizsite/author/edit.html", context, status=400)

    def show_problems(messages: list[str]) -> None:
        editor.show_problems(messages)
        context["problems"] = editor.problems

    return _preview_or_save(request, current, editor.question_data(), editor.form.cleaned_data, context,
                            show_problems=show_problems, slug_error=lambda m: editor.form.add_error("slug", m),
                            topic_error=lambda m: editor.form.add_error("topic", m))


def _preview_or_save(request: HttpRequest, current, data: dict, cleaned: dict, context: dict, *,
                     show_problems: Callable[[list[str]], None], slug_error: Callable[[str], None],
                     topic_error: Callable[[str], None]) -> HttpResponse:
    """One path for both editors: the same dict goes to the same validator and service."""
    if current is not None and data["slug"] != current.question.slug:
        slug_error("The slug is the question's identity and cannot change; copy it into a new question instead.")
        return render(request, "quizsite/author/edit.html", context, status=400)
    action = request.POST.get("action", "preview")
    if action == "preview":
        problems = [e.message for e in validate_question(data)]
        if problems:
            context["error"] = "The question has errors; the preview shows once they are fixed."
            show_problems(problems)
            return render(request, "quizsite/author/edit.html", context, status=400)
        context.update(preview=theory_question_view(data), preview_data=data, key_lines=theory_key_lines(data))
        return render(request, "quizsite/author/edit.html", context)
    if action not in ("draft", "publish"):
        context["error"] = f"Unknown action {action!r}: preview, save a draft or publish."
        return render(request, "quizsite/author/edit.html", context, status=400)
    user = request.user
    try:
        version = catalogue_services.question_author_save(
            topic_slug=cleaned["topic"], data=data, publish=action == "publish", author=user,
            owner=courses_selectors.question_owner_for(user=user, key=cleaned["owner"]),
        )
    except errors.QuestionInvalid as exc:
        context["error"] = exc.message
        if exc.details:
            show_problems([d["message"] for d in exc.details])
        elif exc.message.startswith("The slug"):
            slug_error(exc.message)
        elif exc.message.startswith("Unknown topic"):
            topic_error(exc.message)
        return render(request, "quizsite/author/edit.html", context, status=400)
    suffix = "&format=yaml" if context.get("yaml_editor") else ""
    return redirect(f"/author/questions/{version.question.slug}/?saved={version.number}{suffix}")


class ImportForm(forms.Form):
    owner = OwnerField()
    file = forms.FileField(label="File", help_text="GIFT (.txt, .gift) or Moodle XML (.xml), as Moodle exports them.",
                           error_messages={"required": "Choose a GIFT (.txt, .gift) or Moodle XML (.xml) file to import."},
                           widget=forms.ClearableFileInput(attrs={"accept": ".txt,.gift,.xml"}))
    format = forms.ChoiceField(choices=[("", "Detect from the file"), ("gift", "GIFT"), ("moodle_xml", "Moodle XML")],
                               required=False)
    publish = forms.BooleanField(label="Publish at once", required=False,
                                 help_text="Otherwise the questions come in as drafts.")

    def __init__(self, *args, owners: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners


@instructor_required
@require_http_methods(["GET", "POST"])
def question_import(request: HttpRequest) -> HttpResponse:
    owners = courses_selectors.question_owners(user=request.user)
    if request.method == "GET":
        return render(request, "quizsite/author/import.html", {"form": ImportForm(owners=owners)})
    form = ImportForm(request.POST, request.FILES, owners=owners)
    context: dict = {"form": form}
    if not form.is_valid():
        context["error"] = "Nothing was imported: see the fields marked below."
        return render(request, "quizsite/author/import.html", context, status=400)
    try:
        owner = courses_selectors.question_owner_for(user=request.user, key=form.cleaned_data["owner"])
        report = catalogue_services.questions_import(
            text=form.cleaned_data["file"].read(), format=form.cleaned_data["format"] or None, author=request.user,
            publish=form.cleaned_data["publish"], owner=owner,
        )
    except errors.ServiceError as exc:
        context.update(error=exc.message, problems=exc.details or [])
        return render(request, "quizsite/author/import.html", context, status=400)
    except ValueError as exc:  # ImportFormatError and unknown formats: the message names the line
        context["error"] = f"Nothing was imported: {exc}"
        return render(request, "quizsite/author/import.html", context, status=400)
    context["report"] = report
    return render(request, "quizsite/author/import.html", context)


@instructor_required
@require_GET
def question_export(request: HttpRequest) -> HttpResponse:
    fmt = request.GET.get("format", "gift")
    if fmt not in EXPORT_FORMATS:
        return HttpResponse(f"Unknown format {fmt!r}: use gift or moodle_xml.", status=400, content_type="text/plain")
    content_type, extension = EXPORT_FORMATS[fmt]
    # What the author may read, less what an open quiz of a course they learn in withholds from them.
    versions = catalogue_selectors.current_versions(
        questions=courses_selectors.questions_readable(user=request.user)
        & ~Q(id__in=courses_selectors.withheld_questions(learner=request.user, now=timezone.now()))
    )
    body = dump([v.data for v in versions], fmt)
    response = HttpResponse(body, content_type=f"{content_type}; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="attention-questions.{extension}"'
    return response
