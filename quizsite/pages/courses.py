"""Course and quiz pages for instructors, teaching assistants and learners.

Thin: parse the request, call `questions.courses` (its selectors and services check roles: 404 for
strangers, 403 for a role that may not act), lay
the result out with `course_presenters`, render. Marks, feedback and keys reach a learner only
as `courses_rules.feedback_visible` allows (through `courses_selectors.attempt_review`).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import errors
from questions.catalogue import selectors as catalogue_selectors
from questions.catalogue.models import Difficulty
from questions.courses import rules as courses_rules
from questions.courses import selectors as courses_selectors
from questions.courses import services as courses_services
from questions.courses.models import Membership, Quiz, QuizAttempt
from questions.courses.rules import STAFF_ROLES
from questions.errors import AnswerFormatError, Preparing, ServiceError
from questions.practice import selectors as practice_selectors
from questions.practice.rules import kind_titles
from questions.roles import is_instructor

from .. import course_presenters as present
from ..disclosure import item_view, key_view
from ..drafts import draft_context, drafts_awaiting_end
from ..presenters import answer_from_post, errors_by_part, posted_int

INSTRUCTOR = (Membership.Role.INSTRUCTOR,)
DEFAULT_SECTIONS = 3


# --- Forms -------------------------------------------------------------------------------------


class CourseForm(forms.Form):
    title = forms.CharField(max_length=200, label="Course title")


class JoinForm(forms.Form):
    code = forms.CharField(max_length=32, label="Join code", help_text="From your instructor; case and dashes do not matter.")


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150)
    role = forms.ChoiceField(
        choices=[(Membership.Role.TA, "Teaching assistant (reads everything, changes nothing)"),
                 (Membership.Role.INSTRUCTOR, "Instructor")],
        initial=Membership.Role.TA,
    )

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(f"No user is called {username!r}. They need an account first.")
        self.user = user
        return username


def _datetime_field(label: str) -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label, required=False, input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="UTC. Leave empty for no limit.",
    )


class QuizForm(forms.Form):
    title = forms.CharField(max_length=courses_rules.MAX_TITLE_LENGTH)
    opens_at = _datetime_field("Opens at")
    closes_at = _datetime_field("Closes at")
    time_limit_minutes = forms.IntegerField(
        label="Time limit (minutes)", required=False, min_value=1, max_value=courses_rules.MAX_TIME_LIMIT_SECONDS // 60,
        help_text="Kept by the server: an attempt is submitted when its time is up. Empty: no limit.",
    )
    attempts_allowed = forms.IntegerField(label="Attempts allowed", min_value=0, max_value=courses_rules.MAX_ATTEMPTS, initial=1,
                                          help_text="0 means no limit.")
    grading_method = forms.ChoiceField(choices=Quiz.GradingMethod.choices, initial=Quiz.GradingMethod.HIGHEST,
                                       help_text="How a learner's attempts make one grade.")
    penalty = forms.FloatField(label="Penalty per wrong try", min_value=0.0, max_value=1.0, initial=0.0,
                               help_text="A fraction of the question's points (0 to 1); applies with immediate feedback only.")
    feedback_timing = forms.ChoiceField(choices=Quiz.FeedbackTiming.choices,
                                        initial=Quiz.FeedbackTiming.AFTER_SUBMISSION,
                                        help_text="When learners see marks, feedback and the keys.")
    shuffle = forms.BooleanField(required=False, label="Shuffle the questions for each attempt")
    certainty_based_marking = forms.BooleanField(
        required=False, label="Certainty-based marking",
        help_text="Learners say how sure they are (1 to 3); a confident wrong answer costs marks.",
    )


def _kind_choices() -> list[tuple[str, str]]:
    return [("", "—"), *kind_titles().items()]


# The bank's question types by the name an instructor reads (essays are graded by hand: no pool
# draws them).
QUESTION_TYPE_TITLES = {
    "single_choice": "Single choice",
    "multiple_response": "Multiple choice",
    "true_false": "True or false",
    "numeric": "Numeric",
    "short_answer": "Short answer",
    "matching": "Matching",
    "ordering": "Ordering",
}
MAX_SEARCH_LENGTH = 100  # characters of a picker search
MAX_SEARCH_RESULTS = 25
CONTROL_CHARACTER = re.compile(r"[\x00-\x1f\x7f]")


def _pool(course):
    """Published, automatically graded questions of the public bank and of this course: what a
    theory pool of its quizzes may draw from (newest versions, by topic)."""
    return catalogue_selectors.current_versions(
        published_only=True, questions=courses_selectors.questions_for_course(course)
    ).filter(data__type__in=list(QUESTION_TYPE_TITLES))


def _pool_versions(course) -> list:
    return list(_pool(course))


def _pool_topics(versions) -> list[tuple[str, str]]:
    """(slug, title) of the topics the pool's questions come from, in the bank's order."""
    return list({v.question.topic.slug: v.question.topic.title for v in versions}.items())


class SectionForm(forms.Form):
    """One pool: bank questions (a whole topic and/or picked questions) or a problem kind."""

    title = forms.CharField(max_length=200, required=False, label="Section title")
    topic = forms.ChoiceField(required=False, label="Every question of a topic")
    questions = forms.MultipleChoiceField(required=False, label="Or pick questions",
                                          widget=forms.CheckboxSelectMultiple)
    kind = forms.ChoiceField(required=False, label="Or a numeric problem kind")
    difficulty = forms.ChoiceField(choices=Difficulty.choices, initial=Difficulty.MEDIUM, required=False)
    draw = forms.IntegerField(min_value=1, max_value=courses_rules.MAX_DRAW, initial=1, label="Questions to draw")
    points = forms.FloatField(min_value=courses_rules.MIN_POINTS, max_value=courses_rules.MAX_POINTS, initial=1.0,
                              label="Points each")

    NO_POOL = "Give this section a topic, questions or a problem kind, or remove it."
    focus_control = ""  # "up" or "down": the move button the page focuses after a move

    def __init__(self, *args, versions: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = versions
        topics: dict[str, tuple[str, list]] = {}
        for v in versions:
            topic = v.question.topic
            topics.setdefault(topic.slug, (topic.title, []))[1].append((v.question.slug, v.data["title"]))
        self.fields["topic"].choices = [("", "—")] + [
            (slug, f"{title} ({len(qs)} questions)") for slug, (title, qs) in topics.items()
        ]
        self.fields["questions"].choices = [(title, qs) for title, qs in topics.values()]
        self.fields["kind"].choices = _kind_choices()

    def question_groups(self) -> list[dict[str, Any]]:
        """The questions a section may pick, by topic, each with its title, type and whether it is
        picked: the checkboxes without JavaScript, the picker's picked list with it."""
        picked = set(self["questions"].value() or [])
        groups: dict[str, dict[str, Any]] = {}
        for v in self.versions:
            topic = v.question.topic
            group = groups.setdefault(topic.slug, {"title": topic.title, "questions": []})
            group["questions"].append({
                "slug": v.question.slug, "title": v.data["title"], "topic": topic.title,
                "type": QUESTION_TYPE_TITLES.get(v.data.get("type"), ""), "picked": v.question.slug in picked,
            })
        return list(groups.values())

    def values(self) -> dict[str, Any]:
        """What was posted for each field, unvalidated: to lay the section out again when the
        builder adds, removes or moves a section."""
        return {name: self[name].data for name in self.fields}

    def has_pool(self) -> bool:
        data = self.cleaned_data
        return bool(data.get("topic") or data.get("questions") or data.get("kind"))

    def is_blank(self) -> bool:
        """Untouched: no pool, no title, the default draw and points. Left out of the quiz."""
        data = self.cleaned_data
        return not (self.has_pool() or data.get("title")
                    or data.get("draw") != self.fields["draw"].initial
                    or data.get("points") != self.fields["points"].initial)

    def clean(self):
        data = super().clean()
        if (data.get("topic") or data.get("questions")) and data.get("kind"):
            raise forms.ValidationError("Choose bank questions or a problem kind, not both.")
        return data

    def spec(self) -> courses_rules.SectionSpec:
        data = self.cleaned_data
        slugs = list(data.get("questions") or [])
        if data.get("topic"):
            slugs += [v.question.slug for v in self.versions if v.question.topic.slug == data["topic"]]
        return courses_rules.SectionSpec(
            draw=data["draw"], points=data["points"], title=data.get("title", ""),
            questions=tuple(dict.fromkeys(slugs)), kind=data.get("kind", ""),
            difficulty=(data.get("difficulty") or Difficulty.MEDIUM) if data.get("kind") else "",
        )


