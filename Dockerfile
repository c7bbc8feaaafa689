# Berth: one image for web (gunicorn), ws (daphne), the Celery worker (beat in a thread), the edge
# (nginx) and the WordPress host (php-fpm pools under Berth's supervisord).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    BERTH_VAR_DIR=/app/var BERTH_READ_DOTENV=0 STATIC_ROOT=/app/staticfiles
RUN apt-get update \
 && apt-get install -y --no-install-recommends git curl ca-certificates \
      nginx-light libnginx-mod-http-brotli-static \
      bubblewrap slirp4netns nodejs npm \
      php8.2-fpm php8.2-cli php8.2-mysql php8.2-gd php8.2-xml php8.2-mbstring php8.2-curl \
      php8.2-zip php8.2-intl wordpress wordpress-theme-twentytwentythree mariadb-client \
      restic postgresql-client \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 1000 berth
WORKDIR /app
COPY requirements.lock ./
RUN pip install --require-hashes -r requirements.lock
COPY . .
RUN SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput -v0 \
 && mkdir -p /app/var /srv/berth/edge /srv/berth/wordpress /srv/berth/supervisor \
 && chown -R berth:berth /app/var /srv/berth/edge /srv/berth/wordpress /srv/berth/supervisor
# Berth runs unprivileged; builds run in bubblewrap sandboxes as this user (docs/builds.md).
USER berth
EXPOSE 8000 8001
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:8000/health || exit 1
CMD ["gunicorn", "controlpanel.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
