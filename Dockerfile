# Production image: gunicorn web, Celery worker and beat all run from it (docker-compose.yml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PRM_ENV=production STATIC_ROOT=/app/staticfiles

RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 prm

WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY . .
# Settings never connect at import time, so placeholder URLs are enough to collect assets.
RUN SECRET_KEY=build-only DATABASE_URL=postgres://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 ALLOWED_HOSTS=localhost \
    python manage.py collectstatic --no-input -v 0

USER prm
EXPOSE 8000
CMD ["gunicorn", "prm.wsgi", "-b", "0.0.0.0:8000", "-w", "3", "--threads", "4", "--access-logfile", "-"]
