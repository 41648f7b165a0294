# docker-agent — common tasks. `make test` is what CI runs.

CARGO ?= cargo
TEST_LABEL := docker-agent-test

.PHONY: run build release image test check lint unit fuzz bench soak clean-test-containers

run:
	$(CARGO) run --release

build:
	$(CARGO) build

## A fully static, stripped x86_64 binary in target/static/docker-agent: the
## musl target when it can be had (with musl-gcc, from Debian's musl-tools,
## for ring's C and assembly), else glibc with crt-static.
STATIC_BIN := target/static/docker-agent
MUSL := x86_64-unknown-linux-musl
GNU := x86_64-unknown-linux-gnu

release:
	@rustup target add $(MUSL) >/dev/null 2>&1 || true
	@mkdir -p target/static
	@if rustup target list --installed 2>/dev/null | grep -qx $(MUSL) && command -v musl-gcc >/dev/null; then \
	  CC_x86_64_unknown_linux_musl=musl-gcc RUSTFLAGS="-C relocation-model=static" $(CARGO) build --release --target $(MUSL) && \
	  cp target/$(MUSL)/release/docker-agent $(STATIC_BIN); \
	else \
	  echo "release: the musl target or musl-gcc (apt-get install musl-tools) is missing; building glibc with crt-static"; \
	  RUSTFLAGS="-C target-feature=+crt-static -C relocation-model=static" $(CARGO) build --release --target $(GNU) && \
	  cp target/$(GNU)/release/docker-agent $(STATIC_BIN); \
	fi
	@ls -l $(STATIC_BIN)
	@ldd $(STATIC_BIN) 2>&1 | grep -q "not a dynamic executable" || { echo "release: $(STATIC_BIN) is not static" >&2; exit 1; }

## The FROM-scratch image docker-agent:latest, built offline from the static binary.
image: release
	@bash tests/setup.sh
	docker build -q -t docker-agent:latest .
	@docker image inspect -f 'docker-agent:latest {{.Size}} bytes' docker-agent:latest

## Everything CI checks: formatting, lints, unit and integration tests against a real daemon.
test: check
	@bash tests/setup.sh
	@$(MAKE) -s image
	@$(MAKE) -s clean-test-containers
	@status=0; ulimit -n 8192 2>/dev/null || true; \
	  AGENT_BIN=$(abspath $(STATIC_BIN)) $(CARGO) test || status=$$?; \
	  $(MAKE) -s clean-test-containers; exit $$status

check: lint

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --all-targets -- -D warnings

## Unit tests only (no Docker needed).
unit:
	$(CARGO) test --lib

## The property tests (tests/properties/) with 100,000 cases each instead of
## the few hundred `make test` runs (release build, no Docker needed), then
## schemathesis against a live agent, driven by its OpenAPI document
## (tests/fuzz_api.sh; FUZZ_EXAMPLES per operation, default 50).
fuzz:
	PROPTEST_CASES=100000 $(CARGO) test --release --test properties
	@bash tests/setup.sh
	$(CARGO) build
	bash tests/fuzz_api.sh

## The load-and-soak test for 60 s instead of the 20 s `make test` runs, against
## the static release binary; prints its figures.
soak: release
	@bash tests/setup.sh
	@ulimit -n 8192 2>/dev/null || true; AGENT_BIN=$(abspath $(STATIC_BIN)) SOAK_SECS=60 \
	  $(CARGO) test --release --test agent soak -- --nocapture

## Removes any container a test run left behind (normally none: tests clean up after themselves).
clean-test-containers:
	@ids=$$(docker ps -aq --filter label=$(TEST_LABEL) 2>/dev/null); \
	  if [ -n "$$ids" ]; then docker rm -f $$ids >/dev/null; fi

## Benchmarks against the real daemon (not part of `make test`); prints a markdown table.
bench: image
	@ulimit -n 8192 2>/dev/null || true; $(CARGO) bench --bench agent
	@$(MAKE) -s clean-test-containers
