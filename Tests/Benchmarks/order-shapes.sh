#!/usr/bin/env bash
# How to run the order function: processes × threads each (the order manifest's
# `processes.max` and `FLASHSALE_THREADS`), each shape behind its own `flashsale serve` with a
# copy of the project's functions. Per shape: interleaved rounds of noop and durable orders (wrk
# at 64 connections, every request a new buyer with a valid order token, every answer a 201),
# the orders a group, the CPU the order processes spend on an order, and their proportional
# memory (PSS, shared pages split among the processes that map them). Prints a Markdown table.
# Exits 1 when an order is answered otherwise than 201.
#
# Usage: Tests/Benchmarks/order-shapes.sh [BIN_DIR]   (.build/release by default)
# Knobs: SHAPES ("4x1 16x1 4x8 2x16": processes x threads), ROUNDS (3), DURATION (5s).
set -euo pipefail

shapes=${SHAPES:-4x1 16x1 4x8 2x16}
if [ -z "${SHAPE:-}" ]; then
  echo "| processes × threads | durable orders/s | ÷ noop (same rounds) | order p99 ms | orders a group | CPU µs an order (noop: a request) | PSS of the order processes |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for shape in $shapes; do SHAPE=$shape "$0" "$@"; done
  exit 0
fi

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5s}
source "$(dirname "$0")/common.sh"
trap stop_serve EXIT
processes=${SHAPE%x*} per_process=${SHAPE#*x}
copy="$work/project"
mkdir -p "$copy"
cp -r "$project/functions" "$project/lighttpd" "$copy/"
python3 - "$copy/functions/order/function.json" "$processes" "$per_process" <<'PY'
import json, sys
path, processes, threads = sys.argv[1], int(sys.argv[2]), sys.argv[3]
manifest = json.load(open(path))
manifest["processes"]["max"] = processes
manifest["environment"]["FLASHSALE_THREADS"] = threads
# Enough room in line that 64 connections are never refused while one process is replaced:
# the others' threads hold (processes - 1) x threads, their queues the rest.
if processes > 1:
    held = (processes - 1) * int(threads)
    room = -(-(64 - held) // (processes - 1))
    manifest["environment"]["FLASHSALE_ORDER_QUEUE_LIMIT"] = str(max(int(manifest["environment"]["FLASHSALE_ORDER_QUEUE_LIMIT"]), room))
json.dump(manifest, open(path, "w"), indent=2)
PY
start_serve "$copy"
fs() { "$bin/flashsale" "$@" --data "$data"; }
fs sale create open --root "$copy" --title "Open mug" --price 1299 --stock 10000000 --starts-in 0 >/dev/null
secret=$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
  "SELECT secret FROM sales WHERE id = ?", (sys.argv[2],)).fetchone()[0])' "$data/flashsale.db" open)
python3 - "$data" "$work" "$rounds" "$threads" <<'PY'
import os, sys, time
import jwt  # PyJWT
data, work, rounds, threads = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def key(name): return open(os.path.join(data, name), "rb").read().rstrip(b"\n")
identity_key, order_key = key("identity.key"), key("secret.key")
exp = int(time.time()) + 86400
for r in range(1, rounds + 1):
    folder = os.path.join(work, "orders-%d" % r)
    os.makedirs(folder)
    outs = [open(os.path.join(folder, str(i)), "w") for i in range(threads)]
    for n in range(60000):  # more than a round of a few seconds asks for
        user = "shape-%d-%06d" % (r, n)
        identity = jwt.encode({"sub": user, "exp": exp}, identity_key, algorithm="HS256")
        token = jwt.encode({"sub": user, "sale": "open", "exp": exp}, order_key, algorithm="HS256")
        outs[n % threads].write('%s\t127.0.0.1\t{"sale":"open","token":"%s"}\n' % (identity, token))
    for out in outs:
        out.close()
PY

# CPU ticks (user + system, every thread) of the function's processes.
ticks() { local t=0 pid; for pid in $(pgrep -f "^$bin/flashsale-$1"); do t=$((t + $(awk '{print $14 + $15}' "/proc/$pid/stat"))); done; echo "$t"; }
hz=$(getconf CLK_TCK) seconds=${duration%s}
counters() { fs sale show open --json | python3 -c 'import json, sys
c = json.load(sys.stdin)["counters"]; print(c["orders"], c["groupCommits"])'; }
read -r orders_before groups_before < <(counters)
rows=()
for round in $(seq 1 "$rounds"); do
  a=$(ticks noop)
  noop=$(wrk -t"$threads" -c"$connections" -d"$duration" "$base/api/noop" | awk '/Requests\/sec/ {print $2}')
  b=$(ticks noop) c=$(ticks order)
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" -s "$(dirname "$0")/lines.lua" "$base/api/order/$secret" \
    "$work/orders-$round")
  d=$(ticks order)
  grep -qE '^RESULT [0-9]+ 0 ' <<<"$out" || { echo "orders answered otherwise than 201 ($SHAPE):" >&2; echo "$out" >&2; exit 1; }
  rows+=("$(awk -v n="$noop" -v cn=$((b - a)) -v co=$((d - c)) -v hz="$hz" -v s="$seconds" '
    /Requests\/sec/ {o = $2} /^RESULT/ {p99 = $6}
    END {printf "%s %s %.3f %s %.0f %.0f\n", o, n, o / n, p99, co * 1e6 / hz / (o * s), cn * 1e6 / hz / (n * s)}' <<<"$out")")
done
read -r orders_after groups_after < <(counters)
pss=$(for pid in $(pgrep -f "^$bin/flashsale-order"); do awk '/^Pss:/ {print $2}' "/proc/$pid/smaps_rollup"; done \
  | awk '{s += $1; n++} END {printf "%.0f MB (%d processes)", s / 1024, n}')
column() { printf '%s\n' "${rows[@]}" | awk -v c="$1" '{print $c}' | median; }
awk -v shape="$processes × $per_process" -v o="$(column 1)" -v n="$(column 2)" -v r="$(column 3)" -v p="$(column 4)" \
  -v co="$(column 5)" -v cn="$(column 6)" -v orders=$((orders_after - orders_before)) \
  -v groups=$((groups_after - groups_before)) -v pss="$pss" 'BEGIN {
    printf "| %s | %.0f | %.2f× (noop %.0f) | %.2f | %.1f | %.0f (%.0f) | %s |\n",
      shape, o, r, n, p, (groups ? orders / groups : 0), co, cn, pss }'
