#!/usr/bin/env bash
# The order path under overload and under a crashing pool, behind one `flashsale serve`:
#   1. Load: orders from distinct buyers at each of LEVELS connections (one per wrk thread),
#      DURATION each, in one run: 201s per second and their p50/p99, the refusals (503
#      `busy`) and their latency beside them, each level against the first. Twice: buyers
#      that send again at once (the worst case) and buyers that wait out Retry-After as the
#      storefront does.
#   2. Kill: under CONNECTIONS buyers, KILLS order processes are killed with SIGKILL, one every
#      GAP seconds: per kill, the answers lighttpd gave itself (its errorfile 503, no
#      Retry-After) and their span, and the longest pause between two 201s around it.
# Every sale is checked against the database: each part's 201s are exactly its orders (a
# killed process may have committed orders it could not answer: no more than the requests
# it held, which lighttpd answered 500).
# Prints a Markdown section; with WRITE=BENCHMARKS.md it replaces the part of that file between
# its two "make bench faults" markers. Exits 1, after printing, when a check fails.
#
# Usage: Tests/Benchmarks/faults.sh [BIN_DIR]   (BIN_DIR defaults to .build/release)
# Knobs: DURATION (10s), LEVELS ("64 256 1024"), CONNECTIONS (64, part 2), KILLS (5), GAP (2),
#        PARTS ("1 2"), PASSES ("again honour": part 1's client behaviours), ROOT (the project
#        folder to serve: functions/ and lighttpd/, the project itself by default).
# Needs: wrk (with LuaJIT), curl, python3 with PyJWT (make bench-deps installs both).
set -euo pipefail

DURATION=${DURATION:-10s}
source "$(dirname "$0")/common.sh"
here=$(cd "$(dirname "$0")" && pwd)
levels=${LEVELS:-64 256 1024}
kills=${KILLS:-5}
gap=${GAP:-2}
parts=" ${PARTS:-1 2} "
passes=${PASSES:-again honour}
seconds=${duration%s}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "DURATION must be whole seconds (10s)" >&2; exit 1; }
wrk_pid=""
cleanup() {
  [ -n "$wrk_pid" ] && kill -TERM "$wrk_pid" 2>/dev/null
  stop_serve
}
trap cleanup EXIT
start_serve "${ROOT:-$project}"

fs() { "$bin/flashsale" "$@" --data "$data"; }
mint() { FLASHSALE_DATA="$data" python3 "$here/mint.py" "$@"; }
note() { echo "$*" >&2; }
now_us() { date +%s%6N; }

# Creates sale $1 with a stock larger than any run sells and mints $2 buyers into $work/$1
# for $3 wrk threads.
prepare() {
  fs sale create "$1" --title "$1" --price 100 --stock 10000000 --starts-in 0 >/dev/null
  mint many "$1" "$1-buyer" "$2" "$work/$1" "$3"
}

# wrk runs in a session of its own, so in a scheduling group of its own (autogroup): on a sale
# day the crowd's clients are other machines, and here a thousand wrk threads in the server's
# group would each weigh as much as an order process.
# Sends the buyers of sale $1 for $2 seconds on as many connections as it has lists, the
# answers into $work/$1.out; $3 is buyers.lua's mode: "retry" (a refused buyer sends again at
# once) or "honour" (after Retry-After).
buy() {
  local sale=$1 limit=$2 mode=$3 files secret
  files=$(find "$work/$sale" -type f | wc -l)
  secret=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
    "SELECT secret FROM sales WHERE id = ?", (sys.argv[2],)).fetchone()[0])' "$data/flashsale.db" "$sale")
  mkdir -p "$work/$sale.out"
  setsid wrk -t"$files" -c"$files" -d"$((limit + 120))s" --timeout 30s -s "$here/buyers.lua" \
    "$base/api/order/$secret" "$work/$sale" "$sale" "$limit" "$work/$sale.out" "$mode" >"$work/$sale.wrk" 2>&1 &
  wrk_pid=$!
}

# Waits, bounded, until every thread of the run of sale $1 has written its answers.
await() {
  local sale=$1 files
  files=$(find "$work/$sale" -type f | wc -l)
  for _ in $(seq 1 1800); do
    [ "$(find "$work/$sale.out" -name '[0-9]*' | wc -l)" -ge "$files" ] && break
    kill -0 "$wrk_pid" 2>/dev/null || break
    sleep 0.1
  done
  cpu_wrk=$(cpu_of "$wrk_pid")
  kill -INT "$wrk_pid" 2>/dev/null || true
  wait "$wrk_pid" || true
  wrk_pid=""
  if [ "$(find "$work/$sale.out" -name '[0-9]*' | wc -l)" -lt "$files" ]; then
    echo "wrk ended before every thread had written its answers:" >&2; cat "$work/$sale.wrk" >&2; exit 1
  fi
}

