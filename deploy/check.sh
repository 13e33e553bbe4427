#!/usr/bin/env bash
# Checks the deploy kit with the program that reads each file (CI runs it from .ci/run; so does
# test/integration/deploy-kit.test.ts):
#
#   unit   tokengoblin.service     systemd-analyze verify; any warning fails (verify exits 0 on an
#                                  unknown directive or a bad value, and only warns)
#   caddy  Caddyfile               caddy validate (adapts and provisions every module), and caddy fmt
#                                  finds nothing to change
#   nginx  nginx-tokengoblin.conf  nginx -t, with the site inside a minimal nginx.conf and a throwaway
#                                  self-signed certificate in place of the Let's Encrypt paths
#   redis  redis.conf              redis-server starts with it (on a socket in a temp dir instead of
#                                  port 6379 and /var/lib/redis) and CONFIG GET shows the production
#                                  settings; a write reaches the append-only file
#
# Usage: deploy/check.sh [DIR] [CHECK...]
#   DIR    the folder holding the four files (default: the one this script is in); the tests pass a
#          copy with one file broken
#   CHECK  unit, caddy, nginx, redis (default: all)
# Runs every check asked for, prints "ok" or "FAIL" and the tool's own words for each, and exits 1
# when any failed. A missing tool is a failure: install it (apt-get install systemd caddy nginx
# redis-server).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dir="$here"
if [ $# -gt 0 ] && [ -d "$1" ]; then
  dir="$(cd "$1" && pwd)"
  shift
fi
checks=("$@")
[ ${#checks[@]} -gt 0 ] || checks=(unit caddy nginx redis)

# nginx lives in /usr/sbin, which a non-root PATH may lack.
export PATH="$PATH:/usr/sbin:/sbin"
tmp="$(mktemp -d "${TMPDIR:-/tmp}/tokengoblin-deploy-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is not installed (apt-get install $2)"; return 1; }
}

check_unit() {
  need systemd-analyze systemd
  local unit="$dir/tokengoblin.service"
  local copy="$tmp/tokengoblin.service"
  cp "$unit" "$copy"
  # verify fails when ExecStart's program is missing, which is worth checking. The unit names
  # /usr/bin/node (NodeSource's package, docs/deploy.md); where node lives elsewhere (a CI image),
  # the copy names that node instead.
  if [ ! -x /usr/bin/node ] && grep -q '^ExecStart=/usr/bin/node ' "$copy"; then
    need node "nodejs"
    sed -i "s#^ExecStart=/usr/bin/node #ExecStart=$(command -v node) #" "$copy"
    echo "(ExecStart checked with $(command -v node): there is no /usr/bin/node here)"
  fi
  local out
  # --man=no: Documentation= names a file on the server, not a man page. --generators=no: nothing
  # from this machine's fstab or other generators enters the check.
  out="$(systemd-analyze verify --man=no --generators=no "$copy" 2>&1 | sed "s#$copy#$unit#g")" || { echo "$out"; return 1; }
  if [ -n "$out" ]; then
    echo "$out"
    echo "(systemd-analyze verify exited 0, but every line it prints is a directive systemd would ignore or misread)"
    return 1
  fi
}

check_caddy() {
  need caddy caddy
  local file="$dir/Caddyfile"
  # Caddy keeps certificates and its own state under XDG dirs: a temp dir, so the check leaves nothing.
  XDG_DATA_HOME="$tmp/caddy" XDG_CONFIG_HOME="$tmp/caddy" HOME="$tmp" \
    caddy validate --config "$file" --adapter caddyfile >"$tmp/caddy.out" 2>&1 || { grep -v '"level":"info"' "$tmp/caddy.out"; return 1; }
  caddy fmt "$file" >"$tmp/Caddyfile.formatted"
  diff -u "$file" "$tmp/Caddyfile.formatted" || { echo "(not formatted: run caddy fmt --overwrite $file)"; return 1; }
}

check_nginx() {
  need nginx nginx
  need openssl openssl
  local site="$tmp/nginx-site.conf"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bot.example.com \
    -keyout "$tmp/tls.key" -out "$tmp/tls.crt" >/dev/null 2>&1
  # nginx -t opens the certificate files, which only exist on the server: point at the throwaway pair.
  sed -E -e "s#^([[:space:]]*ssl_certificate)[[:space:]]+[^;]+;#\1 $tmp/tls.crt;#" \
    -e "s#^([[:space:]]*ssl_certificate_key)[[:space:]]+[^;]+;#\1 $tmp/tls.key;#" \
    "$dir/nginx-tokengoblin.conf" >"$site"
  # nginx -t also binds the listen ports (one already in use is fine); only root may bind 80 and 443.
  if [ "$(id -u)" != 0 ]; then
    sed -i -E 's#^([[:space:]]*listen[[:space:]]+(\[::\]:)?)(80|443)([ ;])#\110\3\4#' "$site"
    echo "(not root: checked with ports 1080 and 10443 for 80 and 443)"
  fi
  # Debian's /etc/nginx/nginx.conf includes sites-enabled/* inside http { }; this is that frame and no more.
  cat >"$tmp/nginx.conf" <<EOF
pid $tmp/nginx.pid;
error_log stderr;
events {}
http {
    access_log off;
    include $site;
}
EOF
  nginx -t -q -p "$tmp" -e stderr -c "$tmp/nginx.conf" 2>&1 | sed "s#$site#nginx-tokengoblin.conf#g"
}

check_redis() {
  need redis-server redis-server
  need redis-cli redis-server
  local sock="$tmp/redis.sock" data="$tmp/redis" conf="$dir/redis.conf"
  mkdir -p "$data"
  # Redis enters the file's `dir` while reading the file, before the command line moves it: where
  # that directory is not this user's (not root, or no redis-server package), check a copy without it.
  local server_dir
  server_dir="$(sed -n -E 's/^dir[[:space:]]+//p' "$conf" | tail -n 1)"
  if [ -n "$server_dir" ] && ! { [ -d "$server_dir" ] && [ -x "$server_dir" ]; }; then
    conf="$tmp/redis.conf"
    sed -E "s#^dir[[:space:]].*#dir $data#" "$dir/redis.conf" >"$conf"
    echo "(checked with dir $data: $server_dir is not accessible here)"
  fi
  # The file's own port, dir, pidfile and log would clash with a Redis already running here: only
  # these are replaced (command-line settings come after the file's).
  redis-server "$conf" --port 0 --unixsocket "$sock" --unixsocketperm 700 --dir "$data" \
    --pidfile "$tmp/redis.pid" --logfile "$tmp/redis.log" --daemonize no --supervised no >"$tmp/redis.out" 2>&1 &
  redis_pid=$!
  # This check runs in a subshell of its own: whatever ends it also stops this server.
  trap 'kill "$redis_pid" 2>/dev/null; wait "$redis_pid" 2>/dev/null' EXIT
  local _
  for _ in $(seq 1 50); do
    redis-cli -s "$sock" ping >/dev/null 2>&1 && break
    if ! kill -0 "$redis_pid" 2>/dev/null; then
      cat "$tmp/redis.out" "$tmp/redis.log" 2>/dev/null || true
      echo "(redis-server refused to start with this file)"
      return 1
    fi
    sleep 0.1
  done
  local failed=0
  expect() {
    local actual
    actual="$(redis-cli -s "$sock" CONFIG GET "$1" | sed -n 2p)"
    if [ "$actual" != "$2" ]; then
      echo "$1 is '$actual'; production needs '$2'"
      failed=1
    fi
  }
  expect appendonly yes
  expect appendfsync always
  expect maxmemory-policy noeviction
  expect bind "127.0.0.1 -::1"
  expect protected-mode yes
  if [ "$(redis-cli -s "$sock" CONFIG GET maxmemory | sed -n 2p)" = "0" ]; then
    echo "maxmemory is 0 (no limit): set one, or the kernel's OOM killer ends Redis instead"
    failed=1
  fi
  redis-cli -s "$sock" SET tokengoblin:deploy-check written >/dev/null
  if ! cat "$data"/appendonlydir/*.aof 2>/dev/null | grep -q 'tokengoblin:deploy-check'; then
    echo "a write did not reach an append-only file in $data/appendonlydir"
    failed=1
  fi
  return "$failed"
}

file_of() {
  case "$1" in
    unit) echo "tokengoblin.service (systemd-analyze verify)" ;;
    caddy) echo "Caddyfile (caddy validate)" ;;
    nginx) echo "nginx-tokengoblin.conf (nginx -t)" ;;
    redis) echo "redis.conf (redis-server, CONFIG GET)" ;;
    *) return 1 ;;
  esac
}

failures=0
for name in "${checks[@]}"; do
  what="$(file_of "$name")" || { echo "unknown check '$name': use unit, caddy, nginx or redis" >&2; exit 2; }
  # A subshell outside any `if`, so that `set -e` holds inside the check and its first failing
  # command fails it.
  set +e
  (set -e; "check_$name") >"$tmp/check-$name.out" 2>&1
  status=$?
  set -e
  if [ "$status" -eq 0 ]; then
    echo "ok    $what"
    sed 's/^/      /' "$tmp/check-$name.out"
  else
    echo "FAIL  $what"
    sed 's/^/      /' "$tmp/check-$name.out"
    failures=$((failures + 1))
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "deploy kit in $dir: $failures of ${#checks[@]} checks failed"
  exit 1
fi
echo "deploy kit in $dir: all ${#checks[@]} checks passed"
