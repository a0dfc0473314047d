# syntax=docker/dockerfile:1
# Nexus Réussite — production images (see docker-compose.prod.yml and README.md).
#
#   docker build -t nexus-reussite .                 # the app: gunicorn (web), worker.py, migrations
#   docker build -t nexus-reussite-nginx --target nginx .   # nginx with the static files baked in
#
# The app image is the last stage, so it is the default target.

ARG PYTHON_IMAGE=python:3.11-slim

# --- 1. builder: every dependency installed into a virtualenv; compilers stay in this stage ----------
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# Only needed if a dependency ever ships without a wheel; never copied to the final image.
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential \
 && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
COPY requirements.txt /tmp/requirements.txt
RUN pip install --upgrade pip && pip install -r /tmp/requirements.txt

# --- 2. nginx: the only published service; serves /static itself, proxies the rest ------------------
FROM nginx:1.27-alpine AS nginx
COPY deploy/nginx.conf /etc/nginx/conf.d/default.conf
COPY nexus/static /srv/static

# --- 3. app: python:3.11-slim + the virtualenv + the code, run as a non-root user -------------------
FROM ${PYTHON_IMAGE} AS app
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    NEXUS_ENV=production \
    NEXUS_INSTANCE_PATH=/data/instance \
    PORT=8000 \
    OMP_NUM_THREADS=1
RUN groupadd --system --gid 10001 nexus \
 && useradd --system --uid 10001 --gid nexus --create-home --shell /usr/sbin/nologin nexus \
 && mkdir -p /data/instance \
 && chown -R nexus:nexus /data
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
# The code stays owned by root (read-only for the app); only /data/instance is writable.
COPY . /app
USER nexus
EXPOSE 8000
VOLUME ["/data/instance"]
# /healthz answers 200 when the database (with pgvector) answers, 503 otherwise.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "/app/deploy/healthcheck.py"]
# gunicorn binds 0.0.0.0:$PORT (gunicorn's default when PORT is set); gthread workers, see gunicorn.conf.py.
CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]
