from django.contrib import admin

from .models import PracticeItem, Question, QuestionVersion, Submission, Topic, Variant


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("slug", "title", "position")


class QuestionVersionInline(admin.TabularInline):
    model = QuestionVersion
    extra = 0
    fields = ("number", "status", "content_hash", "created_at")
    readonly_fields = fields


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
    list_display = ("slug", "topic", "created_at")
    list_filter = ("topic",)
    search_fields = ("slug",)
    inlines = [QuestionVersionInline]


@admin.register(Variant)
class VariantAdmin(admin.ModelAdmin):
    list_display = ("kind", "difficulty", "seed", "engine_version", "created_at", "claimed_at")
    list_filter = ("kind", "difficulty", "engine_version")


@admin.register(PracticeItem)
class PracticeItemAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "variant", "question_version", "created_at")
    raw_id_fields = ("learner", "variant", "question_version")


@admin.register(Submission)
class SubmissionAdmin(admin.ModelAdmin):
    list_display = ("id", "learner", "status", "score", "created_at", "graded_at", "enqueue_count")
    list_filter = ("status",)
    raw_id_fields = ("item", "learner")


# --- Courses and quizzes -----------------------------------------------------------------------

from .models import (  # noqa: E402
    AttemptSlot,
    Course,
    Membership,
    Quiz,
    QuizAttempt,
    QuizSection,
    RegradeRun,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ("title", "join_code", "created_by", "created_at")
    search_fields = ("title", "join_code")
    inlines = [MembershipInline]


class QuizSectionInline(admin.StackedInline):
    model = QuizSection
    extra = 0
    filter_horizontal = ("questions",)


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("title", "course", "state", "opens_at", "closes_at", "grading_method", "feedback_timing")
    list_filter = ("state", "grading_method", "feedback_timing")
    inlines = [QuizSectionInline]


class AttemptSlotInline(admin.TabularInline):
    model = AttemptSlot
    extra = 0
    fields = ("slot", "position", "points", "mark", "original_mark", "regraded_at")
    readonly_fields = fields
    can_delete = False


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    list_display = ("id", "quiz", "learner", "number", "state", "score", "original_score", "submitted_by")
    list_filter = ("state", "submitted_by")
    raw_id_fields = ("learner",)
    inlines = [AttemptSlotInline]


@admin.register(RegradeRun)
class RegradeRunAdmin(admin.ModelAdmin):
    list_display = ("id", "quiz", "state", "slots_done", "slots_total", "slots_changed", "created_at")
