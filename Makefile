# Two entry points, both usable on a fresh machine (they create or reuse .venv and install first):
#   make book [PROFILE=default|ci|paper]   execute every chapter and build the HTML book
#   make test                              run the test suite (the ci profile end to end included)
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= default
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtc-installed

.PHONY: install book test nbmake clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch is pinned (==2.13.0) in pyproject.toml: the CPU wheel, never a multi-GB CUDA build.
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

book: $(STAMP)
	$(PY) -m rtc.book --profile $(PROFILE)

test: $(STAMP)
	$(PY) -m pytest

# The chapters as plain notebooks with the ci parameters injected, executed by nbmake
# (an alternative to the runner's own end-to-end test; nbmake injects no parameters itself).
NBDIR := nbmake-run
nbmake: $(STAMP)
	rm -rf $(NBDIR) && mkdir -p $(NBDIR)/src
	for f in book/chapters/*.py; do n=$$(basename $$f .py); \
	  $(VENV)/bin/jupytext --quiet --to ipynb -o $(NBDIR)/src/$$n.ipynb $$f && \
	  $(VENV)/bin/papermill --prepare-only -k python3 -f parameters/ci/$$n.yaml $(NBDIR)/src/$$n.ipynb $(NBDIR)/$$n.ipynb || exit 1; \
	done
	$(PY) -m pytest --nbmake -p no:cacheprovider $(NBDIR)/*.ipynb

clean:
	rm -rf book/_build book/chapters/*.ipynb nbmake-run
