# driftflow for Prefect workers and the CLI: `docker build -t driftflow .`
# Stage 1 resolves the locked environment with uv; stage 2 carries only the virtualenv and the project.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ARG UV_VERSION=0.13.9
# uv from PyPI (no other registry needed); the flag lets pip install into a distribution's own Python too
RUN python3 -m pip install --no-cache-dir --break-system-packages "uv==${UV_VERSION}"
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never UV_PROJECT_ENVIRONMENT=/app/.venv
WORKDIR /app
# Dependencies first (cached while only the code changes), from the lock, without the dev group;
# the s3/gcs/azure extras give DRIFTFLOW_ARTIFACTS its remote file systems
ARG EXTRAS="--extra s3 --extra gcs --extra azure"
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project ${EXTRAS}
COPY flows ./flows
COPY tasks ./tasks
COPY deployments ./deployments
COPY expectations ./expectations
RUN uv sync --frozen --no-dev ${EXTRAS}

FROM ${PYTHON_IMAGE}
RUN groupadd --gid 10001 driftflow \
    && useradd --uid 10001 --gid driftflow --home-dir /home/driftflow --create-home --no-log-init driftflow
COPY --from=build --chown=root:root /app /app
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DO_NOT_TRACK=1 \
    PREFECT_SERVER_ANALYTICS_ENABLED=false \
    DRIFTFLOW_PROJECT_DIR=/app \
    DRIFTFLOW_HOME=/home/driftflow/.driftflow \
    PREFECT_HOME=/home/driftflow/.prefect
WORKDIR /app
USER driftflow:driftflow
# A worker: `prefect worker start --pool <pool>`; the CLI: `driftflow <command>` (the default shows its help)
ENTRYPOINT []
CMD ["driftflow", "--help"]
