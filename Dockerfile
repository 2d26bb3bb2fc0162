# Accord API image: production mode by default. It refuses to start without a real
# signing key: set ACCORD_SIGNING_KEY (32+ characters) and
# ACCORD_DATABASE_URL=postgresql+asyncpg://…, run `accord migrate` once per release, then
# start the containers (the default command serves with ACCORD_WORKERS processes).
# ACCORD_ENV=development is for a laptop: `accord serve` then refuses any address but
# loopback, since the development signing key is public.
#
# Two stages: the first builds a virtual environment from requirements.lock (every
# run-time package pinned; scripts/lock_dependencies.py writes it) and the service's own
# wheel; the second copies that environment into a clean image and runs as `accord`.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY requirements.lock ./
RUN python -m venv /opt/accord \
    && /opt/accord/bin/pip install --no-deps --requirement requirements.lock
COPY pyproject.toml README.md ./
COPY app ./app
COPY migrations ./migrations
RUN /opt/accord/bin/pip wheel --no-deps --wheel-dir /build/wheels . \
    && /opt/accord/bin/pip install --no-deps /build/wheels/*.whl \
    && /opt/accord/bin/pip check

FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/accord/bin:$PATH \
    ACCORD_ENV=production \
    ACCORD_HOST=0.0.0.0 \
    ACCORD_PORT=8000 \
    ACCORD_DATABASE_URL=sqlite+aiosqlite:////srv/accord/data/accord.db
RUN groupadd --system accord \
    && useradd --system --gid accord --home-dir /srv/accord --shell /usr/sbin/nologin accord \
    && mkdir -p /srv/accord/data && chown accord:accord /srv/accord/data
COPY --from=build /opt/accord /opt/accord
WORKDIR /srv/accord
USER accord
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/healthz').status == 200 else 1)"
CMD ["accord", "serve"]
