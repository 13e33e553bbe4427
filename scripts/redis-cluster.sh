#!/usr/bin/env bash
# A throw-away three-node Redis Cluster on 127.0.0.1:7000-7002 (no replicas, no persistence) for the
# Redis Cluster store tests: `scripts/redis-cluster.sh start <dir>` starts it and waits until every
# node reports cluster_state:ok, then prints the REDIS_CLUSTER_URL to use; `scripts/redis-cluster.sh
# stop <dir>` stops the nodes it started (by the pid files in <dir>) and removes their cluster files.
set -euo pipefail

PORTS=(7000 7001 7002)
URL="redis-cluster://127.0.0.1:7000,127.0.0.1:7001,127.0.0.1:7002"

usage() {
  echo "usage: $0 start|stop <dir>   (<dir> keeps the nodes' cluster files, pid files and logs)" >&2
  exit 2
}

[ $# -eq 2 ] || usage
command="$1"
dir="$2"

cluster_ok() {
  local port="$1"
  redis-cli -p "$port" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'
}

start() {
  command -v redis-server >/dev/null 2>&1 || { echo "redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  for port in "${PORTS[@]}"; do
    if redis-cli -p "$port" ping >/dev/null 2>&1; then
      echo "port $port already answers: stop what runs there (or: $0 stop $dir) first" >&2
      exit 1
    fi
    # A node refuses to join a new cluster while its old cluster file says it belongs to another.
    rm -f "$dir/nodes-$port.conf"
    redis-server --cluster-enabled yes --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
      --daemonize yes --dir "$dir" --cluster-config-file "$dir/nodes-$port.conf" \
      --pidfile "$dir/redis-$port.pid" --logfile "$dir/redis-$port.log"
  done
  for port in "${PORTS[@]}"; do
    for _ in $(seq 1 50); do redis-cli -p "$port" ping >/dev/null 2>&1 && break; sleep 0.1; done
    redis-cli -p "$port" ping >/dev/null 2>&1 || { echo "node $port did not start: see $dir/redis-$port.log" >&2; exit 1; }
  done
  redis-cli --cluster create 127.0.0.1:7000 127.0.0.1:7001 127.0.0.1:7002 --cluster-replicas 0 --cluster-yes >"$dir/create.log" 2>&1 ||
    { cat "$dir/create.log" >&2; echo "joining the nodes failed (output above)" >&2; exit 1; }
  for _ in $(seq 1 100); do
    all_ok=1
    for port in "${PORTS[@]}"; do cluster_ok "$port" || all_ok=0; done
    if [ "$all_ok" -eq 1 ]; then
      echo "$URL"
      return 0
    fi
    sleep 0.1
  done
  echo "the cluster did not reach cluster_state:ok within 10 s: see $dir/create.log and $dir/redis-*.log" >&2
  exit 1
}

stop() {
  [ -d "$dir" ] || { echo "no such directory: $dir" >&2; exit 1; }
  for port in "${PORTS[@]}"; do
    pidfile="$dir/redis-$port.pid"
    [ -f "$pidfile" ] || continue
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile" "$dir/nodes-$port.conf"
  done
}

case "$command" in
  start) start ;;
  stop) stop ;;
  *) usage ;;
esac
