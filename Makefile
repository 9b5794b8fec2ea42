# crmpm: `make run` serves the app with demo data, `make test` runs the whole suite.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed

.PHONY: install translations messages browser office run test bench bench-http bench-jobs bench-import-job bench-search clean

install: $(STAMP) translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The web pages' translations: web/translations/*/LC_MESSAGES/messages.po compiled to .mo.
translations: $(STAMP)
	$(BIN)/pybabel -q compile -d web/translations

# After changing texts in web/ or domain messages: extract them and merge them into every language's .po.
# The domain's error messages (crmpm.errors) are the templates given to the error classes and to Phrase (and
# accounts.normalize's InvalidValue and NotAPhoneNumber reasons); the pages show them translated. Warnings about
# f-strings in ``errors={f"...": ...}`` are expected: the field details stay English, like the API.
DOMAIN_MESSAGES := -k Invalid -k Conflict -k Forbidden -k NotFound -k Unauthenticated -k CrmpmError -k Phrase \
	-k InvalidValue -k NotAPhoneNumber -k WrongPassword -k TooManyAttempts
messages: $(STAMP)
	$(BIN)/pybabel extract -F web/babel.cfg -k _l -k lazy_gettext $(DOMAIN_MESSAGES) --no-location --sort-output \
		--width 120 --project crmpm -o web/translations/messages.pot web eps wbs accounts crmpm
	$(BIN)/pybabel update -i web/translations/messages.pot -d web/translations --no-fuzzy-matching --ignore-obsolete --width 120

# The browser tests drive Debian's headless Chromium; Playwright never downloads a browser here.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ ! -x $(CHROMIUM) ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing chromium for the browser tests"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
		else \
			echo "NOTE: $(CHROMIUM) is missing and cannot be installed here (needs root and apt-get); browser tests will be skipped"; \
		fi; \
	fi

# Generated paperwork turns DOCX into PDF with LibreOffice (decision 0014); its tests read the PDFs back.
SOFFICE ?= soffice
office:
	@if ! command -v $(SOFFICE) >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing LibreOffice Writer (headless) for PDF paperwork"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
				libreoffice-writer-nogui fonts-dejavu-core >/dev/null; \
		else \
			echo "NOTE: $(SOFFICE) is missing and cannot be installed here (needs root and apt-get); PDF paperwork tests will be skipped"; \
		fi; \
	fi

run: install
	$(BIN)/crmpm db upgrade
	$(BIN)/crmpm demo
	@echo "crmpm: http://127.0.0.1:$(PORT)/  (API docs: http://127.0.0.1:$(PORT)/api/docs)"
	$(BIN)/crmpm serve --port $(PORT)

test: install browser office
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python bench/bench_eps.py

# API throughput: wrk against `crmpm serve` on a throwaway PostgreSQL database, beside a one-line Flask app
# (BENCHMARKS.md, "API throughput"). wrk comes from Debian, installed here when root. BENCH_HTTP_ARGS: see --help.
bench-http: install
	@if ! command -v wrk >/dev/null; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing wrk for the HTTP benchmark"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
		else \
			echo "wrk is missing and cannot be installed here (needs root and apt-get): apt-get install wrk"; exit 1; \
		fi; \
	fi
	$(BIN)/python bench/bench_http.py $(BENCH_HTTP_ARGS)

# Jobs and events: enqueue overhead, no-op job throughput with 1 and 2 workers, events dispatched per second, on
# SQLite (+ the SQLite job store) and PostgreSQL + Redis when reachable (BENCHMARKS.md, "Jobs and events").
bench-jobs: install
	$(BIN)/python bench/bench_jobs.py $(BENCH_JOBS_ARGS)

# The 100,000-deal import through the API as a job (Redis and SQLite job stores) and synchronously, each on a
# throwaway PostgreSQL database with `crmpm serve` and its worker (BENCHMARKS.md, "The 100,000-row import as a
# job"). Needs PostgreSQL and Redis on 127.0.0.1. BENCH_IMPORT_JOB_ARGS: see --help (e.g. --deals 10000).
bench-import-job: install
	$(BIN)/python bench/bench_import_job.py $(BENCH_IMPORT_JOB_ARGS)

# The search across the product (/search) at 100,000 accounts and 200,000 deals on a throwaway PostgreSQL database,
# with and without its trigram indexes, beside a primary-key lookup (BENCHMARKS.md, "One search across the product").
# BENCH_SEARCH_ARGS: see --help (e.g. --accounts 10000 --deals 20000 for a quick run).
bench-search: install
	$(BIN)/python bench/bench_search.py --across $(BENCH_SEARCH_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
