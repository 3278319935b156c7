# Two commands a reader needs (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# A bare `torch` requirement can pull a multi-GB CUDA build; pin the CPU wheel's version.
TORCH  ?= torch==2.13.0

.PHONY: env lab lint test test-portable unit book notebooks slides bench browser-check clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[book,test]'
	touch $@

env: $(BIN)/.installed            ## build the environment

# JupyterLab refuses to start as root (the usual user in a container) unless told it may.
ROOT_OK := $(if $(filter 0,$(shell id -u)),--allow-root)
lab: env                          ## open the book in JupyterLab (its notebooks trusted: widgets render)
	$(BIN)/jupyter trust book/[0-9][0-9]_*.ipynb
	$(BIN)/jupyter lab $(ROOT_OK) book/00_guide.ipynb

# Two workers; a notebook's cells stay together on one worker (--dist loadscope).
XDIST ?= -n 2 --dist loadscope
test: env                         ## every test: unit tests + every notebook under nbval
	$(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env $(XDIST) --durations=15

# A chapter again as another CPU would compute it: one thread, and the vector instructions of
# ATen, MKL and oneDNN capped (different kernels, different last bits). Checked cells must not care.
# One chapter a run, by day of the year, so CI sees every chapter within a week; CHAPTER= picks one.
PORTABLE ?= OMP_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41
CHAPTERS := $(sort $(wildcard book/[0-9][0-9]_*.ipynb))
CHAPTER  ?= $(word $(shell echo $$(( $$(date +%-j) % $(words $(CHAPTERS)) + 1 ))),$(CHAPTERS))
test-portable: env                ## a chapter under nbval with one thread and capped instruction sets
	$(PORTABLE) $(BIN)/python -m pytest $(CHAPTER) --nbval-lax --nbval-current-env

lint: env                         ## ruff: style, imports, complexity and formatting of the library, tests and scripts
	$(BIN)/ruff check rnnreg tests scripts
	$(BIN)/ruff format --check rnnreg tests scripts

unit: env                         ## the unit tests without the slow ones (see pyproject's markers)
	$(BIN)/python -m pytest tests -m "not slow" $(XDIST) --durations=15

book: env                         ## only the notebooks under nbval
	$(BIN)/python -m pytest book --nbval-lax --nbval-current-env

# Chapters are edited as book/NN_topic.md (MyST); this syncs each into its .ipynb and re-executes it
# from a fresh kernel. One chapter: make notebooks NB=book/03_signal_decay.md
NB ?= $(wildcard book/[0-9][0-9]_*.md)
notebooks: env
	for f in $(NB); do \
	  $(BIN)/jupytext --quiet --to ipynb --update "$$f" && \
	  $(BIN)/jupyter nbconvert --log-level=WARN --to notebook --execute --inplace \
	    --ExecutePreprocessor.record_timing=False "$${f%.md}.ipynb" || exit 1; \
	done

slides: env                       ## reveal.js decks + static HTML, offline, into build/
	PATH=$(BIN):$$PATH bash scripts/build_slides.sh

# The book in a browser (Debian's chromium + playwright): every deck measured at 1280x720, every
# panel moved in JupyterLab. Screenshots and records into build/browser (RNNREG_BROWSER_OUT).
browser-check: env slides
	$(BIN)/python -m pip install --quiet -e '.[browser]'
	RNNREG_BROWSER=1 $(BIN)/python -m pytest tests/browser -v

bench: env
	$(BIN)/python -m rnnreg bench --compile --out results/bench/cpu.json

clean:
	rm -rf build
