#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The status pages with curl (docs/STATUS.md), as an operator would poke them: a real
# tomato-sample-server, called once by the sample client, then every page over its RPC port.
# Usage: status_curl.sh <tomato-sample-server> <tomato-sample-client>
set -euo pipefail
server_bin=$1 client_bin=$2
dir=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$dir"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
expect() { # expect <description> <want> <got>
    [ "$2" = "$3" ] || fail "$1: wanted '$2', got '$3'"
    echo "ok - $1"
}

"$server_bin" --tomato-rpc.host=127.0.0.1 --tomato-rpc.port=0 --tomato-rpc.stage=qa \
    --tomato-rpc.group=blue >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 200); do
    grep -q '^READY' "$dir/server.log" 2>/dev/null && break
    sleep 0.05
done
port=$(sed -n 's/^READY 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.log")
[ -n "$port" ] || { cat "$dir/server.log"; fail "the sample server did not start"; }
base="http://127.0.0.1:$port"

"$client_bin" --server "127.0.0.1:$port" >"$dir/client.log" 2>&1 || { cat "$dir/client.log"; fail "the sample client failed"; }

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

expect "live" 200 "$(code "$base/tomato/status/live")"
expect "live body" live "$(curl -s "$base/tomato/status/live")"
expect "ready" ready "$(curl -s "$base/tomato/status/ready")"
expect "node stage" '"qa"' "$(curl -s "$base/tomato/status/node" | sed -n 's/^  "stage": \(.*\),$/\1/p')"
# Pages are read whole, then searched: `curl | grep -q` under pipefail fails whenever grep
# finds its line before curl has written the rest (curl then dies of SIGPIPE).
services=$(curl -s "$base/tomato/status/services")
grep -q '"service": "Sample::EchoService"' <<<"$services" || fail "services lists Sample::EchoService"
echo "ok - services"
grep -q '"signature": "echo(QString)"' <<<"$services" || fail "services shows echo(QString)"
echo "ok - signatures"
expect "invoker page without clients" '[]' "$(curl -s "$base/tomato/status/invoker?service-id=demo-rpc-service")"
metrics=$(curl -s -D "$dir/headers" "$base/metrics")
grep -qi '^content-type: text/plain; version=0.0.4' "$dir/headers" || fail "metrics content type"
grep -q '^tomato_server_calls_total{service="Sample::EchoService",method="echo",code="Ok"} [1-9]' <<<"$metrics" \
    || { echo "$metrics" | grep calls_total >&2; fail "the sample client's echo calls are counted"; }
echo "ok - metrics count the sample client's calls"
expect "unknown path" 404 "$(code "$base/nothing/here")"
expect "POST" 405 "$(code -X POST -d x "$base/tomato/status/live")"
expect "DELETE" 405 "$(code -X DELETE "$base/tomato/status/live")"
expect "HEAD" 200 "$(code -I "$base/tomato/status/live")"
expect "HTTP/1.0" 200 "$(code --http1.0 "$base/tomato/status/live")"
expect "a header too large" 431 "$(code -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$base/tomato/status/live")"
# Two requests on one connection (keep-alive), as curl reuses it.
expect "keep-alive" "200200" "$(curl -s -o /dev/null -o /dev/null -w '%{http_code}' "$base/tomato/status/live" "$base/tomato/status/ready")"
# RPC still works on the port after all that.
"$client_bin" --server "127.0.0.1:$port" >"$dir/client2.log" 2>&1 || { cat "$dir/client2.log"; fail "RPC after the status requests"; }
echo "ok - RPC calls after the status requests"
grep -q '"/metrics"' <<<"$(curl -s "$base/tomato/status")" || fail "the index lists /metrics"
echo "ok - index"