# The pids of the order processes lighttpd runs now.
order_pids() {
  local lighttpd
  lighttpd=$(cat "$data/run/lighttpd.pid")
  ps -o pid=,args= --ppid "$lighttpd" | awk -v exe="$bin/flashsale-order" '$2 == exe {print $1}'
}

# CPU seconds (user + system) the processes $@ have used so far.
cpu_of() {
  local pid ticks=0
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && ticks=$((ticks + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}

# Enough buyers for $1 connections over $2 seconds: a refused buyer sends again, so a new one
# is needed only after a 201, and no 201s come faster than 5,000/s.
buyers_for() { echo $((5000 * $2 + 4 * $1)); }

failed=0
runs=()
if [[ $parts == *" 1 "* ]]; then
  for pass in $passes; do
    for level in $levels; do
      sale="load-$pass-$level"
      note "part 1: $level connections, $duration, $pass"
      prepare "$sale" "$(buyers_for "$level" "$seconds")" "$level"
      mapfile -t orders < <(order_pids)
      lighttpd=$(cat "$data/run/lighttpd.pid")
      cpu_orders=$(cpu_of "${orders[@]}") cpu_lighttpd=$(cpu_of "$lighttpd")
      buy "$sale" "$seconds" "$([ "$pass" = honour ] && echo honour || echo retry)"
      await "$sale"
      # "wrk lighttpd order-processes": CPU seconds each used during the run.
      echo "$cpu_wrk $(awk -v a="$(cpu_of "$lighttpd")" -v b="$cpu_lighttpd" 'BEGIN {printf "%.2f", a - b}') $(awk -v a="$(cpu_of "${orders[@]}")" -v b="$cpu_orders" 'BEGIN {printf "%.2f", a - b}')" >"$work/$sale.cpu"
      runs+=("$sale")
      uptime >&2
    done
  done
fi

killed=()
if [[ $parts == *" 2 "* ]]; then
  sale="kill"
  total=$(awk -v k="$kills" -v g="$gap" 'BEGIN {printf "%d", k * g * 1.5 + 3}')
  note "part 2: $kills kills, one every $gap s, under $connections connections for $total s"
  prepare "$sale" "$(buyers_for "$connections" "$total")" "$connections"
  buy "$sale" "$total" retry
  sleep "$(awk -v g="$gap" 'BEGIN {print (g < 1) ? 1 : g}')"
  for _ in $(seq 1 "$kills"); do
    mapfile -t pids < <(order_pids)
    if [ "${#pids[@]}" -gt 0 ]; then # none while lighttpd has every one still to respawn
      victim=${pids[$((RANDOM % ${#pids[@]}))]}
      killed+=("$(now_us):$victim")
      kill -KILL "$victim"
    fi
    sleep "$gap"
  done
  await "$sale"
  uptime >&2
fi

# --- The Markdown ------------------------------------------------------------------------

python3 "$here/faults.py" "$data/flashsale.db" "$work" "$(xargs <<<"$levels")" "${runs[*]:-}" "${killed[*]:-}" \
  >"$work/faults.md" || failed=1
log_lines=$(cat "$data/log/functions.log" "$data/log/lighttpd-error.log" | grep -v "server started" || true)

{
  echo "### Faults and overload — $(date -u +%Y-%m-%d), $(nproc) cores, $(lighttpd -v | cut -d' ' -f1), $(swift --version 2>&1 | head -1 | sed 's/ (.*//')"
  echo
  echo "\`Tests/Benchmarks/faults.sh\` (PARTS=\"$(xargs <<<"$parts")\" DURATION=$duration LEVELS=\"$levels\" PASSES=\"$passes\" CONNECTIONS=$connections KILLS=$kills GAP=$gap; wrk on the same machine, one connection per wrk thread; load average $(cut -d' ' -f1-3 /proc/loadavg) at the end)"
  echo
  cat "$work/faults.md"
  echo
  echo "lighttpd's error log: $(grep -c . "$data/log/lighttpd-error.log" || true) lines; functions.log: $(grep -c . "$data/log/functions.log" || true) lines."
} >"$work/section.md"
cat "$work/section.md"
[ -n "$log_lines" ] && head -5 <<<"$log_lines" >&2
if [ -n "${WRITE:-}" ]; then
  write_section "$WRITE" "$work/section.md" "make bench faults"
fi
exit "$failed"
