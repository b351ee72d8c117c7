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
