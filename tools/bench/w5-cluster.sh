#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# W5 "cluster" (docs/PERFORMANCE.md#w5-cluster): three `tomato-bench server 0` processes
# register in a real ZooKeeper; `tomato-bench client cluster` finds them there and keeps 64
# calls in flight through its load balancer (cluster=failover); BEFORE_S seconds after the
# client prints RUNNING one server is SIGKILLed and the client gets SIGUSR1 ("the kill
# happened now"); the client runs 5 s more and prints its result line. Builds nothing.
#
#   tools/bench/w5-cluster.sh [runs]     (default 1; medians printed after several)
#
# Environment:
#   TOMATO_BENCH_BUILD  build directory with tools/bench/tomato-bench (default build/release-bench,
#                       as compare.sh; make it there with cmake --build DIR --target tomato-bench)
#   BEFORE_S=3          seconds from RUNNING to the kill (the client leaves the first second out)
#   PIN=1               servers on CPU 0, client on CPU 1 (as ../shared/bench/anchors/run.sh);
#                       PIN=0: unpinned. ZooKeeper is never pinned.
#   SERVER_ARGS / CLIENT_ARGS  more --tomato-rpc.* arguments, e.g.
#                       SERVER_ARGS=--tomato-rpc.registry-session-timeout-ms=2000
#   W5_LOGS=DIR         keep each run's logs (client output with every 100 ms interval) in DIR/run-N
# Needs the zookeeper package (java) and taskset. Prints per run
#   w5 run N/M: qps=.. p50_us=.. p99_us=.. mbps=0 qps_before=.. qps_during=.. qps_after=.. failed=.. dip_ms=.. srv_cpu_us_call=..
# srv_cpu_us_call: CPU time (user + system) of the three servers from RUNNING to the client's
# end (the killed one up to its kill), per successful call in that time.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-1}
BUILD=${TOMATO_BENCH_BUILD:-$ROOT/build/release-bench}
BENCH=$BUILD/tools/bench/tomato-bench
BEFORE_S=${BEFORE_S:-3}
PIN=${PIN:-1}
read -r -a SERVER_EXTRA <<<"${SERVER_ARGS:-}"
read -r -a CLIENT_EXTRA <<<"${CLIENT_ARGS:-}"
ZK_JAR=/usr/share/java/zookeeper.jar