def _section_count(request: HttpRequest) -> int:
    """How many sections the builder shows: `?sections=N` (cut to 1..MAX_SECTIONS) on a GET; on a
    POST the posted `section_count`, refused (400) outside 1..MAX_SECTIONS."""
    if request.method != "POST":
        count = posted_int(request.GET.get("sections")) or DEFAULT_SECTIONS
        return min(max(count, 1), courses_rules.MAX_SECTIONS)
    raw = request.POST.get("section_count")
    count = posted_int(raw) if raw is not None else DEFAULT_SECTIONS
    if count is None or not 1 <= count <= courses_rules.MAX_SECTIONS:
        raise ServiceError(f"A quiz has 1 to {courses_rules.MAX_SECTIONS} sections; the form sent {raw[:20]!r}.")
    return count


# --- Courses -----------------------------------------------------------------------------------


def _courses_context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {
        "courses": list(courses_selectors.courses_of(user=request.user)),
        "can_create": is_instructor(request.user),
        "join_form": extra.pop("join_form", None) or JoinForm(),
        "course_form": extra.pop("course_form", None) or CourseForm(),
        **extra,
    }


@login_required
@require_GET
def course_list(request: HttpRequest) -> HttpResponse:
    return render(request, "quizsite/courses/list.html", _courses_context(request))


