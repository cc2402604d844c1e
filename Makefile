# The two commands of the README: `make run` and `make test`. Both set up what they need:
# .venv (Python 3.11: actions, faq_index, web, tests), .venv-rasa (Python 3.10: Rasa 3.6),
# a trained Rasa model and a FAQ index, each redone only when its inputs change.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
RASA_VENV := .venv-rasa
PY := $(VENV)/bin/python
RASA := $(RASA_VENV)/bin/rasa
PIP_FLAGS := --disable-pip-version-check --quiet
# The browser tests drive Debian's Chromium (Playwright brings no browser of its own here).
CHROMIUM ?= /usr/bin/chromium
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
APT_INSTALL := env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)

# The model is cached by a hash of everything that shapes it.
RASA_INPUTS := config.yml domain.yml data/nlu.yml data/rules.yml .ci/requirements/rasa.txt
MODEL_HASH = $(shell cat $(RASA_INPUTS) | sha256sum | cut -c1-16)
MODEL = models/$(MODEL_HASH).tar.gz
FAQ_SOURCES ?= data/faq
FAQ_INDEX_DIR ?= var/faq_index
export FAQ_INDEX_DIR

.PHONY: help setup venvs train index run cluster test test-stories lint check typecheck contracts \
  format bench lock-app lock-rasa clean

help:
	@echo "make run    set everything up and start the assistant (Rasa :5005, actions :5055)"
	@echo "make test   set everything up and run the tests"
	@echo "make cluster  CLUSTER_REPLICAS Rasa, action and web servers behind nginx (PostgreSQL, Redis, RabbitMQ)"
	@echo "helpers:    setup train index lint check format bench clean"

$(VENV)/.installed: .ci/requirements/app.txt
	@test -x $(PY) || $$(.ci/find-python 3.11) -m venv $(VENV)
	$(PY) -m pip install $(PIP_FLAGS) -r .ci/requirements/app.txt
	@touch $@

$(RASA_VENV)/.installed: .ci/requirements/rasa.txt
	@test -x $(RASA_VENV)/bin/python || $$(.ci/find-python 3.10) -m venv $(RASA_VENV)
	$(RASA_VENV)/bin/python -m pip install $(PIP_FLAGS) -r .ci/requirements/rasa.txt
	@touch $@

# The widget's third-party script (socket.io client), from npm, pinned by the lock file.
WIDGET_DEPS := bot/web/widget/node_modules/.installed
$(WIDGET_DEPS): bot/web/widget/package.json bot/web/widget/package-lock.json
	npm ci --prefix bot/web/widget --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

# Test-only: rasa-webchat's bundle, run in Chromium against our socket.io channel.
WEBCHAT_DEPS := tests/integration/webchat/node_modules/.installed
$(WEBCHAT_DEPS): tests/integration/webchat/package.json tests/integration/webchat/package-lock.json
	npm ci --prefix tests/integration/webchat --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

venvs: $(VENV)/.installed $(RASA_VENV)/.installed $(WIDGET_DEPS)

train: $(RASA_VENV)/.installed
	@if [ -f $(MODEL) ]; then echo "Rasa model $(MODEL) is up to date"; else \
	  mkdir -p models && \
	  $(RASA) train --config config.yml --domain domain.yml --data data/nlu.yml data/rules.yml \
	    --out models --fixed-model-name $(MODEL_HASH) && \
	  find models -name '*.tar.gz' ! -name '$(MODEL_HASH).tar.gz' -delete; fi

index: $(VENV)/.installed
	$(PY) -m faq_index build --source $(FAQ_SOURCES) --out $(FAQ_INDEX_DIR)

setup: venvs train index

run: setup
	$(PY) -m bot run --model $(MODEL)

# Several servers behind a load balancer (Debian's nginx), on the services of the development
# machines unless the environment (or .env) names others.
NGINX ?= /usr/sbin/nginx
$(NGINX):
	@echo "installing Debian's nginx for make cluster ..."
	$(SUDO) $(APT_INSTALL) nginx || { $(SUDO) apt-get update && $(SUDO) $(APT_INSTALL) nginx; }

