# The two commands of the README: `make lab` and `make test`. Both need only python3 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
ROOT_FLAG := $(if $(filter 0,$(shell id -u)),--allow-root,)
PYTEST_ARGS ?=
LAB_ARGS ?=

.PHONY: lab test lint bench clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Re-install only when the dependencies change (the install is editable); then compile the
# summary kernels into Numba's on-disk cache (seconds, once), so no view waits for it.
$(VENV)/.installed-widgets: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[widgets]'
	$(BIN)/python -m paramlab._summary_jit
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	$(BIN)/python -m paramlab._summary_jit
	touch $@ $(VENV)/.installed-widgets

lab: $(VENV)/.installed-widgets
	$(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --ServerApp.root_dir=$(CURDIR) --IdentityProvider.token=$${JUPYTER_TOKEN:-$$($(BIN)/python -c 'import secrets; print(secrets.token_hex(24))')} $(ROOT_FLAG) $(LAB_ARGS) notebooks/00_tour.ipynb

test: $(VENV)/.installed-test
	@bash tools/ensure_chromium.sh
	$(BIN)/python -m pytest -m "not gpu" --durations=25 $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check paramlab tests bench

bench: $(VENV)/.installed-test
	$(BIN)/python bench/run.py $(ARGS)

clean-venv:
	rm -rf $(VENV)
