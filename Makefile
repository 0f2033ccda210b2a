# The two commands a newcomer needs are `make demo` and `make test`; everything else is for us.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PEERS := tests/peers
PEERS_STAMP := $(PEERS)/node_modules/.installed

.PHONY: demo test lint bench chromium peers clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/doorcode demo

lint: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy --strict src

test: lint chromium peers
	$(BIN)/pytest

# The lock back-ends' own fakes (Seam's, from npm), pinned by package-lock.json; reinstalled
# when the lockfile changes or node_modules is missing.
peers: $(PEERS_STAMP)

$(PEERS_STAMP): $(PEERS)/package.json $(PEERS)/package-lock.json
	cd $(PEERS) && npm ci --omit=optional --no-audit --no-fund
	touch $(PEERS_STAMP)

# The page tests drive Debian's Chromium through Playwright (no browser download).
chromium:
	@command -v chromium >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium chromium-driver)

bench: $(STAMP)
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis $(PEERS)/node_modules
