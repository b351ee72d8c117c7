from django.http import JsonResponse
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import base, courses, practice


@csrf_exempt  # it changes nothing; without this a POST gets the CSRF failure page instead
def not_found(request, path: str) -> JsonResponse:
    """Any other /api/ URL (an id that is not a number, say): a JSON 404 like the views', not the
    site's HTML page, so a client always gets the error shape the schema states."""
    return JsonResponse({"detail": "Not found."}, status=404)


urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema", title="Attention quiz API"), name="api-docs"),
    path("v1/auth/token", base.ObtainToken.as_view(), name="api-token"),
    path("v1/auth/logout", base.RevokeToken.as_view(), name="api-logout"),
    path("v1/auth/logoutall", base.RevokeAllTokens.as_view(), name="api-logout-all"),
    path("v1/topics", practice.TopicList.as_view(), name="api-topics"),
    path("v1/kinds", practice.KindList.as_view(), name="api-kinds"),
    path("v1/practice/items", practice.PracticeItemCreate.as_view(), name="api-items"),
    path("v1/practice/items/<int:item_id>", practice.PracticeItemDetail.as_view(), name="api-item"),
    path(
        "v1/practice/items/<int:item_id>/submissions",
        practice.SubmissionCreate.as_view(),
        name="api-item-submissions",
    ),
    path("v1/submissions/<int:submission_id>", practice.SubmissionDetail.as_view(), name="api-submission"),
    # Any of the learner's code items (practice, review, mock interview, quiz): the examples only.
    path("v1/practice/items/<int:item_id>/run", practice.CodeRun.as_view(), name="api-item-run"),
    path("v1/practice/items/<int:item_id>/answer-key", practice.AnswerKey.as_view(), name="api-item-answer-key"),
    path("v1/practice/items/<int:item_id>/hints", practice.HintReveal.as_view(), name="api-item-hints"),
    path("v1/practice/items/<int:item_id>/draft", practice.ItemDraft.as_view(), name="api-item-draft"),
    path("v1/reviews", practice.ReviewList.as_view(), name="api-reviews"),
    path("v1/reviews/next", practice.ReviewNext.as_view(), name="api-review-next"),
    # Courses and quizzes (quizsite/api/courses.py)
    path("v1/courses", courses.CourseListCreate.as_view(), name="api-courses"),
    path("v1/courses/join", courses.CourseJoin.as_view(), name="api-course-join"),
    path("v1/courses/<int:course_id>", courses.CourseDetail.as_view(), name="api-course"),
    path("v1/courses/<int:course_id>/members", courses.CourseMembers.as_view(), name="api-course-members"),
    path("v1/courses/<int:course_id>/quizzes", courses.CourseQuizzes.as_view(), name="api-course-quizzes"),
    path("v1/courses/<int:course_id>/gradebook", courses.CourseGradebook.as_view(), name="api-gradebook"),
    path("v1/courses/<int:course_id>/gradebook.csv", courses.CourseGradebookCsv.as_view(), name="api-gradebook-csv"),
    path("v1/quizzes/<int:quiz_id>", courses.QuizDetail.as_view(), name="api-quiz"),
    path("v1/quizzes/<int:quiz_id>/open", courses.QuizOpen.as_view(), name="api-quiz-open"),
    path("v1/quizzes/<int:quiz_id>/close", courses.QuizClose.as_view(), name="api-quiz-close"),
    path("v1/quizzes/<int:quiz_id>/preview", courses.QuizPreview.as_view(), name="api-quiz-preview"),
    path("v1/quizzes/<int:quiz_id>/attempts", courses.QuizAttempts.as_view(), name="api-quiz-attempts"),
    path("v1/quizzes/<int:quiz_id>/statistics", courses.QuizStatistics.as_view(), name="api-quiz-statistics"),
    path("v1/quizzes/<int:quiz_id>/regrade/preview", courses.RegradePreview.as_view(), name="api-regrade-preview"),
    path("v1/quizzes/<int:quiz_id>/regrades", courses.RegradeStart.as_view(), name="api-regrades"),
    path("v1/regrades/<int:run_id>", courses.RegradeDetail.as_view(), name="api-regrade"),
    path("v1/attempts/<int:attempt_id>", courses.AttemptDetail.as_view(), name="api-attempt"),
    path(
        "v1/attempts/<int:attempt_id>/slots/<int:position>/answers",
        courses.AttemptAnswer.as_view(),
        name="api-attempt-answers",
    ),
    path("v1/attempts/<int:attempt_id>/submit", courses.AttemptSubmit.as_view(), name="api-attempt-submit"),
    # Last: whatever the routes above did not match.
    re_path(r"^(?P<path>.*)$", not_found, name="api-not-found"),
]
