"""Web pages. Thin: parse the request, call a service or selector, render."""


from django.contrib.auth import login
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from questions import errors
from questions.catalogue.models import Difficulty
from questions.practice import selectors as practice_selectors
from questions.practice import services as practice_services
from questions.practice.models import PracticeItem

from ..bodies import BodyError, declared_length, load_json, read_bounded
from ..code_runs import runnable_code_item
from ..disclosure import code_run_view, item_view, practice_submission_view
from ..drafts import draft_context
from ..forms import SignupForm
from ..presenters import (
    answer_from_post,
    code_from_post,
    errors_by_part,
    parse_preview,
    posted_int,
    wait_seconds,
)
from .learning import home_context, item_context


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("home")  # one account each: log out first to make another
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = form.save()
        login(request, user)
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/signup.html", {"form": form}, status=status)


@login_required
@require_POST
def practice_new(request: HttpRequest) -> HttpResponse:
    kind = request.POST.get("kind", "")
    difficulty = request.POST.get("difficulty", Difficulty.MEDIUM)
    try:
        item = practice_services.practice_item_create_numeric(
            learner=request.user, kind=kind, difficulty=difficulty
        )
    except errors.ServiceError as exc:
        return render(
            request,
            "quizsite/home.html",
            {**home_context(request), "error": exc.message},
            status=exc.status,
        )
    return redirect("practice-item", item_id=item.id)


@login_required
@require_http_methods(["GET", "POST"])
def practice_item(request: HttpRequest, item_id: int) -> HttpResponse:
    item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
    view = item_view(item)
    context: dict = {"item": item, "view": view, "format_errors": [], "typed": {}}
    status = 200
    if request.method == "POST":
        answer = answer_from_post(view, request.POST)
        context["typed"] = answer
        try:
            created = practice_services.submission_create(
                learner=request.user,
                item=item,
                answer=answer,
                idempotency_key=request.POST.get("idempotency_key") or None,
            )
        except errors.AnswerFormatError as exc:
            context["format_errors"] = exc.details
            context["error"] = exc.message
            status = 400
        except errors.ServiceError as exc:  # e.g. an idempotency key another answer used
            context["error"] = exc.message
            status = 400
        else:
            if request.headers.get("X-Requested-With") == "fetch":
                return _result_fragment(request, created.submission)
            return redirect(f"{request.path}?submission={created.submission.id}")
    elif submission_id := request.GET.get("submission", "").strip():
        if (wanted := posted_int(submission_id)) is not None:
            submission = practice_selectors.submission_for_learner(
                learner=request.user, submission_id=wanted
            )
            if submission.item_id != item.id:
                raise Http404("That answer belongs to another question.")
            context["submission"] = practice_submission_view(submission)
            context["marks"] = context["submission"].get("choice_marks", {})
            context["typed"] = submission.answer if isinstance(submission.answer, dict) else {}
    context["errors_by_part"] = errors_by_part(context["format_errors"])
    context.update(draft_context(request, item, posted=context["typed"] if request.method == "POST" else None))
    context.update(item_context(request, item))
    return render(request, "quizsite/practice_item.html", context, status=status)


def _result_fragment(request: HttpRequest, submission) -> HttpResponse:
    """The answer just accepted, for live.js: the result box's content (the result when it is
    graded already, else "Grading..." and the page polls), 202 while pending, and the submission's
    id in a header (the page puts it in its address, so a reload shows the same result)."""
    submission.refresh_from_db()
    view = practice_submission_view(submission)
    pending = submission.status == submission.Status.PENDING
    response = render(request, "quizsite/_result_box.html", {"submission": view}, status=202 if pending else 200)
    response["X-Submission-Id"] = str(submission.id)
    return response


