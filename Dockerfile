# syntax=docker/dockerfile:1.7
# One image per Siaran service, from this one file. Build from the repository root:
#   docker build --build-arg SERVICE=ingest --build-arg PORT=8000 -t siaran/ingest .
# SERVICE is ingest, router, publisher, metrics or console; PORT its contract port, checked
# against siaran_shared.settings.SERVICE_PORTS during the build. docker-compose.yml passes both.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ghcr.io/astral-sh/uv:0.13.8 AS uv

# ---- build: resolve and install into /app/.venv; nothing from here but the venv survives ----
FROM ${PYTHON_IMAGE} AS build
ARG SERVICE
ARG PORT
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /src

# Step 1, dependencies only: every workspace manifest (uv resolves the whole workspace), no source.
# uv.lock is optional (untracked): without it, exclude-newer in pyproject.toml pins resolution.
COPY pyproject.toml uv.lock* ./
COPY shared/pyproject.toml shared/
COPY cli/pyproject.toml cli/
COPY services/ingest/pyproject.toml services/ingest/
COPY services/router/pyproject.toml services/router/
COPY services/publisher/pyproject.toml services/publisher/
COPY services/metrics/pyproject.toml services/metrics/
COPY services/console/pyproject.toml services/console/
RUN --mount=type=cache,target=/root/.cache/uv \
    test -n "${SERVICE}" -a -d "services/${SERVICE}" \
    || { echo "--build-arg SERVICE=<a folder of services/> is required" >&2; exit 1; }; \
    uv sync --no-dev --no-install-workspace --package "siaran-${SERVICE}"

# Step 2, the source: only the library and this service, installed as wheels (not editable).
COPY shared/ shared/
COPY services/${SERVICE}/ services/${SERVICE}/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --no-dev --no-editable --package "siaran-${SERVICE}"

# The port must be the service's own; the entry point runs `python -m siaran_<SERVICE>` (an
# exec-form ENTRYPOINT cannot name a build argument, so the module is written into this file).
RUN /app/.venv/bin/python -c "import sys; from siaran_shared.settings import SERVICE_PORTS as P; \
sys.exit(0 if str(P['${SERVICE}']) == '${PORT}' else f'PORT must be {P[\"${SERVICE}\"]} for ${SERVICE}')" \
    && printf 'import runpy\nrunpy.run_module("siaran_%s", run_name="__main__", alter_sys=True)\n' \
       "${SERVICE}" > /app/main.py

# ---- runtime: the same Python, the venv, no uv, no compilers, no source tree ----
FROM ${PYTHON_IMAGE}
ARG SERVICE
ARG PORT
RUN groupadd --system --gid 10001 siaran \
    && useradd --system --uid 10001 --gid siaran --no-create-home --home-dir /app \
       --shell /usr/sbin/nologin siaran
COPY --from=build /app/.venv /app/.venv
COPY --from=build /app/main.py /app/main.py
COPY deploy/docker/healthcheck.py /usr/local/lib/siaran/healthcheck.py
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SIARAN_HOST=0.0.0.0 \
    SIARAN_PORT=${PORT} \
    SIARAN_LOG_FORMAT=json \
    SIARAN_HOME=/tmp/siaran \
    OTEL_SERVICE_NAME=siaran-${SERVICE}
WORKDIR /app
USER 10001:10001
EXPOSE ${PORT}
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/usr/local/lib/siaran/healthcheck.py"]
# Exec form: python is PID 1, so SIGTERM from docker stop or the kubelet reaches uvicorn directly.
ENTRYPOINT ["python", "/app/main.py"]
