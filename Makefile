# Entry points, usable on a fresh machine (they create or reuse .venv and install first):
#   make book [PROFILE=default|ci|paper]   execute every chapter and build the HTML book
#   make test                              everything: lint, the ci book (each chapter executed once, the HTML built
#                                          with -W), then the test suite, whose chapter tests read those notebooks
#   make lint                              ruff, the import layers and cycles; part of make test
#   make check-html                        open every page of the built book in headless Chromium and check it
#   make nbmake [NBPROFILE=ci]             the chapters through nbmake instead of the runner (not part of make test)
#   make long [LONG_HOURS=h]               the long run of the primary comparison (parameters/studies/long.yaml):
#                                          resumable, as far as LONG_HOURS allow; publishes published/long.csv
#   make recipes                           the recipe study (parameters/studies/recipes.yaml) → published/recipes.csv
# `jupyter-book build book/` also builds the whole book (default profile), sharing make book's cache.
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= default
NBPROFILE ?= ci
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtc-installed

.PHONY: install book test lint nbmake check-html clean long recipes

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned (==2.13.0) in pyproject.toml: the CPU wheel, never a multi-GB CUDA build.
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(PY) -m rtc.book --profile $(PROFILE)

# Each chapter runs once under ci: the runner executes what its cache lacks and builds the HTML (-W); the chapter
# tests (tests/test_chapters.py) then check those executed notebooks instead of executing the chapters again.
test: $(STAMP) lint
	$(PY) -m rtc.book --profile ci
	$(PY) -m pytest

# Static checks: ruff (pyflakes, bugbear, line length, import order, complexity; pyproject.toml), the layers of
# the library (import-linter's contract in pyproject.toml) and import cycles (scripts/import_cycles.py).
lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/lint-imports
	$(PY) scripts/import_cycles.py rtc

# The chapters as plain notebooks with the profile's parameters injected (nbmake injects none), executed by nbmake.
NBDIR := nbmake-run
nbmake: $(STAMP)
	rm -rf $(NBDIR)
	$(PY) -m rtc.book --profile $(NBPROFILE) --prepare $(NBDIR)
	$(PY) -m pytest --nbmake -p no:cacheprovider $(NBDIR)/*.ipynb

# Headless Chromium (installed with apt-get if missing) on every page of book/_build/html; screenshots
# go to book/_build/screenshots/.
check-html: $(STAMP)
	$(PY) scripts/check_html.py book/_build/html --screenshots book/_build/screenshots

# Studies too long for a book build (rtc.studies): a kill loses at most a checkpoint's steps, and the next call goes
# on; a second call while one runs waits for it. The table is written again after every budget.
long: $(STAMP)
	$(PY) -m rtc.studies long $(if $(LONG_HOURS),--hours $(LONG_HOURS))

recipes: $(STAMP)
	$(PY) -m rtc.studies recipes

clean:
	# book/chapters/*.ipynb: executed notebooks an older runner wrote next to the sources.
	rm -rf book/_build nbmake-run book/chapters/*.ipynb
