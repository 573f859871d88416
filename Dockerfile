# One image for every Geulpi process; docker-compose.yml picks the command per service.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends build-essential && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt psycopg2-binary==2.9.11
COPY . .
ENV PYTHONUNBUFFERED=1 GEULPI_DATA_DIR=/data
