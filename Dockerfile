# syntax=docker/dockerfile:1
# The proxy image: one process per container (scale with replicas, or --workers N),
# every dependency installed from requirements.lock with its hashes checked.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
WORKDIR /src
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements.lock ./
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY pyproject.toml README.md ./
COPY proxy ./proxy
# The project itself, built by the locked setuptools; nothing else is fetched. The build
# tools then leave: the running image needs neither.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation --no-index . \
 && /opt/venv/bin/pip uninstall --yes setuptools wheel

FROM ${PYTHON_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG CREATED=unknown
LABEL org.opencontainers.image.title="pdt-proxy" \
      org.opencontainers.image.description="API compatibility proxy: ClearSale legacy fraud-prevention APIs answered by the Plataforma Data Trust" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.created="${CREATED}" \
      org.opencontainers.image.licenses="Proprietary" \
      org.opencontainers.image.vendor="ClearSale"
# A fixed numeric id: Kubernetes' runAsNonRoot can only verify a number.
RUN groupadd --system --gid 10001 proxy \
 && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home proxy \
 && mkdir -p /var/lib/pdt-proxy \
 && chown 10001:10001 /var/lib/pdt-proxy
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# Data, not code: operators mount their own mappings/ and config/ over these.
COPY mappings ./mappings
COPY config ./config
ENV PATH=/opt/venv/bin:$PATH \
    PROXY_HOME=/app \
    PROXY_DATA_DIR=/var/lib/pdt-proxy \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# SQLite state (embedded default) and the token key file live here; with PostgreSQL
# (PROXY_DATABASE_DSN) and PROXY_TOKEN_KEY set, nothing lasting does.
VOLUME ["/var/lib/pdt-proxy"]
USER 10001:10001
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)"]
# Inside a container the proxy must listen beyond loopback.
CMD ["pdt-proxy", "serve", "--host", "0.0.0.0", "--port", "8080"]
