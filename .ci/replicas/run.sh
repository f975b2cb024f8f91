#!/usr/bin/env bash
# The hosted deployment of cmd/contraforce-mcp/deploy/, for real, on
# loopback: nginx hashing on Authorization (as the ingress-nginx
# annotations of deploy/kubernetes/ingress.yaml configure), three
# `contraforce-mcp serve` replicas sharing one redis-server (--redis), and
# one contraforce-emulator they all call. The Go driver (driver/) runs MCP
# agents through nginx over SSE and streamable HTTP, kills a replica
# mid-run, spends one tenant's rate limit from several replicas, pages a
# cursor and answers a confirmation across replicas, then the
# script stops Redis and starts it again. See DEPLOY.md, "A test of the
# layout". Installs nginx and redis-server (Debian packages) if missing.
# Everything started here is stopped on exit; every wait is bounded.
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "replicas: needs ${missing[*]}: apt-get install -y ${missing[*]} (as root)"; exit 1
  fi
  echo "replicas: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  timeout 600 apt-get update -q >/dev/null
  timeout 600 apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)

work=$(mktemp -d)
chmod 755 "$work" # nginx's workers (nobody, when run as root) use its temp dirs
pids=()
stop_all() {
  local code=$?
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  if [ "$code" != 0 ]; then
    for f in "$work"/replica-*.log "$work"/nginx-error.log "$work"/redis.log; do
      [ -f "$f" ] && { echo "--- $(basename "$f") (last lines)"; tail -n 25 "$f"; }
    done
  fi
  rm -rf "$work"
  exit "$code"
}
trap stop_all EXIT INT TERM

# free_port prints a loopback port nothing listens on.
free_port() {
  local p
  for _ in $(seq 100); do
    p=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "replicas: no free port" >&2; return 1
}
# wait_port waits (10 s at most) until something listens on the port.
wait_port() {
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  echo "replicas: nothing listens on 127.0.0.1:$1 after 10 s ($2)"; return 1
}

echo "replicas: building"
go build -o "$work/bin/" ./cmd/contraforce-mcp ./cmd/contraforce-emulator
go build -o "$work/bin/driver" ./.ci/replicas/driver

redis_port=$(free_port)
start_redis() {
  redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no --dir "$work" \
    --daemonize no --logfile "$work/redis.log" &
  redis_pid=$!
  pids+=("$redis_pid")
  wait_port "$redis_port" redis-server
}
start_redis

emu_port=$(free_port)
"$work/bin/contraforce-emulator" --addr "127.0.0.1:$emu_port" 2>"$work/emulator.log" &
pids+=($!)
wait_port "$emu_port" contraforce-emulator

"$work/bin/driver" setup -dir "$work"

# The replicas, configured as deploy/kubernetes/deployment.yaml does (by
# environment), each on its own port.
export CF_DEMO_SECRET=cf_sa_demo_0123456789abcdefDEMO # the emulator's public demo credential
replicas="" metrics="" servers=""
for i in 1 2 3; do
  port=$(free_port) mport=$(free_port)
  CONTRAFORCE_TENANTS_FILE="$work/tenants.json" \
  CONTRAFORCE_BASE_URL="http://127.0.0.1:$emu_port/api/v2" \
  CONTRAFORCE_REDIS="redis://127.0.0.1:$redis_port" \
  CONTRAFORCE_KEEPALIVE=25s CONTRAFORCE_SHUTDOWN_TIMEOUT=5s CONTRAFORCE_LOG_LEVEL=info \
  CONTRAFORCE_AUDIT_LOG="$work/audit-$i.jsonl" \
  CONTRAFORCE_TOOL_CALLS_PER_SECOND=10 CONTRAFORCE_TOOL_CALL_BURST=20 \
    "$work/bin/contraforce-mcp" serve --addr "127.0.0.1:$port" --metrics-addr "127.0.0.1:$mport" 2>"$work/replica-$i.log" &
  pids+=($!)
  disown $! # the driver kills one: no job report from bash
  replicas+="127.0.0.1:$port=$!,"
  metrics+="127.0.0.1:$port=127.0.0.1:$mport,"
  servers+="    server 127.0.0.1:$port max_fails=1 fail_timeout=10s;"$'\n'
  wait_port "$port" "replica $i"
done

# nginx as ingress-nginx runs it for ingress.yaml's annotations:
# upstream-hash-by "$http_authorization" (ingress-nginx hashes consistently;
# "hash … consistent" is nginx's own), proxy-buffering off, proxy-read- and
# proxy-send-timeout 3600, proxy-body-size 2m; and ingress-nginx's defaults:
# HTTP/1.1 with keep-alive to the pods, the client's Host, the next pod on a
# connection error or timeout. X-Upstream (which replica answered) is for
# the driver only.
nginx_port=$(free_port)
mkdir -p "$work/nginx-temp"
chmod 777 "$work/nginx-temp"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-temp/body;
  proxy_temp_path $work/nginx-temp/proxy;
  fastcgi_temp_path $work/nginx-temp/fastcgi;
  uwsgi_temp_path $work/nginx-temp/uwsgi;
  scgi_temp_path $work/nginx-temp/scgi;
  upstream contraforce-mcp {
    hash \$http_authorization consistent;
$servers    keepalive 32;
  }
  server {
    listen 127.0.0.1:$nginx_port;
    client_max_body_size 2m;
    proxy_buffering off;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host \$http_host;
    proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto \$scheme;
    proxy_next_upstream error timeout;
    proxy_next_upstream_tries 3;
    add_header X-Upstream \$upstream_addr always;
    location / { proxy_pass http://contraforce-mcp; }
  }
}
EOF
"$NGINX" -t -q -p "$work" -c "$work/nginx.conf"
"$NGINX" -p "$work" -c "$work/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_port "$nginx_port" nginx

args=(-dir "$work" -nginx "http://127.0.0.1:$nginx_port" -api "http://127.0.0.1:$emu_port/api/v2"
  -replicas "$replicas" -metrics "$metrics" -rate 10 -burst 20)
"$work/bin/driver" run "${args[@]}"

# Redis goes away: the replicas serve alone. Then it comes back, empty.
kill -TERM "$redis_pid"
for _ in $(seq 100); do kill -0 "$redis_pid" 2>/dev/null || break; sleep 0.1; done
"$work/bin/driver" degraded "${args[@]}"
start_redis
"$work/bin/driver" restored "${args[@]}"
grep -q "Redis unreachable" "$work"/replica-*.log || { echo "replicas: no replica logged a warning for the outage"; exit 1; }
echo "replicas: passed"
