"""Django's view of the app's models: each feature package owns its models; this module only
gathers them, so that Django (migrations, the admin) finds them under the one `questions` app.

Project code imports a model from its feature (`questions.practice.models`), never from here.
"""

from questions.catalogue.models import Difficulty, Question, QuestionVersion, Topic
from questions.courses.models import (
    AttemptSlot,
    Course,
    Membership,
    Quiz,
    QuizAnswer,
    QuizAttempt,
    QuizSection,
    RegradeRun,
)
from questions.learning.models import (
    LearnerProfile,
    MockInterview,
    MockInterviewItem,
    ReviewCard,
    ReviewLog,
)
from questions.practice.models import PracticeItem, Purpose, Submission, Variant

__all__ = [
    "AttemptSlot", "Course", "Difficulty", "LearnerProfile", "Membership", "MockInterview",
    "MockInterviewItem", "PracticeItem", "Purpose", "Question", "QuestionVersion", "Quiz",
    "QuizAnswer", "QuizAttempt", "QuizSection", "RegradeRun", "ReviewCard", "ReviewLog",
    "Submission", "Topic", "Variant",
]
