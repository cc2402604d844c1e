# syntax=docker/dockerfile:1
# The web service and the action server (Python 3.11): one image, two commands.
#
#   docker build -f deploy/Dockerfile.app -t shop-assistant-app .      (from the repository root)
#   docker run --env-file deploy/.env shop-assistant-app python -m bot web
#
# The libraries are exactly those `make setup` puts into .venv (.ci/requirements/app.txt, pinned
# by `make lock-app`); torch comes from PyTorch's CPU index (no CUDA libraries in the image).
# No secret is in the image: every setting comes from the environment when a container starts.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# The widget's socket.io client, from npm, pinned by the widget's lock file (`make setup` too).
FROM node:20-bookworm-slim AS widget
WORKDIR /src/bot/web/widget
COPY bot/web/widget/package.json bot/web/widget/package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts --loglevel=error

FROM ${PYTHON_IMAGE} AS libraries
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
COPY .ci/requirements/app.txt /tmp/app.txt
RUN python -m venv /opt/venv \
 && /opt/venv/bin/pip install --index-url https://download.pytorch.org/whl/cpu \
      "$(grep '^torch==' /tmp/app.txt)" \
 && /opt/venv/bin/pip install -r /tmp/app.txt

FROM ${PYTHON_IMAGE}
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    BOT_HOST=0.0.0.0
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/app app
COPY --from=libraries /opt/venv /opt/venv
WORKDIR /app
# The code is root's and read-only to the service; only var/ (FAQ index, caches) is writable.
COPY pyproject.toml ./
COPY vocabulary/ vocabulary/
COPY faq_index/ faq_index/
COPY connectors/ connectors/
COPY actions/ actions/
COPY bot/ bot/
COPY data/faq/ data/faq/
COPY --from=widget /src/bot/web/widget/node_modules/ bot/web/widget/node_modules/
RUN mkdir -p var/faq_index var/cache var/run && chown -R app:app var
USER app
EXPOSE 8000 5055
# The web service; the action server's command is in deploy/compose.yml.
CMD ["python", "-m", "bot", "web"]