[ -x "$BENCH" ] || { echo "no $BENCH: cmake --build $BUILD --target tomato-bench first" >&2; exit 1; }
[ -r "$ZK_JAR" ] || { echo "no ZooKeeper at $ZK_JAR: apt-get install zookeeper" >&2; exit 1; }
pin() { if [ "$PIN" = 1 ]; then echo "taskset -c $1"; fi; }

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# ZooKeeper answers "imok" to "ruok" once it serves; bounded, as a starting server may accept
# the connection and say nothing.
# shellcheck disable=SC2016  # $1 is the inner shell's
ruok() { timeout 1 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf ruok >&3 && cat <&3' _ "$1" 2>/dev/null || true; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }  # utime + stime

# Waits up to $3 seconds for a line matching $2 in file $1 while process $4 lives; prints it.
wait_for_line() {
    local i
    for ((i = 0; i < $3 * 20; i++)); do
        grep -s -m1 "$2" "$1" && return 0  # -s: the file may not be there yet
        kill -0 "$4" 2>/dev/null || break
        sleep 0.05
    done
    grep -s -m1 "$2" "$1" && return 0
    echo "no '$2' from pid $4 ($1):" >&2
    tail -20 "$1" >&2
    return 1
}

DIR=$(mktemp -d)
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do kill -KILL "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}
trap 'cleanup; rm -rf "$DIR"' EXIT
trap 'exit 130' INT TERM

one_run() {  # run number; prints the run's line
    local run=$1 d="$DIR/run-$1"
    mkdir -p "$d/zk"
    local zk_port
    zk_port=$(free_port)
    printf 'tickTime=500\ninitLimit=20\nsyncLimit=10\ndataDir=%s\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=ruok\n' \
        "$d/zk" "$zk_port" >"$d/zoo.cfg"
    java -Xmx256m -cp "/etc/zookeeper/conf_example:$ZK_JAR" org.apache.zookeeper.server.ZooKeeperServerMain \
        "$d/zoo.cfg" >"$d/zookeeper.log" 2>&1 &
    PIDS+=($!)
    local ok=0
    for _ in $(seq 200); do
        if [ "$(ruok "$zk_port")" = imok ]; then
            ok=1
            break
        fi
        sleep 0.1
    done
    [ "$ok" = 1 ] || { echo "ZooKeeper did not start:" >&2; tail -20 "$d/zookeeper.log" >&2; return 1; }
    local zk="127.0.0.1:$zk_port"

    local servers=() i
    for i in 1 2 3; do
        # shellcheck disable=SC2046
        $(pin 0) "$BENCH" server 0 "--tomato-rpc.name-service-uri=$zk" "${SERVER_EXTRA[@]}" >"$d/server-$i.log" 2>&1 &
        servers+=($!)
        PIDS+=($!)
    done
    for i in 0 1 2; do
        wait_for_line "$d/server-$((i + 1)).log" '^READY' 20 "${servers[$i]}" >/dev/null
    done

    # shellcheck disable=SC2046
    $(pin 1) "$BENCH" client cluster "$zk" "${CLIENT_EXTRA[@]}" >"$d/client.log" 2>"$d/client.err" &
    local client=$!
    PIDS+=("$client")
    wait_for_line "$d/client.log" 'RUNNING' 40 "$client" >/dev/null || { cat "$d/client.err" >&2; return 1; }
    local c0=0 p
    for p in "${servers[@]}"; do c0=$((c0 + $(cpu_ticks "$p"))); done

    sleep "$BEFORE_S"
    local victim=${servers[0]}
    local cv
    cv=$(cpu_ticks "$victim")
    kill -KILL "$victim"
    kill -USR1 "$client"
    wait "$victim" 2>/dev/null || true

    # The client ends 5 s after the kill, after draining (at most 15 s more).
    for _ in $(seq 600); do kill -0 "$client" 2>/dev/null || break; sleep 0.05; done
    local rc=0
    if kill -0 "$client" 2>/dev/null; then
        echo "run $run: the client did not end 30 s after the kill" >&2
        kill -KILL "$client"
        rc=1
    fi
    wait "$client" || rc=$?
    local c1=$cv
    for p in "${servers[@]:1}"; do c1=$((c1 + $(cpu_ticks "$p"))); done
    cleanup
    if [ "$rc" != 0 ]; then
        echo "run $run: the client failed (exit $rc):" >&2
        cat "$d/client.err" >&2
        tail -20 "$d/client.log" >&2
        return 1
    fi
    if [ -s "$d/client.err" ]; then sed "s/^/run $run client stderr: /" "$d/client.err" | head -20 >&2; fi

    local line calls cpu
    line=$(grep '^qps=' "$d/client.log")
    calls=$(sed -n 's/^info: calls=\([0-9]*\).*/\1/p' "$d/client.log")
    cpu=$(awk -v c="$((c1 - c0))" -v hz="$(getconf CLK_TCK)" -v n="$calls" \
        'BEGIN { printf "%.2f", (n > 0 ? c / hz * 1e6 / n : 0) }')
    { grep -E '^info: (failed call|instance|registry|calls=|p99_us)' "$d/client.log" || true; } | sed "s/^/run $run /" >&2
    echo "w5 run $run/$RUNS: $line srv_cpu_us_call=$cpu" | tee -a "$OUT"
    if [ -n "${W5_LOGS:-}" ]; then
        mkdir -p "$W5_LOGS"
        rm -rf "${W5_LOGS:?}/run-$run"
        cp -r "$d" "$W5_LOGS/run-$run"
        rm -rf "$W5_LOGS/run-$run/zk"
    fi
    rm -rf "$d"
}

OUT="$DIR/results"
for run in $(seq "$RUNS"); do
    one_run "$run"  # not in a pipeline: its processes must stay in PIDS for the trap
done

# Medians over the runs, field by field.
awk '
function median(list,   n, arr, i, j, t) {
    n = split(list, arr, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] + 0 < arr[i] + 0) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
/^w5 run / {
    runs++
    for (i = 4; i <= NF; i++) {
        split($i, kv, "=")
        if (!(kv[1] in seen)) { seen[kv[1]] = 1; order[++keys] = kv[1] }
        v[kv[1]] = v[kv[1]] " " kv[2]
    }
}
END {
    if (runs < 2) exit
    printf "w5 medians of %d runs:", runs
    for (k = 1; k <= keys; k++) printf " %s=%s", order[k], median(v[order[k]])
    printf "\n"
}' "$OUT"
