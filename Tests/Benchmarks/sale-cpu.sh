#!/usr/bin/env bash
# Where a full sale's CPU goes: one `flashsale loadtest` (token → precheck → order, 64
# connections) behind its own `flashsale serve`, with the CPU every process of the machine spent
# meanwhile, by kind: each function, lighttpd, the crowd (wrk), the load test itself, and what
# the kernel spent outside them. With the crowd on the same cores, a sale that keeps them busy
# lasts about (CPU of a buyer × buyers) ÷ cores. Prints Markdown.
#
# Usage: Tests/Benchmarks/sale-cpu.sh [BIN_DIR]   (.build/release by default)
# Knobs: SALE (units:buyers, 10000:10000, so that every buyer buys and the whole run sells).
set -euo pipefail

source "$(dirname "$0")/common.sh"
trap stop_serve EXIT
sale=${SALE:-10000:10000}
start_serve "$project"

# CPU ticks (user + system, every thread) by kind, for the processes of the sale: one pgrep
# and one awk a look, so that looking costs the sale little.
ticks_by_kind() {
  local files=() pid
  for pid in $(pgrep -f "^$bin/flashsale-|lighttpd") $(pgrep -x wrk) "$loadtest" "$serve"; do
    files+=("/proc/$pid/stat")
  done
  # The kernel keeps 15 characters of a name: "flashsale-prech" is the precheck function.
  cat "${files[@]}" 2>/dev/null | awk -v loadtest="$loadtest" -v serve="$serve" '
    BEGIN {full["flashsale-prech"] = "flashsale-precheck"; full["flashsale-sale-"] = "flashsale-sale-flag"
           full["flashsale-captc"] = "flashsale-captcha"}
    {name = $2; gsub(/[()]/, "", name)
     if (name in full) name = full[name]
     if ($1 == loadtest) name = "flashsale loadtest"; else if ($1 == serve) name = "flashsale serve"
     else if (name == "wrk") name = "wrk (the crowd)"
     t[name] += $14 + $15}
    END {for (k in t) print k "\t" t[k]}' | sort
}
# user nice system idle iowait irq softirq steal of the machine, in ticks.
machine() { awk '/^cpu / {print $2, $3, $4, $5, $6, $7, $8, $9}' /proc/stat; }

"$bin/flashsale" loadtest --url "$base" --create --sale cpu --stock "${sale%:*}" --buyers "${sale#*:}" \
  --concurrency 64 --duration 120 --data "$data" >"$work/loadtest.md" 2>"$work/loadtest.err" &
loadtest=$!
# The sale is wrk's run: the load test signs the buyers' identities before, checks the database after.
for _ in $(seq 1 1200); do pgrep -P "$loadtest" -x wrk >/dev/null && break; sleep 0.05; done
ticks_by_kind >"$work/before"
read -r -a m0 <<<"$(machine)"
# Looked at every 100 ms while wrk runs: the last look, before it ends, closes the count.
while pgrep -P "$loadtest" -x wrk >/dev/null; do
  ticks_by_kind >"$work/after.next" && mv "$work/after.next" "$work/after"
  read -r -a m1 <<<"$(machine)"
  sleep 0.1
done
wait "$loadtest" || { cat "$work/loadtest.err" "$work/loadtest.md"; exit 1; }

hz=$(getconf CLK_TCK)
buyers=${sale#*:}
busy=0 total=0
for i in 0 1 2 3 4 5 6 7; do
  d=$((m1[i] - m0[i])); total=$((total + d))
  [ "$i" != 3 ] && [ "$i" != 4 ] && busy=$((busy + d))
done
echo "| process | CPU-s | share of the machine's busy CPU | µs a buyer |"
echo "|---|---:|---:|---:|"
join -t $'\t' -a 2 -e 0 -o 0,1.2,2.2 "$work/before" "$work/after" | awk -F'\t' -v hz="$hz" -v b="$buyers" -v busy="$busy" '
  {d = ($3 - $2) / hz; if (d <= 0) next; s += d
   printf "| %s | %.2f | %.0f %% | %.0f |\n", $1, d, 100 * d * hz / busy, d * 1e6 / b}
  END {k = busy / hz - s; printf "| the kernel outside these (interrupts, softirq, other processes) | %.2f | %.0f %% | %.0f |\n", k, 100 * k * hz / busy, k * 1e6 / b}'
awk -v busy="$busy" -v total="$total" -v hz="$hz" -v b="$buyers" -v cores="$(nproc)" 'BEGIN {
  printf "\nThe machine was %.0f %% busy over %.1f s of %d cores; %.0f µs of CPU a buyer in all.\n\n",
    100 * busy / total, total / hz / cores, cores, busy * 1e6 / hz / b }'
grep -E '^\|(---| (step|token|precheck|order) )|orders \(' "$work/loadtest.md"
"$bin/flashsale" sale show cpu --json --data "$data" | python3 -c 'import json, sys
c = json.load(sys.stdin)["counters"]
print("\nOrders a group: %.1f (%d orders in %d group commits)." % (c["orders"] / max(1, c["groupCommits"]), c["orders"], c["groupCommits"]))'