@login_required
@require_POST
def course_join(request: HttpRequest) -> HttpResponse:
    form = JoinForm(request.POST)
    if form.is_valid():
        try:
            membership = courses_services.course_join(user=request.user, code=form.cleaned_data["code"])
        except ServiceError as exc:
            form.add_error("code", exc.message)
        else:
            return redirect("course-detail", course_id=membership.course_id)
    return render(request, "quizsite/courses/list.html", _courses_context(request, join_form=form), status=400)


@login_required
@require_POST
def course_create(request: HttpRequest) -> HttpResponse:
    if not is_instructor(request.user):
        raise PermissionDenied("Only instructors can create courses.")
    form = CourseForm(request.POST)
    if form.is_valid():
        try:
            course = courses_services.course_create(title=form.cleaned_data["title"], instructor=request.user)
        except ServiceError as exc:
            form.add_error("title", exc.message)
        else:
            return redirect("course-detail", course_id=course.id)
    return render(request, "quizsite/courses/list.html", _courses_context(request, course_form=form), status=400)


def _course_page(request: HttpRequest, course, *, member_form: MemberForm | None = None, status: int = 200,
                 error: str = "") -> HttpResponse:
    role = courses_selectors.role_in(course=course, user=request.user)
    staff = role in STAFF_ROLES
    quiz_list = list(courses_selectors.quizzes_for(user=request.user, course=course))
    context: dict[str, Any] = {"course": course, "role": role, "staff": staff, "error": error,
                               "can_edit": role == Membership.Role.INSTRUCTOR}
    if staff:
        context["quizzes"] = [
            {"quiz": q, "window": present.quiz_window(q), "max_score": present.marks(courses_selectors.quiz_max_score(q))}
            for q in quiz_list
        ]
        context["members"] = list(course.memberships.select_related("user").order_by("role", "user__username"))
        context["member_form"] = member_form or MemberForm()
    else:
        rows = []
        by_quiz: dict[int, list[QuizAttempt]] = {}
        for a in QuizAttempt.objects.filter(learner=request.user, quiz__in=quiz_list).order_by("number"):
            by_quiz.setdefault(a.quiz_id, []).append(a)  # one query for every quiz of the page
        for q in quiz_list:
            attempts = [courses_selectors.attempt_as_of(a) for a in by_quiz.get(q.id, [])]
            row = present.learner_quiz_row(q, attempts, courses_selectors.quiz_max_score(q))
            row["grade_text"] = present.marks(row["grade"])
            row["max_text"] = present.marks(row["max_score"])
            rows.append(row)
        context["rows"] = rows
    return render(request, "quizsite/courses/detail.html", context, status=status)


