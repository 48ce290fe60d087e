#!/usr/bin/env bash
# What one crash of a function process costs under each SWIFT_BACKTRACE setting: the
# function runs on its own socket, gets SIGSEGV, and the Swift runtime's crash handler runs
# the backtracer (a child process) and waits for it. Measured: wall time from the signal until
# the handler is done (SIGSEGV no longer caught, no child left) and the backtracer's CPU (the
# function's cutime + cstime). A SIGSEGV sent with kill is not a fault the program repeats, so
# the process outlives its report and is killed afterwards; the report is the same.
#
# Usage: Tests/Benchmarks/crash-cost.sh [BIN_DIR]   (BIN_DIR defaults to .build/release)
# Knobs: RUNS (3), SETTINGS (space-separated; "default" leaves SWIFT_BACKTRACE unset).
set -euo pipefail
BIN=${1:-.build/release}
RUNS=${RUNS:-3}
SETTINGS=${SETTINGS:-"default enable=no enable=yes,symbolicate=fast enable=yes,symbolicate=off enable=yes,symbolicate=off,threads=crashed,registers=none,images=mentioned"}
TICK_MS=$((1000 / $(getconf CLK_TCK)))

crash() {
    local dir pid start end fields caught
    dir=$(mktemp -d /tmp/crash-cost.XXXXXX)
    if [ "$1" = default ]; then unset SWIFT_BACKTRACE; else export SWIFT_BACKTRACE=$1; fi
    FLASHSALE_LISTEN=$dir/s.sock FLASHSALE_DATA=$dir FLASHSALE_LOG=$dir/log "$BIN/flashsale-time" &
    pid=$!
    for _ in $(seq 500); do [ -S "$dir/s.sock" ] && break; sleep 0.01; done
    start=$(date +%s%N)
    kill -SEGV "$pid"
    for _ in $(seq 6000); do
        [ -d "/proc/$pid" ] || break
        caught=$(awk '/SigCgt/ {print $2}' "/proc/$pid/status" 2>/dev/null) || break
        if (((0x$caught & 0x400) == 0)) && [ -z "$(cat /proc/"$pid"/task/*/children 2>/dev/null | tr -d ' ')" ]; then break; fi
        sleep 0.005
    done
    end=$(date +%s%N)
    read -r -a fields < <(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null || echo)
    printf '%6d ms %5d ms CPU %3d lines\n' $(((end - start) / 1000000)) \
        $(((${fields[13]:-0} + ${fields[14]:-0}) * TICK_MS)) "$(wc -l <"$dir/log")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    rm -rf "$dir"
}

for setting in $SETTINGS; do
    echo "SWIFT_BACKTRACE=$setting"
    for _ in $(seq "$RUNS"); do crash "$setting"; done
done
