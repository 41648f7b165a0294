#!/usr/bin/env bash
# The fleet harness: several real Docker daemons on this one machine, each
# in a network namespace of its own, for the tests of many hosts as one
# (tests/agent/util/fleet.rs starts an agent beside each).
#
#   tests/fleet.sh up N [IMAGE...]   hosts da-fleet-1 .. da-fleet-N (idempotent)
#   tests/fleet.sh down              stops and removes every da-fleet-* host
#
# Host K (1..254):
#   namespace   da-fleet-K (/var/run/netns/da-fleet-K), its `lo` up
#   veth pair   da-fleet-K in the root namespace, 10.231.K.1/24;
#               eth0 in the namespace, 10.231.K.2/24, with one route,
#               10.231.0.0/16 through 10.231.K.1: a host reaches the other
#               hosts through the root namespace and nothing else (no default
#               route), and forwarding is turned on for these veths only
#   dockerd     started with `nsenter --net` (`ip netns exec` remounts /sys
#               and dockerd then finds no cgroups), --bridge=none and no
#               iptables, so it leaves the host's network alone; its own
#               data root /var/lib/docker-agent-fleet/K, exec root
#               /run/docker-agent-fleet/K/exec, pid file
#               /run/docker-agent-fleet/K/docker.pid, socket
#               unix:///run/docker-agent-fleet/K/docker.sock, identity key
#               (so its /info ID is its own) and its own containerd, which
#               dockerd starts under its exec root, inside the namespace
#   images      IMAGE... (default: the tests' image, docker-agent-testbox:
#               <hash of fixtures/testbox/testbox.c>) copied from the main
#               daemon with `docker save | docker load`
#
# `down` removes the data roots too: every `up` then starts from a known
# state (a fresh daemon identity, no container or volume of an earlier run),
# and all it costs is loading the small test images again.
# Needs root, `ip` (iproute2), `nsenter` and `flock` (util-linux), dockerd
# and the docker CLI; `iptables` when the FORWARD chain drops by default (as
# Docker sets it).
set -euo pipefail

prefix=da-fleet
run=/run/docker-agent-fleet
data=/var/lib/docker-agent-fleet
rule=(FORWARD -s 10.231.0.0/16 -d 10.231.0.0/16 -i "$prefix-+" -o "$prefix-+"
  -m comment --comment docker-agent-fleet -j ACCEPT)

die() {
  echo "fleet: $*" >&2
  exit 1
}

usage() {
  die "usage: $0 up N [IMAGE...] | down"
}

