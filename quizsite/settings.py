"""Settings, read from the environment (see README "Configuration").

Two run modes share this file:
- embedded default: no DATABASE_URL (a SQLite file under var/), no REDIS_URL (Celery tasks run
  in-process), DEBUG=1 for local use;
- full stack: DATABASE_URL=postgres://..., REDIS_URL=redis://..., gunicorn + Celery workers.

Misconfiguration fails at start-up with a message that says what to set.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from .env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Production settings (DEBUG off) refuse to start without it: "
            "export SECRET_KEY to a long random string, e.g. "
            "`python -c 'import secrets; print(secrets.token_urlsafe(50))'`, "
            "or set DEBUG=1 for local development."
        )
    # Development only: a per-checkout key is fine because DEBUG is on.
    SECRET_KEY = "dev-only-insecure-key-never-used-when-debug-is-off"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "ALLOWED_HOSTS is empty. With DEBUG off set ALLOWED_HOSTS to the comma-separated host names "
        "the site is served under (e.g. ALLOWED_HOSTS=quiz.example.org)."
    )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN)
    "questions",
    "quizsite",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Before anything reads a body: a request over its size cap is a 413 (quizsite/bodies.py).
    "quizsite.bodies.BodySizeMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "quizsite.middleware.PrivateResponsesMiddleware",
    "quizsite.middleware.DomainErrorMiddleware",
    "quizsite.api.throttles.PageThrottleMiddleware",
    # Last, as django-axes asks: it turns a sign-in refused for too many failures into a 429.
    "axes.middleware.AxesMiddleware",
]

# Content-Security-Policy (django-csp): scripts and everything else from this site only, so a
# script that slipped into a page (a learner's answer shown to an instructor) would not run.
# Inline styles stay allowed: the heatmaps are SVG with their own <style>.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, "'unsafe-inline'"],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}

ROOT_URLCONF = "quizsite.urls"
WSGI_APPLICATION = "quizsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "quizsite.context_processors.navigation",
            ],
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default keeps its SQLite file here
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Wait for the writer instead of failing with "database is locked" under concurrent requests.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# One backend: django-axes' lockout check, then the password check (quizsite/lockout.py).
AUTHENTICATION_BACKENDS = ["quizsite.lockout.LockoutBackend"]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security (production defaults; `manage.py check --deploy` passes with no warnings) -------
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Mail (password reset) ---------------------------------------------------------------------
# The console backend prints the reset mail where `make run` runs; set EMAIL_BACKEND to
# django.core.mail.backends.smtp.EmailBackend and EMAIL_HOST... to send it.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Attention Quiz <noreply@localhost>")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Celery -----------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL")
# Without Redis, tasks run in-process right after the transaction commits (embedded mode).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# The cache holds the throttles' counters: shared by every web process on Redis (full stack),
# per process in memory (embedded).
CACHES = {
    "default": (
        # Django's RedisCache, except that a Redis away is a miss, not a 500 (quizsite/cache.py).
        {"BACKEND": "quizsite.cache.ForgivingRedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "quizsite",
         "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
# Two queues, so that grading never waits behind bulk work: `grading` (answers, the sweep,
# deadlines, the one practice variant a request waits up to 2 s for) and `bulk` (stock refills, a
# quiz's variants, regrades), which goes to `gpu` when CELERY_GPU_QUEUE=1 and a gpu worker runs.
GRADING_QUEUE = "grading"
BULK_QUEUE = "gpu" if env_bool("CELERY_GPU_QUEUE", False) else "bulk"
# Learner code (code exercises) runs only on a worker of its own queue, each run in a bubblewrap
# sandbox (attention_engine/code/sandbox.py; SECURITY.md): never in the web or grading workers.
CODE_QUEUE = "code"
CELERY_TASK_DEFAULT_QUEUE = GRADING_QUEUE
# Tasks are idempotent, so a message is acknowledged only after the task ran and is redelivered
# when the worker dies mid-task.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 90)
# Redelivery of unacknowledged messages waits this long; it must exceed the longest task.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "sweep-pending-submissions": {
        "task": "questions.tasks.sweep_pending_submissions",
        "schedule": float(env_int("SWEEP_INTERVAL_SECONDS", 2)),
    },
    # Quiz attempts past their deadline are submitted at it even if nobody looks at them.
    "close-overdue-attempts": {
        "task": "questions.tasks.close_overdue_attempts",
        "schedule": float(env_int("ATTEMPT_CLOSE_INTERVAL_SECONDS", 30)),
    },
    # Mock interviews past their deadline are finished at it, and their review cards rated.
    "close-overdue-mocks": {
        "task": "questions.tasks.close_overdue_mocks",
        "schedule": float(env_int("ATTEMPT_CLOSE_INTERVAL_SECONDS", 30)),
    },
}
# /healthz (quizsite/health.py): the queues some worker must consume, and how long the broker
# and worker checks are reused.
HEALTH_EXPECTED_QUEUES = env_list("HEALTH_EXPECTED_QUEUES", [GRADING_QUEUE, BULK_QUEUE, CODE_QUEUE])
HEALTH_CACHE_SECONDS = env_int("HEALTH_CACHE_SECONDS", 5)
CELERY_TASK_ROUTES = {
    name: {"queue": BULK_QUEUE}
    for name in (
        "questions.tasks.refill_stock", "questions.tasks.prepare_quiz_variants",
        # A quiz start's missing variants: the start answers 202 and retries, so they can queue.
        "questions.tasks.generate_seeded_variants", "questions.tasks.regrade_quiz",
    )
} | {
    name: {"queue": CODE_QUEUE}
    for name in ("questions.tasks.grade_code_submission", "questions.tasks.run_code_examples")
}

# --- The product -------------------------------------------------------------------------------
ATTN_DEVICE = env_str("ATTN_DEVICE", "auto")
if ATTN_DEVICE not in {"auto", "cpu", "cuda"}:
    raise ImproperlyConfigured(f"ATTN_DEVICE={ATTN_DEVICE!r}: use auto, cpu or cuda.")
# The device learner code gets on the code worker. Only the CPU for now: the sandbox cannot hold
# CUDA code within its limits yet (SECURITY.md), and refuses to run it rather than weaken them.
CODE_DEVICE = env_str("CODE_DEVICE", "cpu")
if CODE_DEVICE != "cpu":
    raise ImproperlyConfigured(f"CODE_DEVICE={CODE_DEVICE!r}: learner code runs on the CPU only (cpu).")
# A code answer is re-enqueued by the sweep only this long after its enqueue: longer than its
# task's time limit (90 s), so one still running in its sandbox is not run a second time.
CODE_SUBMISSION_STALE_SECONDS = env_int("CODE_SUBMISSION_STALE_SECONDS", 120)
# How long "Run examples" waits for the code worker before answering 202 (the page asks again).
CODE_RUN_WAIT_SECONDS = env_int("CODE_RUN_WAIT_SECONDS", 8)
# A submission still pending after this many seconds is re-enqueued by the sweep.
SUBMISSION_STALE_SECONDS = env_int("SUBMISSION_STALE_SECONDS", 5)
# How many verified variants the worker keeps ready per (kind, difficulty).
VARIANT_STOCK_TARGET = env_int("VARIANT_STOCK_TARGET", 40)
# The stock is topped up, in one batch, once it has fallen to this many.
VARIANT_STOCK_LOW = env_int("VARIANT_STOCK_LOW", VARIANT_STOCK_TARGET // 2)
# How long a request waits for the worker to make a variant when the stock is empty; then it
# answers 202 (`Preparing`, Retry-After) and the variant is ready for the next try.
VARIANT_SYNC_TIMEOUT_SECONDS = env_int("VARIANT_SYNC_TIMEOUT_SECONDS", 2)

# A request waiting for a grade (`?wait=N`, questions/practice/notify.py) waits at most this long;
# each web process lets this many wait at once (gunicorn's gthread workers: `make up`).
LONG_POLL_SECONDS = env_int("LONG_POLL_SECONDS", 10)
LONG_POLL_MAX_WAITERS = env_int("LONG_POLL_MAX_WAITERS", 8)  # half of the 16 threads

# --- API ---------------------------------------------------------------------------------------
# Request bodies: forms and the API's JSON are refused above this size before any parsing (413).
API_MAX_BODY_BYTES = env_int("API_MAX_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES
# The question-file import (GIFT, Moodle XML) takes larger bodies: the whole bank is ~200 kB.
QUESTION_UPLOAD_MAX_BYTES = env_int("QUESTION_UPLOAD_MAX_BYTES", 5 * 1024 * 1024)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # Scopes and rates: quizsite/api/throttles.py (README "Limits").
    "DEFAULT_THROTTLE_CLASSES": ["quizsite.api.throttles.ScopeByUrlThrottle"],
    # Proxies in front that append the client's address to X-Forwarded-For; with 0 the
    # connection's address is the client's (a client-sent X-Forwarded-For is never believed).
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "EXCEPTION_HANDLER": "quizsite.api.base.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
# --- Limits (README "Limits"; the request rates are in quizsite/api/throttles.py) -------------
# API tokens (django-rest-knox): one per sign-in, so per device; stored hashed; revoked by
# auth/logout (this one) and auth/logoutall (all of the user's).
REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env_int("API_TOKEN_TTL_HOURS", 10)),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# Sign-in lockout (django-axes) on the login form, the admin login and auth/token: the
# LOGIN_FAILURE_LIMIT-th failure for one username from one address locks that pair out for
# LOGIN_COOLOFF_MINUTES (429 with Retry-After); a failure while locked out restarts the wait, a
# success clears the count. By username and address together, so one classroom behind one
# address is not locked out by one learner's typos.
AXES_FAILURE_LIMIT = env_int("LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("LOGIN_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "quizsite.lockout.lockout_response"
AXES_CLIENT_IP_CALLABLE = "quizsite.api.throttles.client_address"  # the throttles' rule
if min(AXES_FAILURE_LIMIT, AXES_COOLOFF_TIME.total_seconds(), REST_KNOX["TOKEN_TTL"].total_seconds()) < 1:
    raise ImproperlyConfigured("LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES and API_TOKEN_TTL_HOURS must be at least 1.")

SPECTACULAR_SETTINGS = {
    "TITLE": "Attention quiz API",
    "DESCRIPTION": "Practise and grade questions on the attention mechanism of transformers.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "quizsite.api.throttles.document_throttles",  # the 429s
    ],
    # Several models have a `state`; each choice set gets its own name in the schema. The
    # serializers offer the values (`Choices.values`), so the sets are named by their values.
    "ENUM_NAME_OVERRIDES": {
        "QuizStateEnum": ["draft", "open"],
        "AttemptStateEnum": ["in_progress", "submitted"],
        "RegradeRunStateEnum": ["pending", "done"],
        "DifficultyEnum": ["easy", "medium", "hard"],
    },
    # The documentation page (/api/docs/): Swagger UI from the drf-spectacular-sidecar package,
    # its script in a file of its own (SpectacularSwaggerSplitView): the CSP allows no inline script.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
