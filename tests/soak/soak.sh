#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The soak (./run soak, docs/RELIABILITY.md): a real ZooKeeper, three sample servers of
# demo-rpc-service and tomato-soak-driver's mixed load (small and large calls, timeouts,
# cancels, errors, clients that come and go) for MINUTES, while
#   - every minute the third server is stopped (SIGTERM: unregister, drain) and started again;
#   - every 10 s a tomato-sample-client process connects, calls every method once and exits.
# Once a minute it prints, for each process, its resident memory, open descriptors and
# threads, and the calls per second of the last minute. At the end it checks that nothing
# grows without bound: for the processes that live the whole run (the first two servers, the
# driver), the second half of the run (after a warm-up) against the first: memory by at
# most 10 % + 8 MiB, descriptors and threads by at most 4. It also fails on any call that
# failed without the load asking for it: the clients fail over (cluster=failover), and a
# restarted server's goodbye (Error frame 204) makes even non-idempotent calls safe to retry.
#   soak.sh BUILD_DIR MINUTES [OUT_DIR]     (OUT_DIR keeps the logs and soak.csv)
set -euo pipefail
build=$(cd "$1" && pwd)
minutes=${2:-30}
out=${3:-$(mktemp -d)}
mkdir -p "$out"
server_bin=$build/examples/sample-server/tomato-sample-server
client_bin=$build/examples/sample-client/tomato-sample-client
driver_bin=$build/tests/soak/tomato-soak-driver
for b in "$server_bin" "$client_bin" "$driver_bin"; do
    [ -x "$b" ] || { echo "soak: $b is missing (build first)" >&2; exit 2; }
done
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
}
trap cleanup EXIT
. "$(dirname "$0")/../scripts/zookeeper.sh" # free_port, start_zookeeper
wait_for() { # wait_for <file> <pattern>: up to 20 s
    for _ in $(seq 200); do grep -q "$2" "$1" 2>/dev/null && return 0; sleep 0.1; done
    echo "soak: no '$2' in $1" >&2; cat "$1" >&2; exit 1
}

zk_port=$(free_port)
start_zookeeper "$out/zk" "$zk_port" || { pids+=("$zk_pid"); exit 1; }
pids+=("$zk_pid")
registry=(--tomato-rpc.name-service-uri="127.0.0.1:$zk_port" --tomato-rpc.stage=dev --tomato-rpc.group=main)
# Clients fail over, as a cluster that restarts its instances wants them to (docs/CLUSTER.md).
clients=("${registry[@]}" --tomato-rpc.cluster=failover)

declare -A server_pid
start_server() { # start_server <n>
    local log="$out/server-$1.log"
    "$server_bin" "${registry[@]}" --tomato-rpc.host=127.0.0.1 --tomato-rpc.port=0 >>"$log" 2>&1 &
    server_pid[$1]=$!
    pids+=($!)
    wait_for "$log" "^READY"
}
for n in 1 2 3; do start_server "$n"; done

"$driver_bin" "${clients[@]}" >"$out/driver.log" 2>"$out/driver.err" &
driver_pid=$!
pids+=("$driver_pid")
wait_for "$out/driver.log" "^soak t="

sample() { # sample <pid>: "rss_kb fds threads"
    local rss threads fds
    rss=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0)
    fds=$(find "/proc/$1/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
    echo "${rss:-0} $fds ${threads:-0}"
}
last_ok() { # the driver's cumulative ok + expected calls, and unexpected failures
    sed -n 's/^soak t=[0-9]* ok=\([0-9]*\) expected=\([0-9]*\) unexpected=\([0-9]*\).*/\1 \2 \3/p' "$out/driver.log" | tail -1
}

