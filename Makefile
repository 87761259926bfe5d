# Every gate runs through here, locally and in CI.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
SDK3   := .venv-genai3
PROXY  := .venv-litellm
PORT   ?= 8000
HOOK_PORT ?= 8799
# Every bundled dialect: specs/<name>.yaml, except files starting with _.
DIALECTS := $(filter-out _%,$(basename $(notdir $(wildcard specs/*.yaml))))
ARGS   ?=

.PHONY: setup serve test test-fast check lint typecheck bench bench-check wrk conform clean system-deps

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# google-genai 3.x (Vertex express mode) cannot share a venv with 2.x; the SDK tests run it from here.
$(SDK3)/.installed: pyproject.toml
	$(PYTHON) -m venv $(SDK3)
	$(SDK3)/bin/python -m pip install -q --upgrade pip
	$(SDK3)/bin/python -m pip install -q 'google-genai>=3,<4'
	touch $@

# LiteLLM's proxy (an OpenAI /v1/videos server in front of Gemini) for tests/e2e/test_litellm_proxy.py.
# 1.108.7 is the last release whose companion packages the index carries; prisma makes its 401s JSON.
$(PROXY)/.installed:
	$(PYTHON) -m venv $(PROXY)
	$(PROXY)/bin/python -m pip install -q --upgrade pip
	$(PROXY)/bin/python -m pip install -q 'litellm[proxy]==1.108.7' 'prisma==0.15.0'
	touch $@

# Debian packages the test suite needs: a real redis-server for the store tests, and Chromium
# (headless) with its chromedriver to render the kit's HTML report and drive the mock's inspector.
system-deps:
	@missing=""; \
	command -v redis-server >/dev/null 2>&1 || missing="$$missing redis-server"; \
	command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v chromedriver >/dev/null 2>&1 || missing="$$missing chromium-driver"; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null) \
	  || { echo "could not install$$missing: run as root, or install them yourself (apt-get install$$missing)"; exit 1; }; \
	fi

setup: $(VENV)/.installed

serve: setup
	$(BIN)/python -m mockserver serve --port $(PORT) $(ARGS)

test: setup $(SDK3)/.installed $(PROXY)/.installed system-deps
	$(BIN)/python -m pytest -p no:cacheprovider --cov --cov-report=term:skip-covered --cov-fail-under=85 $(ARGS)

test-fast: setup
	$(BIN)/python -m pytest -m 'not slow' $(ARGS)

lint: setup
	$(BIN)/ruff check videogen mockserver conformance tests benchmarks
	$(BIN)/ruff format --check videogen mockserver conformance tests benchmarks

typecheck: setup
	$(BIN)/mypy

check: lint typecheck test

# wrk (Debian) drives the load; Prism comes from npm on first use (benchmarks/.prism).
wrk:
	@command -v wrk >/dev/null 2>&1 || { echo "installing wrk (Debian package)"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null) \
	  || { echo "could not install wrk: run as root, or install it yourself"; exit 1; }; }

bench: setup system-deps wrk
	$(BIN)/python -m benchmarks --prism --redis --json benchmarks/last-run.json $(ARGS)
	$(BIN)/python -m benchmarks.loadtest --operations 10000

# The regression check CI runs: ratios against the bare endpoint only, with generous floors.
bench-check: setup wrk
	$(BIN)/python -m benchmarks --check

# The conformance kit against the mock, every bundled dialect, reports (JUnit, JSON, HTML) in reports/.
conform: setup
	@mkdir -p reports
	@$(BIN)/python -m mockserver serve --port $(PORT) --time-scale 0.02 --seed 1 --webhook-url http://127.0.0.1:$(HOOK_PORT)/ & pid=$$!; \
	trap "kill $$pid" EXIT; \
	for i in $$(seq 1 100); do $(BIN)/python -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$(PORT)/_mock/health', timeout=1)" 2>/dev/null && break; sleep 0.1; done; \
	status=0; \
	for d in $(DIALECTS); do \
	  $(BIN)/python -m conformance run --spec $$d --base-url http://127.0.0.1:$(PORT)/$$d --api-key key-a \
	    --other-api-key key-b --max-creates 3 --failure-suffix ' [mock:fail]' --rate-limit 100 --poll-interval 0.2 \
	    --webhook-listen 127.0.0.1:$(HOOK_PORT) --webhook-wait 10 \
	    --junit reports/$$d.xml --json reports/$$d.json --html reports/$$d.html || status=1; \
	done; exit $$status

clean:
	rm -rf $(VENV) $(SDK3) $(PROXY) .pytest_cache .mypy_cache .ruff_cache .coverage
