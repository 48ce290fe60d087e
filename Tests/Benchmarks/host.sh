#!/usr/bin/env bash
# The host's ceiling: wrk against a small static file, the no-op function and the time
# function behind one `flashsale serve`, interleaved in rounds so machine noise falls on all
# three alike. Prints medians, ratios and the resident memory of the time processes as a
# Markdown section for BENCHMARKS.md.
#
# Usage: Tests/Benchmarks/host.sh [BIN_DIR]   (make bench-topics builds and passes .build/release)
# Knobs: ROUNDS (5), DURATION (10s), CONNECTIONS (64), THREADS (2).
set -euo pipefail

source "$(dirname "$0")/common.sh"
trap stop_serve EXIT
start_serve "$project"

# Pids of the live processes of function $1 serving this data directory.
function_pids() {
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}; pid=${pid%/environ}
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$bin/flashsale-$1" ] || continue
    tr '\0' '\n' <"$environ" 2>/dev/null | grep -qx "FLASHSALE_DATA=$data" && echo "$pid"
  done
}
rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }

paths=(${PATHS:-/robots.txt /api/noop /api/time})
for path in "${paths[@]}"; do duration=2s measure "$base$path" >/dev/null; done
declare -A before
for pid in $(function_pids time); do before[$pid]=$(rss_kb "$pid"); done

declare -A rps p99
time_requests=0
for round in $(seq 1 "$rounds"); do
  for path in "${paths[@]}"; do
    read -r r p n < <(measure "$base$path")
    rps[$path]+="$r "
    p99[$path]+="$p "
    [ "$path" = /api/time ] && time_requests=$((time_requests + n))
    echo "round $round $path: $r req/s, p99 $p ms" >&2
  done
done

static=$(med "${rps[/robots.txt]}")
noop=$(med "${rps[/api/noop]}")
echo "### Host ceiling — $(date -u +%Y-%m-%d), $(nproc) cores, $(lighttpd -v | cut -d' ' -f1), $(swift --version 2>&1 | head -1 | sed 's/ (.*//')"
echo
echo "\`make bench-topics\` → \`Tests/Benchmarks/host.sh\` (ROUNDS=$rounds DURATION=$duration CONNECTIONS=$connections THREADS=$threads; wrk on the same machine; medians of $rounds interleaved rounds)"
echo
echo "| path | requests/s | p99 latency (ms) | ÷ noop | ÷ static |"
echo "|---|---:|---:|---:|---:|"
for path in "${paths[@]}"; do
  r=$(med "${rps[$path]}")
  awk -v path="$path" -v r="$r" -v p="$(med "${p99[$path]}")" -v noop="$noop" -v static="$static" \
    'BEGIN {printf "| `%s` | %.0f | %.2f | %.2f | %.2f |\n", path, r, p, r / noop, r / static}'
done
echo
echo "Resident memory of each \`flashsale-time\` process, after warm-up → after $time_requests more /api/time requests in all:"
echo
for pid in "${!before[@]}"; do
  echo "- pid $pid: ${before[$pid]} kB → $(rss_kb "$pid") kB"
done