@login_required
@require_POST
def practice_item_draft(request: HttpRequest, item_id: int) -> HttpResponse:
    """Keep what the learner has typed in one of their items' answer forms (drafts.js, as they
    type; the form's own fields): 204. 400 for a malformed draft, 404 for another learner's item,
    409 once the item takes no more answers."""
    item = practice_selectors.draft_item_for_learner(learner=request.user, item_id=item_id)
    answer = answer_from_post(item_view(item), request.POST)
    try:
        practice_services.answer_draft_save(learner=request.user, item=item, answer=answer)
    except errors.ServiceError as exc:
        details = " ".join(d["message"] for d in exc.details or [])
        return HttpResponse(f"{exc.message} {details}".strip(), status=exc.status,
                            content_type="text/plain; charset=utf-8")
    return HttpResponse(status=204)


@login_required
@require_POST
def practice_answer_key(request: HttpRequest, item_id: int) -> HttpResponse:
    """The "Show the answer" button after a wrong try at a practice theory question: the key from now on,
    back on the item's page at its latest answer."""
    item = practice_selectors.practice_item_for_learner(learner=request.user, item_id=item_id)
    practice_services.practice_key_show(learner=request.user, item=item)
    latest = item.submissions.order_by("-id").first()
    url = reverse("practice-item", args=[item.id])
    return redirect(f"{url}?submission={latest.id}#result" if latest else url)


@login_required
@require_POST
def practice_item_preview(request: HttpRequest, item_id: int) -> JsonResponse:
    """What the engine reads from a typed answer, before it is submitted. Stores nothing.

    Body: ``{"answer": {part: text, list or list of rows}}``. Any of the learner's own numeric
    items (practice, review, mock interview or quiz: the preview shows only the parse, never
    the key); another learner's item is a 404.
    """
    item = get_object_or_404(PracticeItem.objects.select_related("variant"), id=item_id, learner=request.user)
    if not item.is_numeric or item.is_code:
        return JsonResponse({"error": "Only numeric problems have a preview."}, status=400)
    try:
        body = load_json(read_bounded(request, declared_length(request.META)))
    except BodyError as exc:
        return JsonResponse({"error": exc.message}, status=exc.status)
    answer = body.get("answer") if isinstance(body, dict) else None
    if not isinstance(answer, dict):
        return JsonResponse({"error": 'The body must be {"answer": {part: value}}.'}, status=400)
    return JsonResponse(parse_preview(variant=item.variant.data, answer=answer))


@login_required
@require_POST
def practice_item_run(request: HttpRequest, item_id: int) -> HttpResponse:
    """The "Run examples" button of a code exercise (code.js): the per-example results as an HTML fragment;
    202 with Retry-After while the code worker is still running it. Stores nothing."""
    item = runnable_code_item(learner=request.user, item_id=item_id)
    answer = code_from_post(request.POST)
    try:
        run = practice_services.code_examples_run(learner=request.user, item=item, answer=answer)
    except errors.ServiceError as exc:
        details = " ".join(d["message"] for d in exc.details or [])
        response = render(request, "quizsite/_code_run.html", {"error": f"{exc.message} {details}".strip()},
                          status=exc.status)
        if getattr(exc, "retry_after", None):
            response["Retry-After"] = str(exc.retry_after)
        return response
    return render(request, "quizsite/_code_run.html", {"run": code_run_view(run)})


@login_required
@require_GET
def submission_result(request: HttpRequest, submission_id: int) -> HttpResponse:
    """The result fragment for polling: 202 while pending, 200 with the HTML once graded; with
    `?wait=N` a pending answer is answered as soon as it is graded (a long poll, live.js)."""
    try:
        wait = wait_seconds(request.GET.get("wait"))
    except ValueError as exc:
        return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")
    submission = practice_selectors.submission_for_learner(
        learner=request.user, submission_id=submission_id, wait=wait
    )
    if submission.status == submission.Status.PENDING:
        return HttpResponse(status=202)
    return render(request, "quizsite/_result.html", {"s": practice_submission_view(submission)})

