# One entry point for people and CI. Everything installs into ./.venv, tests/hexo/node_modules
# (Hexo 7 with its marked renderer and the landscape theme, pinned by tests/hexo/package-lock.json)
# and tests/replayweb/node_modules (ReplayWeb.page and playwright-core).
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup crawl test demo bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip   # the venv's own pip 23.x trips over lxml[html-clean]
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# Bytecode for the package, as pip writes it for a regular install (an editable one writes none, and
# where PYTHONDONTWRITEBYTECODE is set Python never does): every command and worker then starts
# without compiling ~60 modules (0.1 s). Only changed files are compiled again.
setup: $(STAMP)
	$(PY) -m compileall -q cumt_archive

tests/hexo/node_modules/.package-lock.json: tests/hexo/package-lock.json
	cd tests/hexo && npm ci --no-audit --no-fund --loglevel=error

# ReplayWeb.page and playwright-core, pinned by tests/replayweb/package-lock.json; the browser they drive
# is Debian's chromium, installed with apt-get where it is missing (as root, as on CI).
tests/replayweb/node_modules/.package-lock.json: tests/replayweb/package-lock.json
	cd tests/replayweb && npm ci --no-audit --no-fund --loglevel=error

/usr/bin/chromium:
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

# The main job: crawl every column of the profile into output/ (incremental after the first run).
crawl: setup
	$(VENV)/bin/scrapy crawl cumt

test: setup tests/hexo/node_modules/.package-lock.json tests/replayweb/node_modules/.package-lock.json /usr/bin/chromium
	$(PY) -m pytest -q

# Offline demo: the bundled fixture mirror of cumt's hosts, served on 127.0.0.1, crawled by the real spider.
demo: setup
	bash scripts/demo.sh

bench: setup
	$(PY) -m pip install --quiet -e '.[bench]'
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) tests/hexo/node_modules tests/replayweb/node_modules output-demo
