# Question ownership (issue #11): a course or the public bank; quizzes pin their versions.

import django.db.models.deletion
from django.db import migrations, models


def pin_open_quizzes(apps, schema_editor):
    """Open quizzes keep the versions they were drawing when pinning arrived."""
    QuizSection = apps.get_model("questions", "QuizSection")
    QuestionVersion = apps.get_model("questions", "QuestionVersion")
    for section in QuizSection.objects.filter(quiz__state="open"):
        section.pinned_versions.set(
            QuestionVersion.objects.filter(question__in=section.questions.all(), status="published")
        )


class Migration(migrations.Migration):

    dependencies = [
        ('questions', '0004_quiz_attempt_preview'),
    ]

    operations = [
        migrations.AddField(
            model_name='question',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='owned_questions', to='questions.course'),
        ),
        migrations.AddField(
            model_name='quizsection',
            name='pinned_versions',
            field=models.ManyToManyField(blank=True, related_name='+', to='questions.questionversion'),
        ),
        migrations.RunPython(pin_open_quizzes, migrations.RunPython.noop),
    ]
