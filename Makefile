# The project's commands. A newcomer needs two: `make run` and `make test` (see README.md).
# Both work on a fresh Debian machine with only the Rust toolchain: protoc is vendored, and
# scripts/services.sh installs or starts PostgreSQL and NATS when they do not answer.

CARGO ?= cargo
# The embedded suite's gRPC address and data directory (SQLite files live there).
LISTEN ?= 127.0.0.1:50051
DATA_DIR ?= ./data

.PHONY: run test services nextest lint lint-rust lint-proto fmt bench chaos fuzz deploy-check build clean-data help

help:
	@echo "make run           the whole suite in one process (embedded SQLite store, Benxi reference data)"
	@echo "make test          every test, against real PostgreSQL and NATS (started if needed)"
	@echo "make lint          rustfmt, clippy -D warnings, buf lint, format and breaking (against the last release)"
	@echo "make bench         the benchmark report (figures beside same-run baselines)"
	@echo "make chaos         the fault-injection report (CHAOS_ARGS='--duration 10m --seed N')"
	@echo "make fuzz          the deep fuzz run (nightly + cargo-fuzz; FUZZ_SECONDS per target)"
	@echo "make deploy-check  validate the Kubernetes manifests in deploy/"

run:
	$(CARGO) run --release -p minzheng -- dev --listen $(LISTEN) --data-dir $(DATA_DIR)

build:
	$(CARGO) build --workspace --all-targets

services:
	@bash scripts/services.sh

# Tests run under cargo-nextest when it is installed (one process per test, parallel), and under
# plain cargo test otherwise. Formatting and clippy are part of `test` so CI holds the line.
test: services deploy-check lint-rust nextest

nextest:
	@if $(CARGO) nextest --version >/dev/null 2>&1; then \
		$(CARGO) nextest run --workspace --no-fail-fast --failure-output final; \
	else \
		$(CARGO) test --workspace --no-fail-fast; \
	fi

lint: lint-rust lint-proto

lint-rust:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

lint-proto:
	npx --yes @bufbuild/buf@1.75.0 lint
	npx --yes @bufbuild/buf@1.75.0 format -d --exit-code
	bash scripts/buf-breaking.sh

fmt:
	$(CARGO) fmt --all

bench: services
	$(CARGO) run --release -p minzheng-tests --bin bench

# The fault-injection harness: the services as processes under load while faults are injected,
# then every store, stream and projection reconciled (README.md, "Chaos"). The short form runs in
# `make test` (tests/tests/chaos.rs).
CHAOS_ARGS ?= --duration 10m
chaos: services
	$(CARGO) build --release -p minzheng -p minzheng-tests --bin minzheng --bin chaos
	$(CARGO) run --release -p minzheng-tests --bin chaos -- $(CHAOS_ARGS)
# The deep fuzz run: libFuzzer over every target of crates/fuzz (nightly Rust and cargo-fuzz, which
# scripts/fuzz.sh installs when missing). `make test` replays the corpus it grows, on stable.
fuzz:
	CARGO=$(CARGO) bash scripts/fuzz.sh

deploy-check:
	bash scripts/deploy-check.sh
	bash scripts/deploy-check.sh --self-test

clean-data:
	rm -rf $(DATA_DIR)
