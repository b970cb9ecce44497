#!/usr/bin/env bash
# The Docker engine the Docker tests run on, and a block on the containers' egress.
#
#   bash scripts/docker-engine.sh start   # as root: install docker.io and busybox-static if needed, start
#                                         # dockerd if none answers, block egress
#   bash scripts/docker-engine.sh stop    # undo what `start` did: the rules it inserted, the dockerd it started
#   bash scripts/docker-engine.sh check   # exit 0 if the egress block is in place (test-support/docker.ts)
#
# `start` uses a daemon that already answers (an earlier run may have left one) and starts its own only if
# none does; it records in .tools/docker-engine/ the daemon it started and the rules it inserted, so `stop`
# never stops a daemon, or removes a rule, that was there before (another run may rely on it). The egress
# block is one rule per IP family in Docker's DOCKER-USER chain (which Docker consults before its own
# forwarding rules and never flushes): forwarded traffic leaving through the host's default-route interface
# is rejected, so a test container cannot reach the internet. Traffic from the host to published ports, and
# from containers to the host, is not forwarded and still works; so do builds run with `--network host`.
set -euo pipefail
cd "$(dirname "$0")/.."

state_dir=.tools/docker-engine
pid_file=$state_dir/dockerd.pid
log_file=$state_dir/dockerd.log
# The egress rules `start` inserted ("<iptables command> <interface>" a line), which `stop` removes.
rules_file=$state_dir/egress-rules
# Tags the rules, so that `iptables -S` says whose they are.
rule_comment=watchtower-block-container-egress
# Longest wait for a daemon to answer after it was started, and for it to exit after SIGTERM.
start_timeout_s=60
stop_timeout_s=30

answers() { timeout 5 docker version >/dev/null 2>&1; }

# Prints "<iptables command> <interface>" for each IP family that has a default route and a DOCKER-USER chain.
families() {
  local family table iface
  for family in 4 6; do
    table=iptables
    [ "$family" = 6 ] && table=ip6tables
    command -v "$table" >/dev/null || continue
    "$table" -w 5 -n -L DOCKER-USER >/dev/null 2>&1 || continue
    iface=$(ip -"$family" route show default | awk '{ for (i = 1; i < NF; i++) if ($i == "dev") { print $(i + 1); exit } }')
    if [ -n "$iface" ]; then echo "$table $iface"; fi
  done
}

# The rule for traffic leaving through interface $1, as the words after -C, -I or -D.
egress_rule() { echo DOCKER-USER -o "$1" -m comment --comment "$rule_comment" -j REJECT; }

block_egress() {
  local table iface blocked=0
  while read -r table iface; do
    # shellcheck disable=SC2046 # the rule's words contain no spaces or wildcards
    if ! "$table" -w 5 -C $(egress_rule "$iface") 2>/dev/null; then
      "$table" -w 5 -I $(egress_rule "$iface")
      echo "$table $iface" >>"$rules_file"
    fi
    echo "egress block: $table $(egress_rule "$iface")"
    blocked=1
  done < <(families)
  if [ "$blocked" = 0 ]; then
    echo "no DOCKER-USER chain with a default route found: the egress block could not be installed" >&2
    exit 1
  fi
}

# Succeeds when every family that has a DOCKER-USER chain and a default route has the rule (and one does).
check() {
  local table iface checked=0
  while read -r table iface; do
    # shellcheck disable=SC2046 # as above
    "$table" -w 5 -C $(egress_rule "$iface") 2>/dev/null || { echo "no egress block in $table for $iface" >&2; exit 1; }
    checked=1
  done < <(families)
  [ "$checked" = 1 ] || { echo "no DOCKER-USER chain (engine not started, or not root)" >&2; exit 1; }
}

# The rules `start` inserted; one that was there before (another run's) stays, as does a daemon `start` found.
unblock_egress() {
  local table iface
  [ -f "$rules_file" ] || return 0
  while read -r table iface; do
    # shellcheck disable=SC2046 # as above
    "$table" -w 5 -D $(egress_rule "$iface") 2>/dev/null && echo "egress block removed: $table $(egress_rule "$iface")"
  done <"$rules_file"
  rm -f "$rules_file"
}

start() {
  if [ "$(id -u)" != 0 ]; then
    echo "docker-engine.sh start needs root (apt-get, dockerd, iptables)" >&2
    exit 1
  fi
  mkdir -p "$state_dir"
  # The engine, and the static busybox that `npm run standins` builds the stand-in images on.
  local packages=()
  command -v dockerd >/dev/null || packages+=(docker.io)
  dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || packages+=(busybox-static)
  if [ "${#packages[@]}" -gt 0 ]; then
    echo "installing Debian's ${packages[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  fi
  if answers; then
    echo "using the Docker daemon that already answers"
  else
    echo "starting dockerd (log: $log_file)"
    # Its own session: it outlives this script, and a signal to the caller's process group does not reach it.
    setsid dockerd </dev/null >>"$log_file" 2>&1 &
    echo $! >"$pid_file"
    local waited=0
    until answers; do
      if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
        rm -f "$pid_file"
        echo "dockerd exited; the end of $log_file:" >&2
        tail -n 20 "$log_file" >&2
        exit 1
      fi
      if [ "$waited" -ge "$start_timeout_s" ]; then
        echo "dockerd did not answer within ${start_timeout_s}s; see $log_file" >&2
        exit 1
      fi
      sleep 1
      waited=$((waited + 1))
    done
  fi
  docker version --format 'Docker engine {{.Server.Version}} (API {{.Server.APIVersion}})'
  block_egress
}

stop() {
  unblock_egress
  [ -f "$pid_file" ] || { echo "no dockerd was started by docker-engine.sh start: nothing to stop"; return 0; }
  local pid waited=0
  pid=$(cat "$pid_file")
  # The pid could have been reused since: stop it only if it is still a dockerd.
  if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dockerd ]; then
    echo "stopping dockerd ($pid)"
    kill -TERM "$pid"
    while kill -0 "$pid" 2>/dev/null; do
      if [ "$waited" -ge "$stop_timeout_s" ]; then
        echo "dockerd ($pid) did not exit within ${stop_timeout_s}s: killing it" >&2
        kill -KILL "$pid"
        break
      fi
      sleep 1
      waited=$((waited + 1))
    done
  fi
  rm -f "$pid_file"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  check) check ;;
  *)
    echo "usage: $0 start|stop|check" >&2
    exit 2
    ;;
esac
