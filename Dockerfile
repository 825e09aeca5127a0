# One image recipe for web and workers; REQUIREMENTS picks the light web set or the ML set.
FROM python:3.11-slim
ARG REQUIREMENTS=requirements/ml.txt
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY requirements/ requirements/
RUN pip install --no-cache-dir -r ${REQUIREMENTS}
COPY . .
# Production settings refuse a weak secret, also at build time: a throwaway one, never kept.
RUN DJANGO_SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    python manage.py collectstatic --noinput
RUN useradd --create-home ctl && mkdir -p /var/lib/ctl && chown ctl /var/lib/ctl
USER ctl
