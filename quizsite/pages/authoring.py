"""Instructors' pages: write and preview questions, publish them, import and export files."""

from __future__ import annotations

from functools import wraps

import yaml
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from questions import errors
from questions.catalogue import selectors as catalogue_selectors
from questions.catalogue import services as catalogue_services
from questions.catalogue.interchange import dump
from questions.catalogue.models import Topic
from questions.catalogue.schema import DIFFICULTIES, QUESTION_TYPES, validate_question
from questions.courses import selectors as courses_selectors
from questions.roles import is_instructor

from ..disclosure import theory_question_view

EXPORT_FORMATS = {"gift": ("text/plain", "txt"), "moodle_xml": ("application/xml", "xml")}
TYPE_FIELDS = ("choices", "answer", "feedback_true", "feedback_false", "answers", "unit", "engine",
               "case_sensitive", "pairs", "distractors", "items")
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


def instructor_required(view):
    """Instructors (`questions.roles.is_instructor`); others get a 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_instructor(request.user):
            raise PermissionDenied("This page is for instructors. Ask an administrator to add you to the instructors group.")
        return view(request, *args, **kwargs)

    return wrapper


class TextField(forms.CharField):
    """Multi-line text with Unix line ends: browsers post textareas with CRLF, which the bank's
    rules refuse as a control character."""

    def to_python(self, value):
        return super().to_python(value).replace("\r\n", "\n").replace("\r", "\n")


class OwnerField(forms.ChoiceField):
    """Where a question lives: a course the author teaches, or the public bank (site staff)."""

    def __init__(self, **kwargs):
        super().__init__(label="Belongs to", help_text="A course's questions appear only in its own quizzes; "
                         "the public bank's in everyone's practice and in any course's quizzes.", **kwargs)


class QuestionForm(forms.Form):
    owner = OwnerField()
    topic = forms.ChoiceField()
    slug = forms.SlugField(max_length=120, help_text="Stable identity: lower-case words joined by hyphens.")
    type = forms.ChoiceField(choices=[(t, t.replace("_", " ")) for t in QUESTION_TYPES])
    difficulty = forms.ChoiceField(choices=[(d, d) for d in DIFFICULTIES])
    title = forms.CharField(max_length=200)
    prompt = TextField(widget=forms.Textarea(attrs={"rows": 6}), help_text="Markdown; $inline$ and $$display$$ LaTeX.")
    explanation = TextField(widget=forms.Textarea(attrs={"rows": 4}), help_text="Shown after answering: the reason.")
    source = forms.CharField(max_length=300, help_text="Paper and section, documentation page, or lecture.")
    tags = forms.CharField(required=False, help_text="Comma-separated.")
    hints = TextField(required=False, widget=forms.Textarea(attrs={"rows": 2}), help_text="One hint per line, easiest first.")
    spec = TextField(
        label="Answer (YAML)", required=False, widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="The fields of the chosen type, as in questions/bank/FORMAT.md.",
    )

    def __init__(self, *args, owners: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owners
        self.fields["topic"].choices = [(t.slug, t.title) for t in Topic.objects.all()]

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
        c = self.cleaned_data
        data = {
            "slug": c["slug"], "type": c["type"], "difficulty": c["difficulty"], "title": c["title"],
            "prompt": c["prompt"], "explanation": c["explanation"], "source": c["source"],
            "tags": [t.strip() for t in c["tags"].split(",") if t.strip()],
            "hints": [h.strip() for h in c["hints"].splitlines() if h.strip()],
        }
        data.update(c["spec"])
        return data

    @classmethod
    def initial_for(cls, owner: str, topic_slug: str, data: dict) -> dict:
        """The form filled with a stored version. A draft imported from a bare GIFT or Moodle file
        may lack fields the bank requires to publish (a source, an explanation): they come blank,
        for the author to fill in."""
        spec = {k: data[k] for k in TYPE_FIELDS if k in data}
        return {
            "owner": owner, "topic": topic_slug, "slug": data["slug"], "type": data.get("type", ""),
            "difficulty": data.get("difficulty", ""), "title": data.get("title", ""), "prompt": data.get("prompt", ""),
            "explanation": data.get("explanation", ""), "source": data.get("source", ""),
            "tags": ", ".join(data.get("tags") or []),
            "hints": "\n".join(data.get("hints") or []),
            "spec": yaml.safe_dump(spec, sort_keys=False, allow_unicode=True),
        }


@instructor_required
@require_GET
def question_list(request: HttpRequest) -> HttpResponse:
    """The questions this author may edit: their courses' (and the public bank's for staff)."""
    versions = catalogue_selectors.current_versions(
        published_only=False, questions=courses_selectors.questions_writable(user=request.user)
    ).select_related("question__owner")
    return render(request, "quizsite/author/list.html", {"versions": versions, "formats": EXPORT_FORMATS})


@instructor_required
@require_http_methods(["GET", "POST"])
def question_edit(request: HttpRequest, slug: str | None = None) -> HttpResponse:
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
    if request.method == "GET":
        if current is not None:
            initial = QuestionForm.initial_for(
                courses_selectors.question_owner_key(current.question), current.question.topic.slug, current.data
            )
        else:
            initial = {"type": "single_choice", "difficulty": "medium",
                       "spec": yaml.safe_dump(SPEC_EXAMPLES["single_choice"], sort_keys=False)}
        form = QuestionForm(initial=initial, owners=owners)
        return render(request, "quizsite/author/edit.html", {"form": form, "current": current, "examples": SPEC_EXAMPLES})

    form = QuestionForm(request.POST, owners=owners)
    context = {"form": form, "current": current, "examples": SPEC_EXAMPLES}
    if not form.is_valid():
        return render(request, "quizsite/author/edit.html", context, status=400)
    data = form.question_data()
    if current is not None and data["slug"] != current.question.slug:
        form.add_error("slug", "The slug is the question's identity and cannot change; copy it into a new question instead.")
        return render(request, "quizsite/author/edit.html", context, status=400)
    action = request.POST.get("action", "preview")
    if action == "preview":
        context["problems"] = [{"line": e.line, "message": e.message} for e in validate_question(data)]
        context["preview"] = theory_question_view(data)
        context["preview_data"] = data
        return render(request, "quizsite/author/edit.html", context)
    try:
        version = catalogue_services.question_author_save(
            topic_slug=form.cleaned_data["topic"], data=data, publish=action == "publish", author=user,
            owner=courses_selectors.question_owner_for(user=user, key=form.cleaned_data["owner"]),
        )
    except errors.ServiceError as exc:
        context["error"] = exc.message
        context["problems"] = exc.details or []
        return render(request, "quizsite/author/edit.html", context, status=400)
    return redirect(f"/author/questions/{version.question.slug}/?saved={version.number}")


@instructor_required
@require_http_methods(["GET", "POST"])
def question_import(request: HttpRequest) -> HttpResponse:
    owners = courses_selectors.question_owners(user=request.user)
    context: dict = {"owners": owners}
    if request.method == "POST":
        upload = request.FILES.get("file")
        fmt = request.POST.get("format") or None
        if upload is None:
            context["error"] = "Choose a GIFT (.txt, .gift) or Moodle XML (.xml) file to import."
            return render(request, "quizsite/author/import.html", context, status=400)
        try:
            owner = courses_selectors.question_owner_for(user=request.user, key=request.POST.get("owner", ""))
            report = catalogue_services.questions_import(
                text=upload.read(), format=fmt, author=request.user, publish=bool(request.POST.get("publish")),
                owner=owner,
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
