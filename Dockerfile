# One image for the web, the worker and beat; the command chooses the role.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 VAR_DIR=/app/var
WORKDIR /app

RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 bubblewrap \
    && rm -rf /var/lib/apt/lists/*

# Dependencies first, so code changes reuse this layer. TORCH_INDEX_URL lets a CPU-only host use
# a CPU build of torch; without it pip takes the default build (which also serves the gpu-worker).
ARG TORCH_INDEX_URL=
COPY pyproject.toml README.md ./
RUN if [ -n "$TORCH_INDEX_URL" ]; then pip install --index-url "$TORCH_INDEX_URL" torch==2.13.0; fi
COPY attention_engine ./attention_engine
COPY questions ./questions
COPY quizsite ./quizsite
COPY manage.py ./
RUN pip install . \
    && mkdir -p /app/var \
    && DEBUG=1 python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --system --home /app quiz && chown -R quiz /app/var

USER quiz
EXPOSE 8000
CMD ["gunicorn", "quizsite.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "16", "--access-logfile", "-"]
