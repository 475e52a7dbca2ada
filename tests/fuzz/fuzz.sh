#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs the libFuzzer targets of a fuzz build (tests/fuzz/README.md).
#   tests/fuzz/fuzz.sh [--smoke] BUILD_DIR SECONDS [target...]
# Each target (default: every fuzz_* of BUILD_DIR) first runs every stored input of
# tests/fuzz/corpus/<target>/ once (seeds and regression cases), then fuzzes for SECONDS from a
# copy of that corpus in a temporary directory: the stored corpus only changes by hand. Prints,
# per target, the executions, executions per second and the coverage libFuzzer reached (cov:
# edges, ft: features). Fails when any target crashes, leaks, hangs (an input over 10 s) or
# reports undefined behaviour; the input that did it is kept in BUILD_DIR/fuzz-artifacts/
# (add it to the corpus as a regression case once fixed).
# --smoke: the same, for CI (`ctest` of the fuzz build runs it with 5 s per target).
# FUZZ_KEEP_CORPUS=DIR keeps each run's grown corpus in DIR/<target> (for minimising new seeds).
set -euo pipefail

smoke=0
if [ "${1:-}" = "--smoke" ]; then
    smoke=1
    shift
fi
if [ $# -lt 2 ]; then
    echo "usage: $0 [--smoke] BUILD_DIR SECONDS [target...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
corpus_root=$here/corpus

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    for t in "$corpus_root"/*/; do
        targets+=("$(basename "$t")")
    done
fi

# Longest input: beyond the largest stored input, and past the 8 KiB HTTP head limit.
max_len() {
    case "$1" in
        fuzz_http) echo 12000 ;;
        fuzz_frameparser) echo 8192 ;;
        *) echo 4096 ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
artifacts=$build/fuzz-artifacts
mkdir -p "$artifacts"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

failed=()
summary=()
for t in "${targets[@]}"; do
    exe=$build/$t
    if [ ! -x "$exe" ]; then
        echo "$t: not built in $build" >&2
        failed+=("$t (not built)")
        continue
    fi
    log=$work/$t.log
    # 1. Every stored input once.
    if ! "$exe" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/$t-" \
            "$corpus_root/$t" >"$log" 2>&1; then
        echo "== $t: a stored input fails" >&2
        tail -n 40 "$log" >&2
        failed+=("$t (stored input)")
        continue
    fi
    # 2. Fuzzing from a copy of the corpus.
    mkdir -p "$work/corpus/$t"
    cp "$corpus_root/$t"/* "$work/corpus/$t/"
    status=0
    "$exe" -max_total_time="$seconds" -max_len="$(max_len "$t")" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$artifacts/$t-" "$work/corpus/$t" >"$log" 2>&1 || status=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1 || true)
    corp=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$log" | tail -n 1 || true)
    line=$(printf '%-20s execs %-10s exec/s %-7s %s %s' "$t" "${execs:-?}" "${rate:-?}" "${cov:-cov: ?}" "$corp")
    if [ $status -ne 0 ]; then
        echo "== $t: FAILED (exit $status)" >&2
        grep -E '^(==[0-9]+==ERROR|SUMMARY|.*runtime error|ALARM|.*Test unit written)' "$log" >&2 || tail -n 40 "$log" >&2
        sed -n '/ERROR:/,/SUMMARY/p' "$log" | head -n 60 >&2
        line="$line  FAILED"
        failed+=("$t")
    fi
    echo "$line"
    summary+=("$line")
    if [ -n "${FUZZ_KEEP_CORPUS:-}" ]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$t"
        cp "$work/corpus/$t"/* "$FUZZ_KEEP_CORPUS/$t/"
    fi
done

echo "== fuzz summary ($seconds s per target$([ $smoke = 1 ] && echo ', smoke'))"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -ne 0 ]; then
    echo "failed: ${failed[*]} (inputs in $artifacts)" >&2
    exit 1
fi
