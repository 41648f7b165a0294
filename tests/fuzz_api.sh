#!/usr/bin/env bash
# `make fuzz`'s API fuzzer: schemathesis, driven by the agent's own OpenAPI
# document, against a live agent and the real daemon. Every check runs
# (no 5xx, statuses, content types, headers and bodies as documented,
# refusals of bad input and of missing credentials); any failure fails.
#
# The agent is started here, confined so that the fuzzer cannot harm the
# host: SCOPE_LABEL names a label only this run's containers could carry
# (so every other container is missing to it, and anything it creates is
# labelled for the cleanup below), IMAGE_ALLOW names the test image alone,
# EXEC_ENABLED is off, host access stays refused. Image removal is left
# out: images are the host's, outside any scope, and a fuzzed reference
# such as "a" could be an id prefix of a real one.
# Env: FUZZ_EXAMPLES (examples per operation, default 50), AGENT (binary,
# default target/debug/docker-agent).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
examples=${FUZZ_EXAMPLES:-50}
agent=${AGENT:-$here/../target/debug/docker-agent}
run=fuzz-$$
label="docker-agent-test=$run"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
image=$(docker image ls --format '{{.Repository}}:{{.Tag}}' 'docker-agent-testbox' | head -n 1)
work=$(mktemp -d)
password=$(head -c 18 /dev/urandom | base64)

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  ids=$(docker ps -aq --filter "label=$label")
  if [ -n "$ids" ]; then docker rm -f $ids >/dev/null; fi
  rm -rf "$work"
}
trap cleanup EXIT

env -i PATH="$PATH" HOST=127.0.0.1 PORT="$port" \
  SECRET_KEY="$(head -c 32 /dev/urandom | base64)" API_PASSWORD="$password" \
  MCP_ENABLED=false RATE_LIMIT_ENABLED=false EXEC_ENABLED=false \
  SCOPE_LABEL="$label" IMAGE_ALLOW="${image:-none}" \
  DOCKER_HOST="${DOCKER_HOST:-unix:///var/run/docker.sock}" \
  "$agent" >"$work/agent.log" 2>&1 &
pid=$!
base=http://127.0.0.1:$port
for _ in $(seq 1 50); do
  curl -sf "$base/api/v1/healthz" >/dev/null && break
  sleep 0.2
done
token=$(curl -sf "$base/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"username\":\"admin\",\"password\":\"$password\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

status=0
schemathesis --config-file "$here/schemathesis.toml" run "$base/api/v1/openapi.json" \
  --max-examples "$examples" --seed "${FUZZ_SEED:-1}" \
  --exclude-path '/api/v1/images/{image}' \
  --header "Authorization: Bearer $token" \
  --report-dir "$work/report" --no-color || status=$?
if [ "$status" != 0 ]; then
  echo "fuzz: schemathesis failed; the agent's last log lines:" >&2
  tail -n 20 "$work/agent.log" >&2
fi
exit "$status"
