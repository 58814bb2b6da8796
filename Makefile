# Two entry points, both usable on a fresh machine (they create or reuse .venv and install first):
#   make book [PROFILE=default|ci|paper]   execute every chapter and build the HTML book
#   make test                              run the test suite (the ci profile end to end included)
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= default
PY := $(VENV)/bin/python
STAMP := $(VENV)/.rtc-installed

.PHONY: install book test bench clean

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

clean:
	rm -rf book/_build book/chapters/*.ipynb
