# Two commands on a fresh machine:
#   make run    serve the simulated chair on SQLite at http://127.0.0.1:8050
#   make central  a trial clinic on this machine: Mosquitto, PostgreSQL, the central station and
#               three chair agents, in the foreground until Ctrl-C (data in ./data/trial)
#   make test   lint and run the whole suite, with Debian's Chromium for the browser tests
#               and Debian's PostgreSQL and Mosquitto for the central-station tests (each test
#               starts its own private cluster and broker)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run central test lint format bench chromium postgresql mosquitto systemd clean

$(VENV)/.run-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-installed

run: $(VENV)/.run-installed
	$(PY) dashboard.py --config config.yaml

# Everything on loopback; Ctrl-C stops it all. Ports: 8050 web, 1883 broker, 5433 PostgreSQL.
central: $(VENV)/.run-installed mosquitto postgresql
	$(PY) deploy/trial_clinic.py

chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser tests"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q chromium; }

# the tests start their own private cluster with initdb; the Debian service is not used
postgresql:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  echo "installing Debian postgresql for the session log tests"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q postgresql; }
# The tests start a private broker on a free port; the packaged service is not used.
mosquitto:
	@command -v mosquitto >/dev/null 2>&1 || test -x /usr/sbin/mosquitto || { \
	  echo "installing Debian mosquitto for the chair-agent tests"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q mosquitto; }

# `systemd-analyze verify` checks deploy/ketamine-monitor.service; systemd itself is not started.
systemd:
	@command -v systemd-analyze >/dev/null 2>&1 || { \
	  echo "installing Debian systemd for the service unit test"; \
	  $(SUDO) apt-get update -q && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -q systemd; }

lint: $(VENV)/.test-installed
	$(VENV)/bin/ruff check .

test: $(VENV)/.test-installed chromium postgresql mosquitto systemd lint
	$(PY) -m pytest -n 2 --dist loadfile -q -m "not hog"
	$(PY) -m pytest -q -m hog

format: $(VENV)/.test-installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: $(VENV)/.test-installed
	$(PY) bench/live_payload.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
