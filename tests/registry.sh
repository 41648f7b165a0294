#!/usr/bin/env bash
# Starts the two local registries the pull tests use, unless they answer
# already: Debian's docker-registry serving one storage directory on
# 127.0.0.1:5000 (open: images are pushed there) and on 127.0.0.1:5001
# behind htpasswd auth (the credentials path, with the test user below).
# The Docker daemon trusts loopback registries without TLS. Logs go to
# /tmp/docker-agent-registry/*.log.
set -euo pipefail

dir=${REGISTRY_DIR:-/tmp/docker-agent-registry}
# The test user of the authenticated registry (tests/agent/pull.rs knows it).
user=agent-test
password=pull-test-password-7f3a

answers() { curl -s -o /dev/null -w '%{http_code}' -m 2 "http://127.0.0.1:$1/v2/" | grep -qx "$2"; }

if answers 5000 200 && answers 5001 401; then
  exit 0
fi
mkdir -p "$dir/storage"
htpasswd -Bbc "$dir/htpasswd" "$user" "$password" 2>/dev/null

# config PORT [AUTH]: a registry config on 127.0.0.1:PORT over the shared storage.
config() {
  cat <<YAML
version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$1
$2
YAML
}
auth="auth:
  htpasswd:
    realm: docker-agent-test
    path: $dir/htpasswd"

start() {
  local port=$1 code=$2
  if answers "$port" "$code"; then
    return 0
  fi
  echo "setup: starting a registry on 127.0.0.1:$port (log: $dir/$port.log)"
  config "$port" "${3:-}" >"$dir/$port.yml"
  setsid nohup docker-registry serve "$dir/$port.yml" >"$dir/$port.log" 2>&1 &
  for _ in $(seq 1 30); do
    if answers "$port" "$code"; then
      return 0
    fi
    sleep 0.5
  done
  echo "setup: the registry on 127.0.0.1:$port did not answer; last lines of $dir/$port.log:" >&2
  tail -n 20 "$dir/$port.log" >&2 || true
  exit 1
}

start 5000 200
start 5001 401 "$auth"
