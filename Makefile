# docker-agent — common tasks. `make test` is what CI runs.

CARGO ?= cargo
TEST_LABEL := docker-agent-test

.PHONY: run build release test check lint unit bench clean-test-containers

run:
	$(CARGO) run --release

build:
	$(CARGO) build

release:
	$(CARGO) build --release

## Everything CI checks: formatting, lints, unit and integration tests against a real daemon.
test: check
	@bash tests/setup.sh
	@$(MAKE) -s clean-test-containers
	@status=0; $(CARGO) test || status=$$?; \
	  $(MAKE) -s clean-test-containers; exit $$status

check: lint

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## Unit tests only (no Docker needed).
unit:
	$(CARGO) test --lib

## Removes any container a test run left behind (normally none: tests clean up after themselves).
clean-test-containers:
	@ids=$$(docker ps -aq --filter label=$(TEST_LABEL) 2>/dev/null); \
	  if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null; fi

## Benchmarks against the real daemon (not part of `make test`); prints a markdown table.
bench:
	@bash tests/setup.sh
	$(CARGO) bench --bench agent
	@$(MAKE) -s clean-test-containers
