"""Test settings: the real stack (PostgreSQL, Redis) with cheap password hashing and no spare pool."""

import os

os.environ.setdefault("OSDM_DEBUG", "1")
# One id per test run, inherited by the worker processes the suite starts: two runs on one machine
# (a developer's and a helper's) get their own database, queue and cache keys and never collide.
TEST_RUN_ID = os.environ.setdefault("OSDM_TEST_RUN_ID", str(os.getpid()))
os.environ.setdefault("OSDM_PLATFORM_KEY", "pk_test_platform_key_for_the_suite")
# Webhook timings short enough for a test to watch a retry or a lease expire (a worker process started
# by the suite gets its own values through the same variables).
os.environ.setdefault("OSDM_WEBHOOKS_TIMEOUT", "3")
os.environ.setdefault("OSDM_WEBHOOKS_SWEEP_GRACE", "1")
os.environ.setdefault("OSDM_WEBHOOKS_LEASE_SECONDS", "4")
os.environ.setdefault("OSDM_WEBHOOKS_RETRY_SCHEDULE", "0.3,0.3,0.3,0.3,0.3,0.3,0.3")
os.environ.setdefault("OSDM_WEBHOOKS_ALLOW_HTTP", "1")
os.environ.setdefault("OSDM_WEBHOOKS_ALLOW_PRIVATE", "1")

from osdm.settings import *  # noqa: E402,F403

DEBUG = False
# Hashing strength is not what these tests are about; PBKDF2 at full cost would dominate the suite.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
OSDM_SPARE_POOL_SIZE = 0
DATABASES["default"]["TEST"] = {"NAME": f"test_osdm_{TEST_RUN_ID}"}  # noqa: F405
CACHES["default"]["LOCATION"] = REDIS_URL.rsplit("/", 1)[0] + "/15"  # noqa: F405
CACHES["default"]["KEY_PREFIX"] = f"test-{TEST_RUN_ID}"  # noqa: F405
CELERY_TASK_DEFAULT_QUEUE = f"osdm-test-{TEST_RUN_ID}"
# Its own broker database: a `make run` worker on the same Redis must never take the suite's tasks.
CELERY_BROKER_URL = REDIS_URL.rsplit("/", 1)[0] + "/14"  # noqa: F405
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGGING["root"]["level"] = "WARNING"  # noqa: F405
