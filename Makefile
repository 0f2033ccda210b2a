# The two commands a newcomer needs are `make demo` and `make test`; everything else is for us.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

PEERS := tests/peers
PEERS_STAMP := $(PEERS)/node_modules/.installed

# pytest-xdist workers for `make test`: one per core. `make test PYTEST_WORKERS=0` runs serially.
PYTEST_WORKERS ?= auto

.PHONY: demo test lint style types bench chromium peers clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	# An editable install leaves our own modules uncompiled; a shell with
	# PYTHONDONTWRITEBYTECODE set would then compile them at every command's start.
	$(BIN)/python -m compileall -q src >/dev/null
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/doorcode demo

lint: style types

style: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

types: $(STAMP)
	$(BIN)/mypy --strict src

# The checks and the installs before the suite run side by side (mypy needs a core for a
# while, npm ci mostly waits on the disk and the network); each one's output is printed whole
# when it ends. The suite then runs on every core: modules that share an expensive fixture stay
# on one worker (xdist_group marks, --dist loadgroup), every other test goes where a core is free.
test: $(STAMP)
	$(MAKE) --no-print-directory -j4 --output-sync=target style types chromium peers
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadgroup

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