echo "minute,process,rss_kb,fds,threads,calls_per_s,unexpected" >"$out/soak.csv"
printf '%-6s %-9s %10s %8s %5s %5s %11s %10s\n' minute process rss_kb "rss_MiB" fds thr calls/s unexpected
read -r ok0 ex0 _ < <(last_ok)
prev=$((ok0 + ex0))
prev_at=$(date +%s)
started_at=$prev_at
visitors=0
for minute in $(seq 1 "$minutes"); do
    # Six visiting sample clients, one every 10 s; the third server restarts at 30 s.
    visiting=()
    for tick in 1 2 3 4 5 6; do
        (timeout 60 "$client_bin" "${clients[@]}" >"$out/visitor-$minute-$tick.log" 2>&1 \
            || echo "visitor failed at minute $minute" >>"$out/visitors.log") &
        visiting+=($!)
        visitors=$((visitors + 1))
        if [ "$tick" = 3 ]; then
            kill "${server_pid[3]}"
            wait "${server_pid[3]}" 2>/dev/null || true
            start_server 3
        fi
        # The load runs meanwhile: this paces the minute by the clock, it waits for no condition.
        left=$((started_at + (minute - 1) * 60 + tick * 10 - $(date +%s)))
        [ "$left" -le 0 ] || sleep "$left"
    done
    wait "${visiting[@]}" 2>/dev/null || true
    cat "$out"/visitor-"$minute"-*.log >>"$out/visitors.log" && rm -f "$out"/visitor-"$minute"-*.log
    read -r ok ex unexpected < <(last_ok)
    total=$((ok + ex))
    now=$(date +%s)
    rate=$(( (total - prev) / (now > prev_at ? now - prev_at : 1) ))
    prev=$total
    prev_at=$now
    for proc in server-1 server-2 server-3 driver zookeeper; do
        case $proc in
            server-*) pid=${server_pid[${proc#server-}]} ;;
            driver) pid=$driver_pid ;;
            zookeeper) pid=$zk_pid ;;
        esac
        read -r rss fds thr < <(sample "$pid")
        printf '%-6s %-9s %10s %8s %5s %5s %11s %10s\n' "$minute" "$proc" "$rss" "$((rss / 1024))" "$fds" "$thr" "$rate" "$unexpected"
        echo "$minute,$proc,$rss,$fds,$thr,$rate,$unexpected" >>"$out/soak.csv"
    done
done
echo "visiting sample clients: $visitors ($(grep -c 'visitor failed' "$out/visitors.log" || true) failed)"

# The verdict: long-lived processes must not grow in the second half of the run.
python3 - "$out/soak.csv" "$minutes" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
minutes = int(sys.argv[2])
warm = max(1, minutes // 5)
bad = []
for proc in ("server-1", "server-2", "driver"):
    r = [x for x in rows if x["process"] == proc and int(x["minute"]) > warm]
    if len(r) < 2:
        print(f"{proc}: too short a run to judge growth ({len(r)} minutes after warm-up)")
        continue
    half = len(r) // 2
    first, second = r[:half], r[half:]
    mean = lambda xs, k: sum(int(x[k]) for x in xs) / len(xs)
    top = lambda xs, k: max(int(x[k]) for x in xs)
    m1, m2 = mean(first, "rss_kb"), mean(second, "rss_kb")
    grew = (m2 - m1) / 1024
    line = (f"{proc}: rss {m1/1024:.1f} -> {m2/1024:.1f} MiB ({grew:+.1f}), "
            f"fds {top(first,'fds')} -> {top(second,'fds')}, threads {top(first,'threads')} -> {top(second,'threads')}")
    if m2 > m1 * 1.10 + 8 * 1024:
        bad.append(line + ": memory grows")
    if top(second, "fds") > top(first, "fds") + 4:
        bad.append(line + ": descriptors grow")
    if top(second, "threads") > top(first, "threads") + 4:
        bad.append(line + ": threads grow")
    print(line)
unexpected = int(rows[-1]["unexpected"]) if rows else 0
if unexpected:
    bad.append(f"{unexpected} calls failed without the load asking for it (driver.err)")
for b in bad:
    print("FAIL:", b)
print("soak:", "FAILED" if bad else "ok")
sys.exit(1 if bad else 0)
EOF
