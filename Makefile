# Two commands a reader needs (see README): `make lab` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# A bare `torch` requirement can pull a multi-GB CUDA build; pin the CPU wheel's version.
TORCH  ?= torch==2.13.0

.PHONY: env lab lint test test-portable unit book notebooks medium-progress slides html bench browser-check clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH)
	$(BIN)/python -m pip install --quiet -e '.[book,test]'
	touch $@

env: $(BIN)/.installed            ## build the environment

lab: env                          ## open the book in JupyterLab (its notebooks trusted: widgets render)
	$(BIN)/jupyter trust book/[0-9][0-9]_*.ipynb
	$(BIN)/jupyter lab book/00_guide.ipynb

test: env                         ## every test: unit tests + every notebook under nbval
	$(BIN)/python -m pytest tests book --nbval-lax --nbval-current-env

# The book again as another CPU would compute it: one thread, and the vector instructions of
# ATen, MKL and oneDNN capped (different kernels, different last bits). Checked cells must not care.
PORTABLE ?= OMP_NUM_THREADS=1 ATEN_CPU_CAPABILITY=default MKL_ENABLE_INSTRUCTIONS=SSE4_2 ONEDNN_MAX_CPU_ISA=SSE41
test-portable: env                ## the notebooks under nbval with one thread and capped instruction sets
	$(PORTABLE) $(BIN)/python -m pytest book --nbval-lax --nbval-current-env

lint: env                         ## ruff: style and import checks of the library, tests and scripts
	$(BIN)/ruff check rnnreg tests scripts

unit: env                         ## the unit tests without the slow ones (see pyproject's markers)
	$(BIN)/python -m pytest tests -m "not slow"

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

# The chapters that quote the medium run; `make medium-progress` records it (RUN: its folder with the
# checkpoint), writes the READMEs' marked sentences from it and re-executes them.
MEDIUM_CHAPTERS = book/00_guide.md book/01_why_regularize.md book/02_where_dropout_goes.md book/03_signal_decay.md
RUN ?= /work/runs/ptb/medium
medium-progress: env              ## record the medium run's progress, README sentences and chapters 00-03
	$(BIN)/python scripts/medium_progress.py $(RUN)
	$(MAKE) notebooks NB="$(MEDIUM_CHAPTERS)"

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
