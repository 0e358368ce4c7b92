# An exact version, never a floating tag: a rebuild gives the same base (bump it on purpose).
FROM python:3.12.12-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
        libharfbuzz-subset0 fonts-dejavu-core && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml requirements.lock README.md ./
COPY locale locale
COPY plie plie
COPY territories territories
COPY operations operations
COPY participants participants
COPY steps steps
COPY applications applications
COPY reporting reporting
COPY privacy privacy
COPY imports imports
COPY demo demo
RUN pip install -c requirements.lock .

COPY . .
RUN SECRET_KEY=build-only python manage.py collectstatic --no-input -v0 \
    && useradd --system --home /app plie && mkdir -p /app/var && chown -R plie /app/var
USER plie

EXPOSE 8000
CMD ["gunicorn", "plie.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
