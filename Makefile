# docker-agent — common tasks. `make test` is what CI runs.

CARGO ?= cargo
TEST_LABEL := docker-agent-test

.PHONY: run build release arm image test check lint unit fuzz bench soak clean-test-containers clean-fleet

run:
	$(CARGO) run --release

build:
	$(CARGO) build

## A fully static, stripped binary: target/static/docker-agent for this
## x86_64 host (the default), target/static/TARGET/docker-agent for
## TARGET=aarch64-unknown-linux-musl or armv7-unknown-linux-musleabihf.
## scripts/static-build.sh says which C compiler each needs and what it
## falls back to (glibc with crt-static) when the musl target is missing.
TARGET ?= x86_64-unknown-linux-musl
ARM_TARGETS := aarch64-unknown-linux-musl armv7-unknown-linux-musleabihf
STATIC_BIN := target/static/$(if $(filter x86_64-%,$(TARGET)),,$(TARGET)/)docker-agent
IMAGE_PLATFORM := $(if $(filter aarch64-%,$(TARGET)),arm64 v8,$(if $(filter armv7-%,$(TARGET)),arm v7))
IMAGE_TAG := docker-agent:latest$(if $(filter aarch64-%,$(TARGET)),-arm64,$(if $(filter armv7-%,$(TARGET)),-armv7))

release:
	@bash scripts/static-build.sh $(TARGET) $(STATIC_BIN)

## Both ARM binaries (built once, then reused while the sources are unchanged).
arm:
	@for t in $(ARM_TARGETS); do $(MAKE) -s release TARGET=$$t || exit 1; done

## The FROM-scratch image for TARGET, built offline from the static binary
## alone: docker-agent:latest (x86_64), docker-agent:latest-arm64
## (linux/arm64/v8) or docker-agent:latest-armv7 (linux/arm/v7; the platform
## is set by scripts/image-platform.py). Installs nothing; needs a daemon.
image: release
	@docker info >/dev/null 2>&1 || { echo "image: no Docker daemon answers" >&2; exit 1; }
	docker build -q --build-arg BIN=$(STATIC_BIN) -t $(IMAGE_TAG) .
	$(if $(IMAGE_PLATFORM),python3 scripts/image-platform.py $(IMAGE_TAG) $(IMAGE_PLATFORM))
	@docker image inspect -f '$(IMAGE_TAG) {{.Os}}/{{.Architecture}}{{with .Variant}}/{{.}}{{end}} {{.Size}} bytes' $(IMAGE_TAG)

## Everything CI checks: formatting, lints, unit and integration tests against a real daemon.
test: check
	@bash tests/setup.sh
	@$(MAKE) -s image
	@$(MAKE) -s arm
	@$(MAKE) -s clean-test-containers
	@status=0; ulimit -n 8192 2>/dev/null || true; \
	  AGENT_BIN=$(abspath $(STATIC_BIN)) $(CARGO) test || status=$$?; \
	  $(MAKE) -s clean-test-containers; $(MAKE) -s clean-fleet || status=1; exit $$status

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

## Takes down the fleet harness's hosts (tests/fleet.sh): their daemons,
## namespaces, veths and directories. The fleet tests leave them up for the
## next test; `make test` ends with this, whatever the tests did.
clean-fleet:
	@bash tests/fleet.sh down

## Benchmarks against the real daemon (not part of `make test`); prints a markdown table.
bench: image
	@ulimit -n 8192 2>/dev/null || true; $(CARGO) bench --bench agent
	@$(MAKE) -s clean-test-containers
