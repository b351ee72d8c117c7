"""Settings for the test suite: production settings with test credentials filled in.

DATABASE_URL and REDIS_URL still come from the environment (CI points them at PostgreSQL and
Redis). Tasks run in-process unless a test starts a real worker and switches eager mode off.
"""

import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("SECURE_COOKIES", "0")

from .settings import *  # noqa: E402,F403

CELERY_TASK_ALWAYS_EAGER = True
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast user creation in tests
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405

# Each test process counts its own requests; RedisCache.clear() would empty the broker's database.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Tests post many answers quickly; tests/security/test_throttles.py sets low rates itself.
for _name in ("THROTTLE_SIGN_IN", "THROTTLE_ANSWERS", "THROTTLE_ITEMS", "THROTTLE_CREATIONS"):
    os.environ.setdefault(_name, "100000/minute")
# Client.login() calls authenticate() without a request, which axes refuses; the lockout is
# switched on in tests/security/test_lockout.py.
AXES_ENABLED = False
# Small stocks, refilled after every item, as tests expect (production refills 40 at a time).
VARIANT_STOCK_TARGET = VARIANT_STOCK_LOW = 5
