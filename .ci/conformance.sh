#!/usr/bin/env bash
# The official MCP conformance suite (@modelcontextprotocol/conformance,
# pinned in .ci/conformance/package-lock.json) against `contraforce-mcp
# serve`, on loopback, over streamable HTTP.
#
# It runs the suite's generic server scenarios: the ones any server can
# pass. The suite's other server scenarios call the fixtures of its own
# reference server (tools named test_simple_text, test_image_content…, a
# resource test://static-text, prompts named test_simple_prompt…), which a
# ContraForce server does not have and should not grow.
#
# The server runs as an operator would try it: `serve --demo` (the embedded
# emulator) with --insecure-no-auth, the documented flag that turns the
# bearer token off and that serve refuses unless --addr is loopback; no
# setting here exists only for the suite. The Host/Origin check stays on
# (dns-rebinding-protection tests it).
#
# Needs Go, Node.js (20 or later) and npm with the npm registry. The suite
# declares Node 22; on Node 20 .ci/conformance/node20-compat.mjs is
# preloaded (see there).
set -euo pipefail
cd "$(dirname "$0")/.."
suite=.ci/conformance

npm ci --prefix "$suite" --no-audit --no-fund --loglevel=error
version=$(node -p "require('./$suite/node_modules/@modelcontextprotocol/conformance/package.json').version")

work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/contraforce-mcp" ./cmd/contraforce-mcp
"$work/contraforce-mcp" serve --demo --insecure-no-auth --addr 127.0.0.1:0 2>"$work/serve.log" &
pid=$!
url=""
for _ in $(seq 200); do
  url=$(grep -o 'streamable=http://127\.0\.0\.1:[0-9]*/mcp' "$work/serve.log" | head -n1 | cut -d= -f2 || true)
  [ -n "$url" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "serve exited:"; cat "$work/serve.log"; exit 1
  fi
  sleep 0.1
done
if [ -z "$url" ]; then
  echo "serve did not start within 20s:"; cat "$work/serve.log"; exit 1
fi

scenarios=(
  server-initialize ping logging-set-level completion-complete
  tools-list resources-list resources-subscribe resources-unsubscribe
  prompts-list server-sse-multiple-streams dns-rebinding-protection
)
passed=0
failed=()
for s in "${scenarios[@]}"; do
  if out=$(cd "$suite" && timeout 120 node --import ./node20-compat.mjs \
      node_modules/@modelcontextprotocol/conformance/dist/index.js server --url "$url" --scenario "$s" 2>&1); then
    passed=$((passed + 1))
    echo "  pass  $s  ($(grep -o 'Passed: [0-9]*/[0-9]*' <<<"$out" | tail -n1) checks)"
  else
    failed+=("$s")
    echo "  FAIL  $s"; tail -n 25 <<<"$out" | sed 's/^/        /'
  fi
done
echo "conformance $version: $passed of ${#scenarios[@]} generic server scenarios passed"
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}; the server's log:"; tail -n 50 "$work/serve.log"
  exit 1
fi
