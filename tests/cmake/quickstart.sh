#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Follows docs/QUICKSTART.md as a newcomer would: installs Tomato RPC into a temporary
# prefix, builds examples/quickstart against it (warnings as errors), starts the server,
# runs the client, then makes the usual mistakes and checks what they say.
#   quickstart.sh <tomato build dir> <examples/quickstart> <work dir>
set -euo pipefail
BUILD_DIR=$1 SOURCE_DIR=$2 WORK_DIR=$3
rm -rf "$WORK_DIR"
mkdir -p "$WORK_DIR"
server_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; true' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

quiet() { # runs a step, showing its output only when it fails
    local out
    out=$("$@" 2>&1) || fail "$*:
$out"
}
quiet cmake --install "$BUILD_DIR" --prefix "$WORK_DIR/prefix"
quiet cmake -S "$SOURCE_DIR" -B "$WORK_DIR/build" -G Ninja -DCMAKE_PREFIX_PATH="$WORK_DIR/prefix" \
    -DCMAKE_CXX_FLAGS="-Wall -Wextra -Wpedantic -Werror"
quiet cmake --build "$WORK_DIR/build" -j2
bin=$WORK_DIR/build

# The server on a free port (the guide's 4567 may be taken on a test machine).
"$bin/echo-server" --tomato-rpc.port=0 >"$WORK_DIR/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do
    grep -q "listening on" "$WORK_DIR/server.log" && break
    kill -0 "$server_pid" 2>/dev/null || fail "the server exited: $(cat "$WORK_DIR/server.log")"
    sleep 0.1
done
line=$(grep -m1 "listening on" "$WORK_DIR/server.log") || fail "the server never listened"
[[ $line =~ ^tomato\.server:\ listening\ on\ tcp://127\.0\.0\.1:([0-9]+)$ ]] || fail "unexpected: $line"
port=${BASH_REMATCH[1]}

# Ten times: the asynchronous reply may come before or after the client reaches exec().
# A client that hangs is stopped after 20 s and reported.
for _ in $(seq 10); do
    out=$(timeout 20 "$bin/echo-client" --server "127.0.0.1:$port" "hi there") || fail "the client failed or hung ($?)"
    [ "$out" = $'hi there\nHI THERE' ] || fail "client printed: $out"
done
out=$(timeout 20 "$bin/echo-client" --server "127.0.0.1:$port")
[ "$out" = $'hello, tomato\nHELLO, TOMATO' ] || fail "client printed: $out"

# Mistakes: one line each, and the right exit code.
expect() { # expect <exit code> <stderr line> <command...>
    local code=$1 want=$2 got rc=0
    shift 2
    got=$(timeout 20 "$@" 2>&1 >/dev/null) || rc=$?
    [ "$rc" = "$code" ] || fail "$* exited $rc, not $code: $got"
    [ "$got" = "$want" ] || fail "$* said: $got
expected: $want"
}
kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
expect 1 "echo-client: ConnectFailed: cannot connect to tcp://127.0.0.1:$port: Connection refused" \
    "$bin/echo-client" --server "127.0.0.1:$port"
expect 2 "echo-server: tomato-rpc config: key 'port' from command line argument --tomato-rpc.port=abc: 'abc' is not an integer" \
    "$bin/echo-server" --tomato-rpc.port=abc
expect 2 "echo-client: Unknown option 'sever'. (see --help)" "$bin/echo-client" --sever x
help=$("$bin/echo-server" --help)
[[ $help == *"--tomato-rpc.port <value>"* ]] || fail "--help does not list the keys: $help"
echo "quickstart: ok"
