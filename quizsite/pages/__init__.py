"""The web pages, by feature: `practice` (items, answers, results, sign-up, health), `learning`
(home, reviews, hints, practice runs), `mock` (mock interviews), `courses` (courses, quizzes,
attempts, gradebook, statistics, regrade), `authoring` (writing and importing questions).

Views are thin: they parse the request, call a selector or a service of `questions`, lay the
result out with a presenter (`quizsite.presenters`, `quizsite.disclosure`, the course and quiz
presenters) and render. Refusals a page does not turn into a form message go to the one error
handler (`quizsite.middleware`)."""
