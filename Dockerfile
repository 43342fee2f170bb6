# Opt-Out Assistant: `docker compose up -d` (see docs/deploy.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# A fixed uid/gid so that a volume restored from a backup keeps working across image rebuilds. /data is
# created owned by that user before VOLUME, so a new named volume starts with that ownership.
RUN groupadd --system --gid 10001 optout \
    && useradd --system --uid 10001 --gid optout --home-dir /app --no-create-home --shell /usr/sbin/nologin optout \
    && mkdir -p /data \
    && chown optout:optout /data

# The dependencies exactly as locked (versions and hashes, README "Dependencies"), in a layer of their own
# that code changes do not rebuild; a download that does not match its hash fails the build.
COPY requirements.lock ./
RUN pip install --require-hashes --no-deps -r requirements.lock && pip check
COPY pyproject.toml ./
COPY bot ./bot
COPY adapters ./adapters
COPY content ./content
# Installed as root and left owned by root: the bot user can read its code but not change it. Nothing
# more is fetched: --no-deps (the lock has them all), --no-build-isolation (setuptools is in the lock).
RUN pip install --no-deps --no-build-isolation .

# The guide is read from /app/content (CONTENT_PATH); the database lives on the /data volume.
ENV DATABASE_URL=sqlite:////data/optout.db \
    CONTENT_PATH=/app/content/claude.yaml \
    HEALTH_PORT=8080 \
    HEALTH_HOST=0.0.0.0 \
    LOG_FORMAT=json

VOLUME ["/data"]
USER optout
EXPOSE 8080

# slim has no curl: ask /healthz with the interpreter that is already there.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('HEALTH_PORT', '8080'), timeout=4)"]

# `optout-bot run` finishes the steps in flight and exits 0 on SIGTERM within 10 s.
STOPSIGNAL SIGTERM
CMD ["optout-bot", "run"]
