# Two commands a reader needs (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# A bare `torch` requirement can pull a multi-GB CUDA build; pin the CPU wheel's version.
TORCH  ?= torch==2.13.0

.PHONY: env lab test unit book slides html bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[book,test]'
	touch $@

env: $(BIN)/.installed            ## build the environment

lab: env                          ## open the book in JupyterLab
	$(BIN)/jupyter lab book/00_guide.ipynb

test: env                         ## every test: unit tests + every notebook under nbval
	$(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env

unit: env
	$(BIN)/python -m pytest tests

book: env                         ## only the notebooks under nbval
	$(BIN)/python -m pytest book --nbval-lax --nbval-current-env

slides: env                       ## reveal.js decks + static HTML, offline, into build/
	PATH=$(BIN):$$PATH bash scripts/build_slides.sh

bench: env
	$(BIN)/python -m rnnreg bench --compile --out results/bench/cpu.json

clean:
	rm -rf build
