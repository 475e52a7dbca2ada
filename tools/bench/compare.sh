#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds tomato-bench in Release and runs it beside the reference systems of
# ../shared/bench/anchors (qt-tcp, grpc, qtro) on the same machine in one run, then prints
# Tomato RPC's ratio to each reference for W1-W4 (docs/PERFORMANCE.md explains the targets),
# and the same workloads over TLS and a Unix socket beside Tomato over TCP.
#
#   tools/bench/compare.sh [runs]      (default 1 run; the anchors' run.sh pins server and
#                                       client to CPU 0 and 1)
#   TRANSPORTS="tls unix" (default) picks the extra transports; TRANSPORTS="" skips them.
# Needs: the packages ./run installs plus qt6-remoteobjects-dev libgrpc++-dev
# protobuf-compiler-grpc libprotobuf-dev protobuf-compiler (installed here when missing).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
ANCHORS=${ANCHORS_DIR:-$ROOT/../shared/bench/anchors}
RUNS=${1:-1}
BUILD=${TOMATO_BENCH_BUILD:-$ROOT/build/release-bench}

[ -x "$ANCHORS/run.sh" ] || { echo "no reference harness at $ANCHORS" >&2; exit 1; }
need=()
for p in qt6-remoteobjects-dev libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler \
         qt6-base-dev libzstd-dev zlib1g-dev libssl-dev cmake ninja-build g++ pkg-config; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""; [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

cmake -S "$ROOT" -B "$BUILD" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
    -DTOMATO_BUILD_EXAMPLES=OFF >/dev/null
cmake --build "$BUILD" -j2 --target tomato-bench >/dev/null
export TOMATO_BENCH=$BUILD/tools/bench/tomato-bench

OUT=$(mktemp)
trap 'rm -f "$OUT"' EXIT
TRANSPORTS=${TRANSPORTS-tls unix}
for run in $(seq "$RUNS"); do
    echo "== run $run/$RUNS" >&2
    "$ANCHORS/run.sh" tomato qt-tcp grpc qtro | tee -a "$OUT" >&2
    for t in $TRANSPORTS; do  # the same harness; tomato-bench reads the transport from the environment
        TOMATO_BENCH_TRANSPORT=$t "$ANCHORS/run.sh" tomato | sed "s/^tomato /tomato-$t /; s/^# tomato /# tomato-$t /" \
            | tee -a "$OUT" >&2
    done
    # W6 "one core": the server with one I/O thread and one business thread, from the usual
    # configuration sources; its W2 line is what counts.
    TOMATO_RPC_IO_THREADS=1 TOMATO_RPC_BUSINESS_THREAD=1 "$ANCHORS/run.sh" tomato \
        | sed "s/^tomato /tomato-onecore /; s/^# tomato /# tomato-onecore /" | tee -a "$OUT" >&2
    # W1 with the echo service on the business pool, the library's default dispatch.
    TOMATO_BENCH_DISPATCH=pool "$ANCHORS/run.sh" tomato \
        | sed "s/^tomato /tomato-pool /; s/^# tomato /# tomato-pool /" | tee -a "$OUT" >&2
done

# Medians over the runs, then ratios: W1 p50 (lower is better), W2 qps, W3 mbps, W4 KB per
# connection (lower is better).
awk '
function field(line, key,   i, n, parts, kv) {
    n = split(line, parts, " ")
    for (i = 1; i <= n; i++) { split(parts[i], kv, "="); if (kv[1] == key) return kv[2] }
    return ""
}
function median(list,   n, arr, i, j, t) {
    n = split(list, arr, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] + 0 < arr[i] + 0) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
    return n % 2 ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
}
/^# [a-z-]+ conns:/ { a = $2; v[a, "W4"] = v[a, "W4"] " " field($0, "per_conn_kb"); next }
/^[a-z-]+ (lat|tput|big) / {
    a = $1
    if ($2 == "lat") v[a, "W1"] = v[a, "W1"] " " field($0, "p50_us")
    if ($2 == "tput") v[a, "W2"] = v[a, "W2"] " " field($0, "qps")
    if ($2 == "big") v[a, "W3"] = v[a, "W3"] " " field($0, "mbps")
    c[a, $2] = c[a, $2] " " field($0, "srv_cpu_us_call")
}
END {
    split("W1 W2 W3 W4", ws, " ")
    split("qt-tcp grpc qtro", refs, " ")
    name["W1"] = "W1 p50 us (lower wins)"; name["W2"] = "W2 calls/s"; name["W3"] = "W3 MB/s"; name["W4"] = "W4 KB/conn (lower wins)"
    printf "\n%-24s %10s %10s %10s %10s   %8s %8s %8s\n", "workload (medians)", "tomato", "qt-tcp", "grpc", "qtro", "/qt-tcp", "/grpc", "/qtro"
    for (i = 1; i <= 4; i++) {
        w = ws[i]; t = median(v["tomato", w])
        printf "%-24s %10s", name[w], t
        for (r = 1; r <= 3; r++) printf " %10s", median(v[refs[r], w])
        printf "  "
        for (r = 1; r <= 3; r++) { m = median(v[refs[r], w]); printf " %8.2f", (m + 0 > 0 ? t / m : 0) }
        printf "\n"
    }
    w6 = median(v["tomato-onecore", "W2"]); q = median(v["qtro", "W2"])
    if (w6 != "") printf "%-24s %10s %10s %10s %10s   %8s %8s %8.2f\n", "W6 calls/s (1 core)", w6, "", "", q, "", "", (q + 0 > 0 ? w6 / q : 0)
    p1 = median(v["tomato-pool", "W1"]); p2 = median(v["tomato-pool", "W2"]); p3 = median(v["tomato-pool", "W3"])
    if (p1 != "") printf "%-24s %10s %10s %10s %10s   %8.2f\n", "pool dispatch W1 p50 us", p1, median(v["qt-tcp", "W1"]), "", "", (median(v["qt-tcp", "W1"]) + 0 > 0 ? p1 / median(v["qt-tcp", "W1"]) : 0)
    if (p2 != "") printf "%-24s %10s %10s %10s %10s   %8s %8s %8.2f\n", "pool dispatch W2 calls/s", p2, "", "", q, "", "", (q + 0 > 0 ? p2 / q : 0)
    print "\nTargets: W1 <= 1.15 x qt-tcp, W2 >= 2 x qtro, W3 >= 1.0 x qt-tcp, W4 <= 1.0 x qt-tcp, W6 >= 2 x qtro"
    printf "\n%-24s %10s %10s %10s\n", "server CPU us/call", "W1 lat", "W2 tput", "W3 big"
    split("tomato qt-tcp grpc qtro tomato-tls tomato-unix tomato-onecore tomato-pool", all, " ")
    for (i = 1; i <= 8; i++) {
        a = all[i]
        if (c[a, "lat"] == "") continue
        printf "%-24s %10s %10s %10s\n", a, median(c[a, "lat"]), median(c[a, "tput"]), median(c[a, "big"])
    }
    printf "\n%-24s %10s %10s %10s\n", "server CPU ratio", "W1 lat", "W2 tput", "W3 big"
    split("qt-tcp qtro", against, " ")
    for (i = 1; i <= 2; i++) {
        r = against[i]
        printf "%-24s", "tomato / " r
        split("lat tput big", ks, " ")
        for (k = 1; k <= 3; k++) { m = median(c[r, ks[k]]); printf " %10.2f", (m + 0 > 0 ? median(c["tomato", ks[k]]) / m : 0) }
        printf "\n"
    }
    print "CPU targets: W2 <= 1.0 x qtro, W3 <= 1.1 x qt-tcp"

    if (v["tomato-tls", "W1"] != "" || v["tomato-unix", "W1"] != "") {
        printf "\n%-24s %10s %10s %10s   %8s %8s\n", "transports (medians)", "tcp", "tls", "unix", "tls/tcp", "unix/tcp"
        for (i = 1; i <= 3; i++) {
            w = ws[i]; t = median(v["tomato", w]); s = median(v["tomato-tls", w]); u = median(v["tomato-unix", w])
            printf "%-24s %10s %10s %10s   %8.2f %8.2f\n", name[w], t, s, u, (t + 0 > 0 ? s / t : 0), (t + 0 > 0 ? u / t : 0)
        }
    }
}' "$OUT"
