#!/usr/bin/env bash
# OAuth end to end: oidc-provider (npm) on loopback as the identity
# provider, the official MCP TypeScript SDK client, and contraforce-mcp
# serve --demo trusting the provider. Needs Go, Node 20+ and the npm
# registry; everything it starts is stopped (e2e.mjs stops the provider and
# the server; `timeout` bounds the whole run).
set -euo pipefail
cd "$(dirname "$0")"

npm ci --no-audit --no-fund --loglevel=error
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd ../.. && go build -o "$work/contraforce-mcp" ./cmd/contraforce-mcp)
CONTRAFORCE_MCP_BIN="$work/contraforce-mcp" timeout --kill-after=10 300 node e2e.mjs
