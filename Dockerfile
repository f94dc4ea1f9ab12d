# syntax=docker/dockerfile:1
# The proxy image: one process per container, scale with replicas (or --workers).
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY proxy ./proxy
RUN python -m pip install --no-cache-dir --upgrade pip \
 && python -m pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
RUN useradd --system --uid 10001 --home-dir /app proxy
WORKDIR /app
COPY --from=build /wheels /wheels
RUN python -m pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels
# Data, not code: operators mount their own mappings/ and config/ over these.
COPY mappings ./mappings
COPY config ./config
ENV PROXY_HOME=/app \
    PROXY_DATA_DIR=/var/lib/pdt-proxy \
    PYTHONUNBUFFERED=1
RUN mkdir -p /var/lib/pdt-proxy && chown proxy /var/lib/pdt-proxy
USER proxy
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=2s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=2)" || exit 1
# Inside a container the proxy must listen beyond loopback.
CMD ["pdt-proxy", "serve", "--host", "0.0.0.0", "--port", "8080"]