# Says everything missing for `$1` (up or down) at once, then stops.
preflight() {
  local missing=() commands=(ip:iproute2 flock:util-linux) c
  [ "$1" = up ] && commands+=(nsenter:util-linux dockerd:docker.io docker:docker.io)
  for c in "${commands[@]}"; do
    command -v "${c%%:*}" >/dev/null 2>&1 || missing+=("${c%%:*} (Debian's ${c#*:}; tests/setup.sh installs it)")
  done
  [ "$(id -u)" = 0 ] || missing+=("root: namespaces, veths and daemons need it")
  if [ ${#missing[@]} -gt 0 ]; then
    printf 'fleet: cannot bring the fleet %s; missing:\n' "$1" >&2
    printf '  %s\n' "${missing[@]}" >&2
    exit 1
  fi
}

# One run of this script at a time, and none while the tests hold a fleet
# (tests/agent/util/fleet.rs takes this lock for a fleet's life and sets
# FLEET_LOCK_HELD=1 for the runs it makes): up and down read and change the
# same state. The lock file stays (an empty file in /run), so that a run
# waiting for it and a later one lock the same file.
lock() {
  [ "${FLEET_LOCK_HELD:-}" = 1 ] && return 0
  exec 9>"$run.lock"
  flock -w 600 9 || die "$run.lock was held for 10 minutes (a fleet test, or another tests/fleet.sh)"
}

sock() { echo "unix://$run/$1/docker.sock"; }

answers() { docker -H "$(sock "$1")" info >/dev/null 2>&1; }

# Whether process $1 runs (a zombie, which `kill -0` finds, does not).
alive() {
  local state
  state=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${state:0:1}" != Z ]
}

# The pid in host K's pid file, if that process is alive.
daemon_pid() {
  local pid
  pid=$(cat "$run/$1/docker.pid" 2>/dev/null) || return 1
  [ -n "$pid" ] && alive "$pid" && echo "$pid"
}

network_up() {
  local k=$1 ns=$prefix-$1
  [ -e "/var/run/netns/$ns" ] || ip netns add "$ns"
  ip link show dev "$ns" >/dev/null 2>&1 ||
    ip link add "$ns" type veth peer name eth0 netns "$ns"
  ip addr replace "10.231.$k.1/24" dev "$ns"
  ip link set "$ns" up
  echo 1 >"/proc/sys/net/ipv4/conf/$ns/forwarding"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr replace "10.231.$k.2/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" route replace 10.231.0.0/16 via "10.231.$k.1"
}

# Docker's FORWARD policy is DROP: let the hosts' traffic to one another through.
forwarding_up() {
  if command -v iptables >/dev/null 2>&1; then
    iptables -C "${rule[@]}" 2>/dev/null || iptables -I "${rule[@]}"
  elif [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 1 ]; then
    echo "fleet: no iptables: hosts reach each other only if the FORWARD chain accepts their traffic" >&2
  fi
}

# Ends the processes in host K's network namespace: all of them, or with
# `strays` all but the daemon's own (dockerd, its containerd and shims):
# agents of a test run that was killed, say (a fleet's agents are its
# processes, and it holds the lock while it calls `up`).
ns_kill() {
  local ns=$prefix-$1 pid exe victims=()
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    if [ "${2:-}" = strays ]; then
      exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
      case ${exe##*/} in
        dockerd | containerd | containerd-shim* | runc | docker-init | docker-proxy) continue ;;
      esac
    fi
    victims+=("$pid")
  done
  [ ${#victims[@]} -gt 0 ] || return 0
  kill -KILL "${victims[@]}" 2>/dev/null || true
  for _ in $(seq 1 50); do
    local left=0
    for pid in "${victims[@]}"; do alive "$pid" && left=1; done
    [ $left = 1 ] || return 0
    sleep 0.1
  done
}

# Removes directory $1, unmounting first what is mounted under it (the
# network namespaces of containers, their root filesystems), deepest first.
remove() {
  local m
  for m in $(awk -v p="$1" '$5 == p || index($5, p "/") == 1 {print $5}' /proc/self/mountinfo | sort -r); do
    umount -l "$m"
  done
  rm -rf --one-file-system "$1"
}

daemon_start() {
  local k=$1 dir=$run/$1 root=$data/$1
  if answers "$k"; then
    ns_kill "$k" strays
    return 0
  fi
  daemon_pid "$k" >/dev/null && return 0 # still starting
  # Nothing answers: what a daemon that was killed left, its containerd and
  # shims in the namespace and their pid files and sockets in its exec root
  # (dockerd takes a zombie for a running daemon or containerd), would hold
  # or mislead the new one.
  ns_kill "$k"
  remove "$dir/exec"
  rm -f "$dir/docker.pid"
  mkdir -p "$dir/exec" "$root"
  # A configuration of its own (/etc/docker/daemon.json is the main
  # daemon's) with its own identity key (/etc/docker/key.json is the main
  # daemon's, and its ID too).
  printf '{"deprecated-key-path": "%s"}\n' "$root/key.json" >"$dir/daemon.json"
  # Its own session, no inherited lock or pipe: it outlives this script.
  setsid nsenter --net="/var/run/netns/$prefix-$k" dockerd \
    --config-file "$dir/daemon.json" \
    --bridge=none --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false \
    --data-root "$root" --exec-root "$dir/exec" --pidfile "$dir/docker.pid" \
    --containerd-namespace "$prefix-$k" --containerd-plugins-namespace "$prefix-$k-plugins" \
    -H "$(sock "$k")" \
    </dev/null >"$dir/dockerd.log" 2>&1 9>&- &
  echo $! >"$dir/started.pid"
}

daemon_wait() {
  local k=$1 started why="did not answer within 60 s"
  started=$(cat "$run/$k/started.pid" 2>/dev/null || true)
  for _ in $(seq 1 120); do
    answers "$k" && return 0
    if ! daemon_pid "$k" >/dev/null && ! { [ -n "$started" ] && alive "$started"; }; then
      why="exited"
      break
    fi
    sleep 0.5
  done
  echo "fleet: the daemon of $prefix-$k $why; last lines of $run/$k/dockerd.log:" >&2
  tail -n 20 "$run/$k/dockerd.log" >&2 || true
  return 1
}

# Whether host K lacks any of the images.
lacks() {
  local k=$1 image
  shift
  for image in "$@"; do
    docker -H "$(sock "$k")" image inspect "$image" >/dev/null 2>&1 || return 0
  done
  return 1
}

# Copies the images from the main daemon into the hosts that lack them,
# through one saved archive, loaded in parallel.
images_load() {
  local n=$1 k lacking=() pids=() status=0 archive=$run/images.tar
  shift
  for k in $(seq 1 "$n"); do
    if lacks "$k" "$@"; then lacking+=("$k"); fi
  done
  [ ${#lacking[@]} -gt 0 ] || return 0
  docker save -o "$archive" "$@" || die "cannot save $* from the main daemon"
  for k in "${lacking[@]}"; do
    docker -H "$(sock "$k")" load -q -i "$archive" >/dev/null &
    pids+=($!)
  done
  for k in "${!pids[@]}"; do
    wait "${pids[$k]}" || { echo "fleet: loading $* into $prefix-${lacking[$k]} failed" >&2; status=1; }
  done
  rm -f "$archive"
  return $status
}

up() {
  local n=$1
  shift
  [[ $n =~ ^[0-9]+$ ]] && [ "$n" -ge 1 ] && [ "$n" -le 254 ] || die "N must be 1..254, not '$n'"
  local images=("$@") here
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ${#images[@]} -eq 0 ]; then
    local hash
    hash=$(sha256sum "$here/fixtures/testbox/testbox.c" | cut -c1-12)
    images=("docker-agent-testbox:$hash")
    docker image inspect "${images[0]}" >/dev/null 2>&1 || {
      echo "fleet: ${images[0]} is not on the main daemon (the tests build it); the hosts come up without it" >&2
      images=()
    }
  fi
  mkdir -p "$run" "$data"
  lock
  local k
  for k in $(seq 1 "$n"); do network_up "$k"; done
  forwarding_up
  for k in $(seq 1 "$n"); do daemon_start "$k"; done
  for k in $(seq 1 "$n"); do daemon_wait "$k"; done
  if [ ${#images[@]} -gt 0 ]; then images_load "$n" "${images[@]}" || exit 1; fi
  for k in $(seq 1 "$n"); do
    echo "$prefix-$k 10.231.$k.2 $(sock "$k") pid $(daemon_pid "$k")"
  done
}

# Every host number anything of the fleet is left under: namespaces, veths, run and data dirs.
hosts() {
  {
    ip netns list 2>/dev/null | awk '{print $1}'
    ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1
    { ls "$run" "$data" 2>/dev/null || true; } | sed "s/^/$prefix-/"
  } | sed -n "s/^$prefix-\([0-9]\{1,3\}\)\$/\1/p" | sort -un
}

host_down() {
  local k=$1 ns=$prefix-$1 pid
  if pid=$(daemon_pid "$k"); then
    # dockerd stops its containers and its containerd before it exits.
    kill -TERM "$pid"
    for _ in $(seq 1 120); do
      alive "$pid" || break
      sleep 0.5
    done
    if alive "$pid"; then
      echo "fleet: $ns's dockerd ($pid) ignored SIGTERM for 60 s; killing it" >&2
      kill -KILL "$pid"
    fi
  fi
  if [ -e "/var/run/netns/$ns" ]; then
    # Whatever is left in the namespace: agents, a containerd or shims a
    # killed dockerd left.
    ns_kill "$k"
    ip netns del "$ns"
  fi
  ip link del "$ns" 2>/dev/null || true
  remove "$run/$k"
  remove "$data/$k"
}

# The FORWARD rules a test left that made a host unreachable (behind NAT),
# as arguments to `iptables -D`.
nat_rules() {
  command -v iptables >/dev/null 2>&1 || return 0
  iptables -S FORWARD | { grep -- '--comment docker-agent-fleet-nat' || true; } | sed 's/^-A //'
}

down() {
  if [ ! -d "$run" ] && [ ! -d "$data" ] && [ -z "$(ls /var/run/netns 2>/dev/null | grep "^$prefix-")" ] &&
    [ -z "$(nat_rules)" ]; then
    return 0 # nothing of a fleet here
  fi
  preflight down
  lock
  local nat
  nat_rules | while read -r nat; do eval "iptables -D $nat" || true; done
  local k
  for k in $(hosts); do host_down "$k"; done
  if command -v iptables >/dev/null 2>&1; then
    while iptables -D "${rule[@]}" 2>/dev/null; do :; done
  fi
  rmdir "$data" 2>/dev/null || true
  remove "$run"
}

case "${1:-}" in
  up)
    [ $# -ge 2 ] || usage
    preflight up
    shift
    up "$@"
    ;;
  down)
    [ $# -eq 1 ] || usage
    down
    ;;
  *) usage ;;
esac
