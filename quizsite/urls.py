from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import health
from .pages import authoring, courses, learning, mock, practice

urlpatterns = [
    path("", learning.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", practice.signup, name="signup"),
    # Django's password views (the names are the ones they redirect to); the templates are ours,
    # under names the admin's registration/ templates do not take first.
    path(
        "accounts/password/change/",
        auth_views.PasswordChangeView.as_view(template_name="registration/password_change.html"),
        name="password_change",
    ),
    path(
        "accounts/password/change/done/",
        auth_views.PasswordChangeDoneView.as_view(template_name="registration/password_changed.html"),
        name="password_change_done",
    ),
    path(
        "accounts/password/reset/",
        auth_views.PasswordResetView.as_view(
            template_name="registration/password_reset.html",
            email_template_name="registration/password_reset_mail.txt",
            subject_template_name="registration/password_reset_mail_subject.txt",
        ),
        name="password_reset",
    ),
    path(
        "accounts/password/reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="registration/password_reset_sent.html"),
        name="password_reset_done",
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(template_name="registration/password_reset_new.html"),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="registration/password_reset_complete.html"),
        name="password_reset_complete",
    ),
    path("practice/new", practice.practice_new, name="practice-new"),
    # At the learner's starting difficulty for the topic (their placement's), hence learning's.
    path("practice/topics/<slug:topic_slug>", learning.practice_topic, name="practice-topic"),
    path("practice/items/<int:item_id>/", practice.practice_item, name="practice-item"),
    path("practice/items/<int:item_id>/hints", learning.practice_hint, name="practice-hint"),
    path("practice/run", learning.practice_run, name="practice-run"),
    path("practice/run/next", learning.practice_run_next, name="practice-run-next"),
    path("practice/run/skip", learning.practice_run_skip, name="practice-run-skip"),
    path("practice/run/summary", learning.practice_run_summary, name="practice-run-summary"),
    path("placement/start", learning.placement_start, name="placement-start"),
    path("placement/skip", learning.placement_skip, name="placement-skip"),
    path("placement/summary", learning.placement_summary, name="placement-summary"),
    path("reviews/", learning.reviews, name="reviews"),
    path("reviews/next", learning.review_start, name="review-start"),
    path("settings/streak", learning.streak_setting, name="streak-setting"),
    path("practice/items/<int:item_id>/preview", practice.practice_item_preview, name="practice-item-preview"),
    path("practice/items/<int:item_id>/run", practice.practice_item_run, name="practice-item-run"),
    path("practice/items/<int:item_id>/answer-key", practice.practice_answer_key, name="practice-answer-key"),
    path(
        "practice/submissions/<int:submission_id>/result",
        practice.submission_result,
        name="submission-result",
    ),
    path("mock/", mock.mock_home, name="mock-home"),
    path("mock/start", mock.mock_start, name="mock-start"),
    path("mock/<int:mock_id>/", mock.mock_interview, name="mock-interview"),
    path(
        "mock/<int:mock_id>/questions/<int:position>", mock.mock_answer, name="mock-answer"
    ),
    path("mock/<int:mock_id>/finish", mock.mock_finish, name="mock-finish"),
    path("mock/<int:mock_id>/review", mock.mock_review, name="mock-review"),
    path("mock/<int:mock_id>/review/body", mock.mock_review_body, name="mock-review-body"),
    path("courses/", courses.course_list, name="course-list"),
    path("courses/join", courses.course_join, name="course-join"),
    path("courses/new", courses.course_create, name="course-create"),
    path("courses/<int:course_id>/", courses.course_detail, name="course-detail"),
    path("courses/<int:course_id>/members", courses.course_member_add, name="course-member-add"),
    path("courses/<int:course_id>/quizzes/new", courses.quiz_create, name="quiz-create"),
    path("courses/<int:course_id>/quizzes/questions", courses.quiz_builder_questions, name="quiz-builder-questions"),
    path("courses/<int:course_id>/gradebook", courses.course_gradebook, name="course-gradebook"),
    path("courses/<int:course_id>/gradebook.csv", courses.course_gradebook_csv, name="course-gradebook-csv"),
    path("quizzes/<int:quiz_id>/", courses.quiz_detail, name="quiz-detail"),
    path("quizzes/<int:quiz_id>/open", courses.quiz_open, name="quiz-open"),
    path("quizzes/<int:quiz_id>/close", courses.quiz_close, name="quiz-close"),
    path("quizzes/<int:quiz_id>/preview", courses.quiz_preview, name="quiz-preview"),
    path("quizzes/<int:quiz_id>/start", courses.attempt_start, name="attempt-start"),
    path("quizzes/<int:quiz_id>/statistics", courses.quiz_statistics, name="quiz-statistics"),
    path("quizzes/<int:quiz_id>/regrade", courses.quiz_regrade, name="quiz-regrade"),
    path("attempts/<int:attempt_id>/", courses.attempt_take, name="attempt-take"),
    path("attempts/<int:attempt_id>/questions/<int:position>", courses.attempt_answer, name="attempt-answer"),
    path("attempts/<int:attempt_id>/submit", courses.attempt_submit, name="attempt-submit"),
    path("attempts/<int:attempt_id>/review", courses.attempt_review, name="attempt-review"),
    path("author/", authoring.question_list, name="author-list"),
    path("author/questions/new", authoring.question_edit, name="author-new"),
    path("author/questions/<slug:slug>/", authoring.question_edit, name="author-edit"),
    path("author/import", authoring.question_import, name="author-import"),
    path("author/export", authoring.question_export, name="author-export"),
    path("healthz", health.healthz, name="healthz"),
    path("api/", include("quizsite.api.urls")),
    path("admin/", admin.site.urls),
]