# Exported DATABASE_URL, REDIS_URL and EVENT_BROKER_URL win over these defaults. A Rasa server
# left with all the traffic answers its liveness probe late (NLU runs on its event loop): 10 s,
# not the 2 s of PROBE_TIMEOUT's default, before a probe counts as failed.
CLUSTER_DATABASE_URL ?= postgresql://postgres@127.0.0.1:5432/shop_assistant
CLUSTER_REDIS_URL ?= redis://127.0.0.1:6379/0
CLUSTER_EVENT_BROKER_URL ?= amqp://guest:guest@127.0.0.1:5672/
cluster: setup $(NGINX)
	DATABASE_URL=$${DATABASE_URL:-$(CLUSTER_DATABASE_URL)} \
	REDIS_URL=$${REDIS_URL:-$(CLUSTER_REDIS_URL)} \
	EVENT_BROKER_URL=$${EVENT_BROKER_URL:-$(CLUSTER_EVENT_BROKER_URL)} \
	PROBE_TIMEOUT=$${PROBE_TIMEOUT:-10} \
	  $(PY) -m bot cluster --model $(MODEL)

# Rasa's conversation tests: the context rules (tests/stories), read end to end by the model.
test-stories: train
	$(RASA) test core --model $(MODEL) --stories tests/stories --e2e --fail-on-prediction-errors \
	  --no-plot --out var/rasa-test --quiet

# Debian's chromium, and a Chinese font so that screenshots show Chinese text.
$(CHROMIUM) $(CJK_FONT):
	@echo "installing Debian's chromium and a CJK font for the browser tests ..."
	$(SUDO) $(APT_INSTALL) chromium fonts-wqy-microhei \
	  || { $(SUDO) apt-get update && $(SUDO) $(APT_INSTALL) chromium fonts-wqy-microhei; }

# pytest's configuration is in pyproject.toml: the tests, and the examples in the packages'
# docstrings (--doctest-modules).
test: setup $(CHROMIUM) $(CJK_FONT) $(WEBCHAT_DEPS) $(NGINX)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(MAKE) --no-print-directory check
	$(MAKE) --no-print-directory test-stories
	RASA_MODEL=$(MODEL) CHROMIUM=$(CHROMIUM) $(PY) -m pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Static checks, configured in pyproject.toml. Types: once per Python environment, faq_index,
# vocabulary and bot's lower layers (settings, store, domain) with .venv's libraries, the
# connectors with those of Rasa's venv, where they run. Contracts: the import rules of the architecture (import-linter reads the code, imports
# nothing).
check: typecheck contracts

typecheck: $(VENV)/.installed $(RASA_VENV)/.installed
	$(PY) -m mypy faq_index vocabulary bot/settings bot/store bot/domain bot/workers bot/runtime
	$(PY) -m mypy --python-executable $(RASA_VENV)/bin/python connectors

contracts: $(VENV)/.installed
	$(VENV)/bin/lint-imports

format: $(VENV)/.installed
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

bench: setup
	$(PY) -m bench.retrieval

lock-app:
	rm -rf /tmp/lock-app && $$(.ci/find-python 3.11) -m venv /tmp/lock-app
	/tmp/lock-app/bin/pip install $(PIP_FLAGS) -r .ci/requirements/app.in
	(echo "# Generated from app.in by pip freeze; do not edit by hand."; \
	 /tmp/lock-app/bin/pip freeze | sed 's/^torch==\(.*\)+cpu$$/torch==\1/') > .ci/requirements/app.txt

lock-rasa:
	rm -rf /tmp/lock-rasa && $$(.ci/find-python 3.10) -m venv /tmp/lock-rasa
	/tmp/lock-rasa/bin/pip install $(PIP_FLAGS) -r .ci/requirements/rasa.in
	(echo "# Generated from rasa.in by pip freeze; do not edit by hand."; \
	 /tmp/lock-rasa/bin/pip freeze) > .ci/requirements/rasa.txt

clean:
	rm -rf models var .pytest_cache