@login_required
@require_GET
def course_detail(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_selectors.course_for(user=request.user, course_id=course_id)
    return _course_page(request, course)


@login_required
@require_POST
def course_member_add(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_selectors.course_for(user=request.user, course_id=course_id, roles=INSTRUCTOR)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            courses_services.membership_set(course=course, actor=request.user, user=form.user, role=form.cleaned_data["role"])
        except ServiceError as exc:
            form.add_error(None, exc.message)
        else:
            return redirect(f"{reverse('course-detail', args=[course.id])}?added={form.cleaned_data['username']}#members")
    return _course_page(request, course, member_form=form, status=400)


# --- Building quizzes --------------------------------------------------------------------------


def _rearranged(values: list[dict[str, Any]], action: str) -> tuple[list[dict[str, Any]], int, str, str]:
    """A builder button pressed without JavaScript (`add`, `remove-2`, `up-2`, `down-2`) applied to
    the sections' posted values: the sections in their new order, the one to focus, the control
    to focus in it and what happened, in words. A button the page could not have shown: 400."""
    count = len(values)
    if action == "add":
        if count >= courses_rules.MAX_SECTIONS:
            raise ServiceError(f"A quiz has at most {courses_rules.MAX_SECTIONS} sections.")
        return [*values, {}], count, "title", f"Section {count + 1} added."
    verb, _, number = action.partition("-")
    i = posted_int(number)
    if verb not in ("remove", "up", "down") or i is None or i >= count:
        raise ServiceError("The builder does not know that button; reload the page and try again.")
    if verb == "remove":
        if count == 1:
            raise ServiceError("A quiz keeps at least one section.")
        return values[:i] + values[i + 1:], min(i, count - 2), "title", f"Section {i + 1} removed."
    j = i - 1 if verb == "up" else i + 1
    if not 0 <= j < count:
        raise ServiceError(f"Section {i + 1} cannot move {verb}.")
    values = list(values)
    values[i], values[j] = values[j], values[i]
    edge = j == 0 if verb == "up" else j == count - 1  # the same button is gone there: the other one
    control = ({"up": "down", "down": "up"}[verb]) if edge and count > 1 else verb
    return values, j, control, f"Section {i + 1} moved {verb}: it is now section {j + 1}."


def _focus_first_error(quiz_form: QuizForm, sections: list[SectionForm]) -> None:
    """Put the focus (autofocus) on the first field with an error: the settings first, then the
    sections in order; a section's own error focuses its topic."""
    for name in quiz_form.fields:
        if quiz_form.errors.get(name):
            quiz_form.fields[name].widget.attrs["autofocus"] = True
            return
    for section in sections:
        for name in section.fields:
            if section.errors.get(name) and name != "questions":
                section.fields[name].widget.attrs["autofocus"] = True
                return
        if section.errors:
            section.fields["topic"].widget.attrs["autofocus"] = True
            return


def _pool_error(sections: list[SectionForm]) -> str:
    """Valid sections that draw nothing: a section someone filled in without a pool gets an error
    of its own; a quiz needs at least one pool. Returns the page's message ('' when all is well)."""
    unfinished = [s for s in sections if not s.has_pool() and not s.is_blank()]
    for section in unfinished:
        section.add_error(None, SectionForm.NO_POOL)
    if not any(s.has_pool() for s in sections):
        if not unfinished:
            sections[0].add_error(None, SectionForm.NO_POOL)
        return "The quiz was not saved: give at least one section a topic, questions or a problem kind."
    return "The quiz was not saved: correct the fields marked below." if unfinished else ""


def _builder(request: HttpRequest, course, quiz_form, section_forms, *, versions: list, status=200, error="",
             notice="") -> HttpResponse:
    return render(request, "quizsite/courses/quiz_form.html", {
        "course": course,
        "form": quiz_form,
        "sections": section_forms,
        "section_count": len(section_forms),
        "max_sections": courses_rules.MAX_SECTIONS,
        # An empty section for the page's script to copy when it adds one (`s__new__` renamed).
        "blank_section": SectionForm(prefix="s__new__", versions=versions),
        "topics": _pool_topics(versions),
        "question_types": list(QUESTION_TYPE_TITLES.items()),
        "search_max_length": MAX_SEARCH_LENGTH,
        "error": error,
        "notice": notice,
    }, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def quiz_create(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_selectors.course_for(user=request.user, course_id=course_id, roles=INSTRUCTOR)
    versions = _pool_versions(course)
    count = _section_count(request)
    if request.method == "GET":
        sections = [SectionForm(prefix=f"s{i}", versions=versions) for i in range(count)]
        return _builder(request, course, QuizForm(), sections, versions=versions)
    form = QuizForm(request.POST)
    sections = [SectionForm(request.POST, prefix=f"s{i}", versions=versions) for i in range(count)]
    action = request.POST.get("builder_action", "")
    if action:
        # Without JavaScript: the same page again, every value kept, the sections renumbered.
        values, focus, control, notice = _rearranged([s.values() for s in sections], action)
        kept = QuizForm(initial={name: form[name].data for name in form.fields})
        sections = [SectionForm(initial=v, prefix=f"s{i}", versions=versions) for i, v in enumerate(values)]
        if control == "title":
            sections[focus].fields["title"].widget.attrs["autofocus"] = True
        else:
            sections[focus].focus_control = control
        return _builder(request, course, kept, sections, versions=versions, notice=notice)
    if form.is_valid() & all([s.is_valid() for s in sections]):
        error = _pool_error(sections)
    else:
        error = "The quiz was not saved: correct the fields marked below."
    if error:
        _focus_first_error(form, sections)
        return _builder(request, course, form, sections, versions=versions, status=400, error=error)
    specs = [s.spec() for s in sections if s.has_pool()]
    data = form.cleaned_data
    minutes = data["time_limit_minutes"]
    try:
        quiz = courses_services.quiz_create(
            course=course, actor=request.user, title=data["title"], sections=specs,
            opens_at=data["opens_at"], closes_at=data["closes_at"],
            time_limit_seconds=minutes * 60 if minutes else None,
            attempts_allowed=data["attempts_allowed"], grading_method=data["grading_method"],
            penalty=data["penalty"], feedback_timing=data["feedback_timing"], shuffle=data["shuffle"],
            certainty_based_marking=data["certainty_based_marking"],
        )
    except ServiceError as exc:
        return _builder(request, course, form, sections, versions=versions, status=400,
                        error=f"The quiz was not saved: {exc.message}")
    return redirect("quiz-detail", quiz_id=quiz.id)


@login_required
@require_GET
def quiz_builder_questions(request: HttpRequest, course_id: int) -> JsonResponse:
    """The builder's question picker: the pool's questions whose title or prompt holds `q`, of
    `topic` (a slug) and of `type`, at most MAX_SEARCH_RESULTS of them by topic, as JSON
    (`more` says whether there were others). Instructors of the course only, like the builder."""
    course = courses_selectors.course_for(user=request.user, course_id=course_id, roles=INSTRUCTOR)
    text, topic, kind = (request.GET.get(name, "").strip() for name in ("q", "topic", "type"))
    if len(text) > MAX_SEARCH_LENGTH or CONTROL_CHARACTER.search(text):
        return JsonResponse({"error": f"Search for at most {MAX_SEARCH_LENGTH} characters of plain text."}, status=400)
    if kind and kind not in QUESTION_TYPE_TITLES:
        return JsonResponse({"error": "No question type is called that."}, status=400)
    versions = _pool(course)
    if topic:
        versions = versions.filter(question__topic__slug=topic[:MAX_SEARCH_LENGTH + 1])
        if len(topic) > MAX_SEARCH_LENGTH or not versions.exists():
            return JsonResponse({"error": "None of the questions you may use has that topic."}, status=400)
    if kind:
        versions = versions.filter(data__type=kind)
    if text:
        versions = versions.filter(Q(data__title__icontains=text) | Q(data__prompt__icontains=text))
    found = list(versions[:MAX_SEARCH_RESULTS + 1])
    return JsonResponse({
        "results": [
            {"slug": v.question.slug, "title": v.data["title"], "topic": v.question.topic.title,
             "type": QUESTION_TYPE_TITLES[v.data["type"]]}
            for v in found[:MAX_SEARCH_RESULTS]
        ],
        "more": len(found) > MAX_SEARCH_RESULTS,
    })


@login_required
@require_POST
def quiz_open(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    courses_services.quiz_open(quiz=quiz, actor=request.user)
    return redirect("quiz-detail", quiz_id=quiz.id)


@login_required
@require_POST
def quiz_close(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    try:
        courses_services.quiz_close_now(quiz=quiz, actor=request.user)
    except ServiceError as exc:
        return _quiz_page(request, quiz, error=exc.message, status=exc.status)
    messages.success(request, "The quiz is closed: attempts in progress were submitted.")
    return redirect("quiz-detail", quiz_id=quiz.id)


# --- A quiz's page -----------------------------------------------------------------------------


def _quiz_page(
    request: HttpRequest, quiz, *, error: str = "", notice: str = "", preparing: int = 0, status: int = 200
) -> HttpResponse:
    role = courses_selectors.role_in(course=quiz.course, user=request.user)
    staff = role in STAFF_ROLES
    context: dict[str, Any] = {
        "quiz": quiz,
        "course": quiz.course,
        "role": role,
        "staff": staff,
        "can_edit": role == Membership.Role.INSTRUCTOR,
        "window": present.quiz_window(quiz),
        "time_limit": present.duration(quiz.time_limit_seconds),
        "max_score": present.marks(courses_selectors.quiz_max_score(quiz)),
        "cbm": present.cbm_choices() if quiz.certainty_based_marking else [],
        "error": error,
        "notice": notice,
        "preparing": preparing,
    }
    if staff:
        context["sections"] = list(quiz.sections.prefetch_related("questions").order_by("position"))
        context["kind_titles"] = kind_titles()
        context["question_titles"] = {v.question.slug: v.data["title"] for v in _pool_versions(quiz.course)}
        context["attempts"] = [
            {"attempt": a, "score": present.marks(a.score), "max": present.marks(a.max_score)}
            for a in courses_selectors.attempts_for_staff(quiz=quiz, user=request.user)
        ]
    else:
        attempts = courses_selectors.attempts_as_of(courses_selectors.attempts_of(learner=request.user, quiz=quiz))
        row = present.learner_quiz_row(quiz, attempts, courses_selectors.quiz_max_score(quiz))
        row["grade_text"] = present.marks(row["grade"])
        context["row"] = row
        context["mine"] = [
            {"attempt": a, "score": present.marks(present.attempt_score_shown(a, quiz))} for a in attempts
        ]
    return render(request, "quizsite/courses/quiz.html", context, status=status)


@login_required
@require_GET
def quiz_detail(request: HttpRequest, quiz_id: int) -> HttpResponse:
    return _quiz_page(request, courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id))


def _preparing(request: HttpRequest, quiz, exc: Preparing) -> HttpResponse:
    """202: the quiz page saying the problems are being made; it presses the same button again by
    itself (quiz.js) after Retry-After seconds."""
    response = _quiz_page(request, quiz, notice=exc.message, preparing=exc.retry_after, status=exc.status)
    response["Retry-After"] = str(exc.retry_after)
    return response


@login_required
@require_POST
def attempt_start(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    try:
        attempt = courses_services.attempt_start(quiz=quiz, learner=request.user)
    except Preparing as exc:
        return _preparing(request, quiz, exc)
    except ServiceError as exc:
        return _quiz_page(request, quiz, error=exc.message, status=exc.status)
    return redirect("attempt-take", attempt_id=attempt.id)


@login_required
@require_POST
def quiz_preview(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    try:
        attempt = courses_services.attempt_preview_start(quiz=quiz, actor=request.user)
    except Preparing as exc:
        return _preparing(request, quiz, exc)
    return redirect("attempt-take", attempt_id=attempt.id)


# --- Taking a quiz -----------------------------------------------------------------------------


def _first_unanswered(rows: list[dict], after: int = -1) -> int:
    ordered = [r for r in rows if r["position"] > after] + [r for r in rows if r["position"] <= after]
    for row in ordered:
        if row["latest"] is None:
            return row["position"]
    return after if after >= 0 else (rows[0]["position"] if rows else 0)


TAKE_PAGE = "quizsite/courses/take.html"
# Pieces of the take page for live.js, rendered from the same partials as the page: an answer saved
# in place (status, nav, then the verdict or the next question) and the verdict of a try being graded.
ANSWER_SAVED = "quizsite/courses/_answer_saved.html"
TAKE_RESULT = "quizsite/courses/_take_result.html"


def _render_take(request: HttpRequest, attempt, position: int | None = None, *, posted: dict | None = None,
                 error: str = "", format_errors: list | None = None, status: int = 200,
                 saved: int | None = None, template: str = TAKE_PAGE) -> HttpResponse:
    review = courses_selectors.attempt_review(attempt=attempt, viewer=request.user)
    page = present.attempt_page(review)
    rows = page["rows"]
    if position is None or not any(r["position"] == position for r in rows):
        position = _first_unanswered(rows)
    current = next(r for r in rows if r["position"] == position)
    format_errors = format_errors or []
    if saved is None:
        saved = posted_int(request.GET.get("saved", ""))
    following = _first_unanswered(rows, after=position)
    context = {
        **page,
        "current": current,
        "view": current["view"],
        "typed": posted if posted is not None else current["typed"],
        "errors_by_part": errors_by_part(format_errors),
        "format_errors": format_errors,
        "error": error,
        "saved_number": None if saved is None else saved + 1,
        "next_position": following,
        "next_number": following + 1 if following != position else None,
        # A preview is an instructor or TA trying their own quiz (attempt_preview_start checks the
        # role): they see each question's key as they go; a learner's attempt never does.
        "preview_key": key_view(current["slot"].item, anchor=f"preview-{current['slot'].id}")
        if attempt.is_preview else None,
        "idempotency_key": secrets.token_urlsafe(16),
        "cbm": present.cbm_choices() if attempt.quiz.certainty_based_marking else [],
        "kind_titles": kind_titles(),
        **draft_context(request, current["slot"].item, posted=posted),  # may replace "typed"
    }
    if template != TAKE_PAGE and page["shown"].feedback and current["pending"]:
        status = 202  # accepted, still being graded: live.js asks for TAKE_RESULT until it is not
    return render(request, template, context, status=status)


def _own_attempt(request: HttpRequest, attempt_id: int) -> QuizAttempt:
    attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
    if attempt.learner_id != request.user.id:
        raise Http404("No such attempt.")  # staff read attempts on the review page only
    return attempt


@login_required
@require_GET
def attempt_take(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
    if attempt.learner_id != request.user.id or attempt.state == QuizAttempt.State.SUBMITTED:
        return redirect("attempt-review", attempt_id=attempt.id)
    asked = request.GET.get("q", "")
    if request.GET.get("part") == "result":  # live.js, while a try is being graded
        return _render_take(request, attempt, posted_int(asked), template=TAKE_RESULT)
    return _render_take(request, attempt, posted_int(asked))


def _closed(request: HttpRequest, attempt, message: str) -> HttpResponse:
    return render(request, "quizsite/courses/closed.html", {"attempt": attempt, "error": message}, status=409)


@login_required
@require_POST
def attempt_answer(request: HttpRequest, attempt_id: int, position: int) -> HttpResponse:
    attempt = _own_attempt(request, attempt_id)
    slot = attempt.slots.select_related("item__variant", "item__question_version__question__topic").filter(
        position=position
    ).first()
    if slot is None:
        raise Http404("No such question in this attempt.")
    view = item_view(slot.item)
    answer = answer_from_post(view, request.POST)
    raw_certainty = request.POST.get("certainty", "")
    certainty = posted_int(raw_certainty)
    try:
        courses_services.answer_submit(
            attempt=attempt, learner=request.user, position=position, answer=answer, certainty=certainty,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except errors.AttemptClosed as exc:
        return _closed(request, attempt, exc.message)
    except AnswerFormatError as exc:
        return _render_take(request, attempt, position, posted=answer,
                            error=exc.message, format_errors=exc.details or [], status=400)
    except ServiceError as exc:
        return _render_take(request, attempt, position, posted=answer,
                            error=exc.message, status=exc.status)
    rows = present.attempt_page(courses_selectors.attempt_review(attempt=attempt, viewer=request.user))["rows"]
    following = _first_unanswered(rows, after=position)
    if attempt.quiz.feedback_timing == Quiz.FeedbackTiming.IMMEDIATE:
        following = position  # stay to see the result of this try
    url = f"{reverse('attempt-take', args=[attempt.id])}?q={following}&saved={position}"
    if request.headers.get("X-Requested-With") != "fetch":
        return redirect(url)
    response = _render_take(request, attempt, following, saved=position, template=ANSWER_SAVED)
    response["X-Page-Url"] = url  # the address of what the learner now sees
    return response


@login_required
@require_http_methods(["GET", "POST"])
def attempt_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    """GET asks for confirmation (no script needed); POST hands the attempt in (idempotent)."""
    attempt = _own_attempt(request, attempt_id)
    if request.method == "POST":
        courses_services.attempt_submit(attempt=attempt, learner=request.user)
        return redirect("attempt-review", attempt_id=attempt.id)
    if attempt.state == QuizAttempt.State.SUBMITTED:
        return redirect("attempt-review", attempt_id=attempt.id)
    page = present.attempt_page(courses_selectors.attempt_review(attempt=attempt, viewer=request.user))
    unsent = practice_selectors.items_with_unsent_drafts(
        learner=request.user, item_ids=[r["slot"].item_id for r in page["rows"]]
    )
    page["unsent"] = [r for r in page["rows"] if r["slot"].item_id in unsent]
    return render(request, "quizsite/courses/submit.html", page)


@login_required
@require_GET
def attempt_review(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = courses_selectors.attempt_for(user=request.user, attempt_id=attempt_id)
    if attempt.learner_id == request.user.id and attempt.state == QuizAttempt.State.IN_PROGRESS:
        return redirect("attempt-take", attempt_id=attempt.id)
    page = present.attempt_page(courses_selectors.attempt_review(attempt=attempt, viewer=request.user))
    page["pending"] = sum(1 for r in page["rows"] if r["pending"])
    if attempt.learner_id == request.user.id and attempt.submitted_by == QuizAttempt.SubmittedBy.DEADLINE:
        # Past the deadline but maybe not stored yet (reads never write): its drafts are graded
        # once it is, so they count as being graded.
        stored_end = QuizAttempt.objects.filter(id=attempt.id, state=QuizAttempt.State.SUBMITTED).exists()
        page["pending"] += drafts_awaiting_end(
            learner=request.user, item_ids=[r["slot"].item_id for r in page["rows"]], stored_end=stored_end
        )
    page["kind_titles"] = kind_titles()
    page["cbm"] = present.cbm_choices() if attempt.quiz.certainty_based_marking else []
    if request.GET.get("part") == "body":  # live.js, while answers are being graded: 202 until none is
        waiting = page["pending"] and page["shown"].feedback
        return render(request, "quizsite/courses/_review_body.html", page, status=202 if waiting else 200)
    return render(request, "quizsite/courses/review.html", page)


# --- Results (instructors and TAs) -------------------------------------------------------------


@login_required
@require_GET
def course_gradebook(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_selectors.course_for(user=request.user, course_id=course_id)
    book = courses_selectors.gradebook_for(course=course, user=request.user)
    rows = [
        {"learner": row.learner, "cells": [
            {"grade": present.marks(g), "attempts": n, "last": a}
            for g, n, a in zip(row.grades, row.attempts, row.last_attempt_ids, strict=True)
        ]}
        for row in book.rows
    ]
    columns = [{"quiz": q, "max": present.marks(m)} for q, m in zip(book.quizzes, book.max_scores, strict=True)]
    return render(request, "quizsite/courses/gradebook.html", {"course": course, "columns": columns, "rows": rows})


@login_required
@require_GET
def course_gradebook_csv(request: HttpRequest, course_id: int) -> HttpResponse:
    course = courses_selectors.course_for(user=request.user, course_id=course_id)
    text = courses_rules.gradebook_csv(courses_selectors.gradebook_for(course=course, user=request.user))
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="gradebook-course-{course.id}.csv"'
    return response


@login_required
@require_GET
def quiz_statistics(request: HttpRequest, quiz_id: int) -> HttpResponse:
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    which = request.GET.get("attempts", "first")
    if which not in ("first", "all"):
        return HttpResponse("attempts must be 'first' or 'all'.", status=400, content_type="text/plain")
    stats = courses_selectors.quiz_statistics(quiz=quiz, user=request.user, first_attempts_only=which == "first")
    return render(request, "quizsite/courses/statistics.html", {
        "quiz": quiz, "course": quiz.course, "stats": present.statistics_page(stats),
    })


@login_required
@require_http_methods(["GET", "POST"])
def quiz_regrade(request: HttpRequest, quiz_id: int) -> HttpResponse:
    """GET: the preview (instructors and TAs); POST: apply it on the worker (instructors)."""
    quiz = courses_selectors.quiz_for(user=request.user, quiz_id=quiz_id)
    if request.method == "POST":
        run = courses_services.regrade_start(quiz=quiz, user=request.user)
        return redirect(f"{reverse('quiz-regrade', args=[quiz.id])}?run={run.id}")
    changes = [
        {"change": c, "old": present.marks(c.old_mark), "new": present.marks(c.new_mark)}
        for c in courses_selectors.regrade_preview(quiz=quiz, user=request.user)
    ]
    run_id = request.GET.get("run", "")
    wanted = posted_int(run_id)
    run = courses_selectors.regrade_run_for(user=request.user, run_id=wanted) if wanted else None
    if run is not None and run.quiz_id != quiz.id:
        raise Http404("No such regrade.")
    role = courses_selectors.role_in(course=quiz.course, user=request.user)
    return render(request, "quizsite/courses/regrade.html", {
        "quiz": quiz, "course": quiz.course, "changes": changes, "run": run,
        "behind": courses_selectors.pinned_behind(quiz=quiz, user=request.user),
        "can_edit": role == Membership.Role.INSTRUCTOR,
    })
