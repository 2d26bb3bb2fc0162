# Accord API image. Runs as an unprivileged user; configure with ACCORD_* variables.
# Production: set ACCORD_ENV=production, ACCORD_SIGNING_KEY (32+ chars) and
# ACCORD_DATABASE_URL=postgresql+asyncpg://…, run `accord migrate` once per release,
# then start the containers (the default command serves with ACCORD_WORKERS processes).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    ACCORD_HOST=0.0.0.0 \
    ACCORD_PORT=8000

RUN groupadd --system accord && useradd --system --gid accord --home-dir /srv/accord accord

WORKDIR /srv/accord
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY migrations ./migrations
RUN pip install -e . && mkdir -p /srv/accord/data && chown -R accord:accord /srv/accord

USER accord
ENV ACCORD_DATABASE_URL=sqlite+aiosqlite:////srv/accord/data/accord.db
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["accord", "serve"]
