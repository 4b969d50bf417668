# Two commands do everything on a fresh Debian/Ubuntu machine:
#   make demo   broker + gateway + simulated district + command-center simulator
#   make test   install what is needed, lint, type-check and run every test
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the product and its tests run against (real broker, RTSP tooling, browser,
# systemd-analyze to verify the shipped units).
APT_PACKAGES := mosquitto mosquitto-clients ffmpeg chromium systemd \
	gstreamer1.0-rtsp gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-tools \
	gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
	gstreamer1.0-plugins-ugly gstreamer1.0-libav python3-venv fonts-noto-cjk

.PHONY: all system venv lint typecheck test test-fast demo bench bench-district clean

all: test

# Installs only what is missing, so a second run costs nothing.
system: $(VENV)/.system-stamp
$(VENV)/.system-stamp: Makefile
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:" $$missing; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@mkdir -p $(VENV) && touch $@

venv: $(VENV)/.deps-stamp
$(VENV)/.deps-stamp: pyproject.toml $(VENV)/.system-stamp
	@[ -x $(PY) ] || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: venv
	$(VENV)/bin/mypy

test: venv lint typecheck
	$(PY) -m pytest -q

test-fast: venv
	$(PY) -m pytest -q -m "not browser and not e2e"

demo: venv
	$(PY) -m device_sim demo

bench: venv
	$(PY) -m bench

# 170,000 terminals on 17 bridged town brokers, and the 10k / 50k points (~40 min).
bench-district: venv
	$(PY) -m bench.district

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
