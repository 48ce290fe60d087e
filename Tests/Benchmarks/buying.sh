#!/usr/bin/env bash
# Buying under load, behind one `flashsale serve`, in three parts:
#   1. wrk against a static file, the no-op function, precheck of a sold-out sale and an order
#      for that sale (409 sold_out), interleaved in rounds like host.sh: medians and ratios.
#   2. Successful orders per second with the order function's synchronous setting (FULL by
#      default): a sale with a large stock, every request a distinct buyer, for DURATION; the
#      201s are checked against the orders in the database.
#   3. A full sale: STOCK units against BUYERS distinct buyers, each sending one order request:
#      time to sell out, latency, answers by status and code, and the database checked.
# Identity JWTs and order tokens are minted in one python3 process with PyJWT and the data
# directory's keys (identity.key as the main site would, secret.key as /api/token does). Parts 2 and 3 run wrk with one connection per thread so that a thread's Lua
# script times each of its requests exactly. Prints a Markdown section for BENCHMARKS.md on
# stdout and progress on stderr; exits 1, after printing, when a check fails.
#
# Usage: Tests/Benchmarks/buying.sh [BIN_DIR]   (BIN_DIR defaults to .build/release)
# Knobs: ROUNDS (5), DURATION (10s), CONNECTIONS (64), THREADS (2, part 1 only),
#        STOCK (10000) and BUYERS (100000) for part 3, PARTS ("1 2 3": which to run),
#        ORDER_ENV ("NAME=value …": added to the order manifest's environment, in a copy).
# Needs: wrk (with LuaJIT), curl, python3 with PyJWT (make bench-deps installs both).
set -euo pipefail

source "$(dirname "$0")/common.sh"
stock=${STOCK:-10000}
buyers=${BUYERS:-100000}
parts=" ${PARTS:-1 2 3} "
wrk_pid=""

case $duration in
  *ms) echo "DURATION must be whole seconds, minutes or hours (10s, 1m)" >&2; exit 1 ;;
  *s) seconds=${duration%s} ;;
  *m) seconds=$((${duration%m} * 60)) ;;
  *h) seconds=$((${duration%h} * 3600)) ;;
  *) seconds=$duration ;;
esac

# The project folder to serve: the project itself, or a copy whose order manifest has ORDER_ENV.
root=$project
if [ -n "${ORDER_ENV:-}" ]; then
  root="$work/root"
  mkdir -p "$root/lighttpd"
  ln -s "$project/lighttpd/lighttpd.conf" "$root/lighttpd/lighttpd.conf"
  cp -r "$project/lighttpd/static" "$root/lighttpd/static"
  cp -r "$project/functions" "$root/functions"
  python3 -c 'import json, sys
path = sys.argv[1]
manifest = json.load(open(path))
manifest.setdefault("environment", {}).update(pair.split("=", 1) for pair in sys.argv[2:])
json.dump(manifest, open(path, "w"), indent=2)' "$root/functions/order/function.json" $ORDER_ENV
fi

cleanup() {
  [ -n "$wrk_pid" ] && kill -TERM "$wrk_pid" 2>/dev/null
  stop_serve
}
trap cleanup EXIT
start_serve "$root"

fs() { "$bin/flashsale" "$@" --data "$data"; }
# Runs SQL $1 with parameters $2… on the database; prints the rows tab-separated.
sql() {
  python3 -c 'import sqlite3, sys
for row in sqlite3.connect(sys.argv[1]).execute(sys.argv[2], sys.argv[3:]):
    print(*row, sep="\t")' "$data/flashsale.db" "$@"
}

# --- Helpers written to the work directory -----------------------------------------------

here=$(cd "$(dirname "$0")" && pwd)
# mint.py: the buyers' identity JWTs and order tokens; buyers.lua: wrk sending them (parts 2, 3).
mint() { FLASHSALE_DATA="$data" python3 "$here/mint.py" "$@"; }

# Sends the buyers of LIST ($1, one file per thread) to the order URL of sale $2 for at most $3
# seconds (0: until every line is sent), one connection per wrk thread; answers go to $4/<id>.
buy() {
  local list=$1 sale=$2 limit=$3 out=$4 files secret
  files=$(find "$list" -type f | wc -l)
  secret=$(sql "SELECT secret FROM sales WHERE id = ?" "$sale")
  mkdir -p "$out"
  wrk -t"$files" -c"$files" -d"$((limit + 900))s" --timeout 60s -s "$here/buyers.lua" \
    "$base/api/order/$secret" "$list" "$sale" "$limit" "$out" >"$out.wrk" 2>&1 &
  wrk_pid=$!
  while [ "$(find "$out" -name '[0-9]*' | wc -l)" -lt "$files" ] && kill -0 "$wrk_pid" 2>/dev/null; do
    sleep 0.1
  done
  kill -INT "$wrk_pid" 2>/dev/null || true # every thread is done: end wrk's sleep
  wait "$wrk_pid" || true
  wrk_pid=""
  if [ "$(find "$out" -name '[0-9]*' | wc -l)" -lt "$files" ]; then
    echo "wrk ended before every thread had sent its buyers:" >&2; cat "$out.wrk" >&2; exit 1
  fi
  if grep -q "Socket errors" "$out.wrk"; then grep "Socket errors" "$out.wrk" >&2; fi
}

# report.py: the Markdown of part 2 (`rate`) or 3 (`sale`) from the answers in OUT and the
# database; exits 1 when a check fails.
cat >"$work/report.py" <<'EOF'
import glob, json, os, sqlite3, sys

mode, out, db, sale, stock = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
answers, sent, resends, ran_out = [], 0, 0, 0
for path in glob.glob(os.path.join(out, "[0-9]*")):
    for line in open(path):
        if line.startswith("#"):
            fields = line.split()
            sent, resends = sent + int(fields[2]), resends + int(fields[4])
            ran_out += int(fields[2]) == int(fields[6])
        else:
            status, code, user, at, latency = line.split()
            answers.append((int(status), code, user, int(at), int(latency)))

failed = False


def check(ok, text):
    global failed
    failed |= not ok
    print(f"- {'✓' if ok else '✗ FAILED:'} {text}")


def pct(values, p):
    values = sorted(values)
    return values[max(0, -(-len(values) * p // 100) - 1)] / 1000 if values else float("nan")


def label(status, code):
    return f"{status}" + (f" `{code}`" if code != "-" else "")


conn = sqlite3.connect(db)
count, users, first_ms, last_ms = conn.execute(
    "SELECT count(*), count(DISTINCT user), min(created_at), max(created_at) FROM orders WHERE sale = ?", (sale,)
).fetchone()
remaining, db_stock = conn.execute("SELECT remaining, stock FROM sales WHERE id = ?", (sale,)).fetchone()
db_users = {row[0] for row in conn.execute("SELECT user FROM orders WHERE sale = ?", (sale,))}
created = sorted(row[0] for row in conn.execute("SELECT created_at FROM orders WHERE sale = ?", (sale,)))

first_sent = min(a[3] for a in answers)
last_answer = max(a[3] + a[4] for a in answers)
ok_users = [a[2] for a in answers if a[0] == 201]
groups = {}
for a in answers:
    groups.setdefault(label(a[0], a[1]), []).append(a[4])


def answer_table():
    print("| answer | count | p50 latency (ms) | p99 latency (ms) |")
    print("|---|---:|---:|---:|")
    for name, latencies in sorted(groups.items(), key=lambda g: -len(g[1])):
        print(f"| {name} | {len(latencies)} | {pct(latencies, 50):.2f} | {pct(latencies, 99):.2f} |")
    every = [a[4] for a in answers]
    print(f"| all | {len(every)} | {pct(every, 50):.2f} | {pct(every, 99):.2f} |")
    print()


if mode == "rate":
    window = (last_answer - first_sent) / 1e6
    print(f"| 201 answers | window (s) | orders/s (201s ÷ window) | p50 latency (ms) | p99 latency (ms) |")
    print("|---:|---:|---:|---:|---:|")
    l201 = groups.get("201", [])
    print(f"| {len(ok_users)} | {window:.2f} | {len(ok_users) / window:.0f} | {pct(l201, 50):.2f} | {pct(l201, 99):.2f} |")
    print()
    if len(groups) > 1 or "201" not in groups:
        answer_table()
    print(f"The database: {count} orders, `created_at` first → last {((last_ms or 0) - (first_ms or 0)) / 1000:.2f} s.")
    print()
    check(count == len(ok_users), f"the database holds {count} orders for the sale, the buyers got {len(ok_users)} 201s")
    check(set(ok_users) == db_users and users == count, "the users answered 201 are exactly the users with an order")
    check(remaining == db_stock - count, f"the sale's remaining is {remaining} = stock {db_stock} − {count} orders")
    check(len(answers) == sent and resends == 0, f"{sent} requests sent, {len(answers)} answered, {resends} sent again")
    check(set(groups) <= {"201", "503 `busy`"}, "every answer was 201 or the order function's 503 `busy`: " + ", ".join(
        f"{name} × {len(l)}" for name, l in sorted(groups.items())))
    check(ran_out == 0, f"no wrk thread ran out of buyers before the time was up ({ran_out} did)")
else:
    ok_times = sorted(a[3] + a[4] for a in answers if a[0] == 201)
    if len(ok_times) >= stock:
        sold_out = f"{(ok_times[stock - 1] - first_sent) / 1e6:.2f} s"
    else:
        sold_out = f"not sold out ({len(ok_times)} 201s)"
    print(f"- Time to sell out, first request sent → {stock}th 201 received: **{sold_out}**")
    if created:
        print(f"- `orders.created_at`, first → last order: {(created[-1] - created[0]) / 1000:.2f} s "
              f"(the first order at {created[0] - first_sent // 1000} ms after the first request was sent)")
    print(f"- Every buyer answered, first request sent → last answer: {(last_answer - first_sent) / 1e6:.2f} s "
          f"({len(answers) / ((last_answer - first_sent) / 1e6):.0f} answers/s)")
    print()
    answer_table()
    expected = {"201", "409 `sold_out`", "503 `busy`"}
    check(len(answers) == sent == int(sys.argv[6]) and resends == 0,
          f"{sys.argv[6]} buyers, {sent} requests sent, {len(answers)} answered, {resends} sent again")
    check(set(groups) <= expected, "every answer was 201, 409 `sold_out` or 503 `busy`: " + ", ".join(
        f"{name} × {len(l)}" for name, l in sorted(groups.items())))
    check(len(ok_users) == stock, f"{len(ok_users)} buyers got a 201 for a stock of {stock}")
    check(count == stock and users == stock,
          f"the database holds {count} orders by {users} distinct users for the sale")
    check(set(ok_users) == db_users, "the users answered 201 are exactly the users with an order")
    check(remaining == 0, f"the sale's remaining is {remaining}")
sys.exit(1 if failed else 0)
EOF

# --- Part 1: precheck and a sold-out order against noop and a static file ------------------

if [[ $parts == *" 1 "* ]]; then

echo "part 1: sold-out sale, $rounds interleaved rounds of $duration" >&2
fs sale create soldout --title "Sold out" --price 100 --stock 1 --starts-in 0 >/dev/null
soldout_secret=$(sql "SELECT secret FROM sales WHERE id = 'soldout'")
read -r first_identity first_token < <(mint one first-buyer soldout)
curl -fs -o /dev/null -X POST -H "Authorization: Bearer $first_identity" -H "Content-Type: application/json" \
  -d "{\"sale\":\"soldout\",\"token\":\"$first_token\"}" "$base/api/order/$soldout_secret"
read -r identity token < <(mint one late-buyer soldout)
order_body="{\"sale\":\"soldout\",\"token\":\"$token\"}"
printf 'wrk.method = "POST"\nwrk.body = %s\nwrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer %s"\n' \
  "'$order_body'" "$identity" >"$work/soldout.lua"

# The answers, once by hand: precheck says sold_out, the order is 409 sold_out.
precheck_answer=$(curl -s "$base/api/precheck?sale=soldout")
order_answer=$(curl -s -w ' %{http_code}' -X POST -H "Authorization: Bearer $identity" \
  -H "Content-Type: application/json" -d "$order_body" "$base/api/order/$soldout_secret")
echo "precheck: $precheck_answer; order: $order_answer" >&2
[ "$precheck_answer" = '{"ok":false,"reason":"sold_out"}' ] || { echo "precheck answered $precheck_answer" >&2; exit 1; }
[[ $order_answer == *'"code":"sold_out"'*' 409' ]] || { echo "the order answered $order_answer" >&2; exit 1; }

# The sold-out sale's counters: "attempts rejectedSoldOut".
counters() {
  fs sale show soldout --json |
    python3 -c 'import json, sys; c = json.load(sys.stdin)["counters"]; print(c["attempts"], c["rejectedSoldOut"])'
}

names=(static noop precheck order)
declare -A url script title
url[static]=/robots.txt title[static]='`GET /robots.txt`'
url[noop]=/api/noop title[noop]='`GET /api/noop`'
url[precheck]="/api/precheck?sale=soldout" title[precheck]='`GET /api/precheck?sale=…` (sold out)'
url[order]="/api/order/$soldout_secret" title[order]='`POST /api/order/…` (sold out, 409)'
script[order]="$work/soldout.lua"

# One wrk run of $1: "requests/s p99-ms requests". Fails on socket errors, and on any non-2xx
# answer except for the order, where every answer must be non-2xx and every attempt the order
# function counted a sold_out refusal.
measure() {
  local name=$1 out before="0 0" after="0 0"
  [ "$name" = order ] && before=$(counters)
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency ${script[$name]:+-s "${script[$name]}"} "$base${url[$name]}")
  [ "$name" = order ] && after=$(counters)
  if grep -q "Socket errors" <<<"$out"; then echo "wrk saw socket errors on $name:" >&2; echo "$out" >&2; exit 1; fi
  awk -v name="$name" -v before="$before" -v after="$after" '
    /Requests\/sec/ {rps = $2}
    $1 == "99%" {v = $2; if (v ~ /us$/) p = v / 1000; else if (v ~ /ms$/) p = v + 0; else p = v * 1000}
    / requests in / {n = $1}
    /Non-2xx/ {bad = $NF}
    END {
      split(before, b); split(after, a); attempts = a[1] - b[1]; soldout = a[2] - b[2]
      if (name == "order" && (bad != n || attempts != soldout || attempts < n)) {
        printf "order: %d of %d answers non-2xx; %d attempts, %d sold_out refusals\n", bad, n, attempts, soldout > "/dev/stderr"
        exit 1
      }
      if (name != "order" && bad > 0) { printf "%s: %d non-2xx answers\n", name, bad > "/dev/stderr"; exit 1 }
      printf "%s %.2f %s\n", rps, p, n
    }' <<<"$out"
}

for name in "${names[@]}"; do DURATION=2s measure "$name" >/dev/null; done
declare -A rps p99
order_requests=0
for round in $(seq 1 "$rounds"); do
  for name in "${names[@]}"; do
    read -r r p n < <(measure "$name")
    rps[$name]+="$r "
    p99[$name]+="$p "
    [ "$name" = order ] && order_requests=$((order_requests + n))
    echo "round $round $name: $r req/s, p99 $p ms" >&2
  done
done
fi

# --- Parts 2 and 3: buyers minted in one python3 process ----------------------------------

# Without part 1, part 2's buyers are sized for a no-op rate of NOOP_RPS.
if [[ $parts == *" 1 "* ]]; then noop=$(med "${rps[noop]}"); static=$(med "${rps[static]}"); else noop=${NOOP_RPS:-20000}; fi
# Enough distinct buyers for DURATION at 1.25 × noop, which no order can beat.
rate_buyers=$(awk -v r="$noop" -v s="$seconds" -v c="$connections" 'BEGIN {printf "%d", r * s * 1.25 + 10 * c}')
rate_stock=$((rate_buyers > 1000000 ? rate_buyers : 1000000))
synchronous=$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1])).get("environment", {}).get("FLASHSALE_SYNCHRONOUS", "FULL (default)"))' \
  "$root/functions/order/function.json")
failed=0
if [[ $parts == *" 2 "* ]]; then
  fs sale create rate --title "Rate" --price 100 --stock "$rate_stock" --starts-in 0 >/dev/null
  echo "minting $rate_buyers buyers" >&2
  mint many rate rate-buyer "$rate_buyers" "$work/rate-buyers" "$connections"
  echo "part 2: distinct buyers for $duration, synchronous=$synchronous" >&2
  buy "$work/rate-buyers" rate "$seconds" "$work/rate-answers"
  python3 "$work/report.py" rate "$work/rate-answers" "$data/flashsale.db" rate "$rate_stock" >"$work/rate.md" || failed=1
fi

if [[ $parts == *" 3 "* ]]; then
  fs sale create full --title "Full sale" --price 100 --stock "$stock" --starts-in 0 >/dev/null
  echo "minting $buyers buyers" >&2
  mint many full buyer "$buyers" "$work/full-buyers" "$connections"
  echo "part 3: $buyers buyers for $stock units" >&2
  buy "$work/full-buyers" full 0 "$work/full-answers"
  python3 "$work/report.py" sale "$work/full-answers" "$data/flashsale.db" full "$stock" "$buyers" >"$work/full.md" || failed=1
fi

# Log lines other than lighttpd's start.
log_lines=$(cat "$data/log/functions.log" "$data/log/lighttpd-error.log" | grep -v "server started" || true)
[ -n "$log_lines" ] && echo "$log_lines" >&2

# --- The Markdown ------------------------------------------------------------------------

echo "### Buying — $(date -u +%Y-%m-%d), $(nproc) cores, $(lighttpd -v | cut -d' ' -f1), $(swift --version 2>&1 | head -1 | sed 's/ (.*//'), SQLite $(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'), data on $(df --output=fstype "$work" | tail -1)"
echo
echo "\`Tests/Benchmarks/buying.sh\` (PARTS=\"$(xargs <<<"$parts")\" ROUNDS=$rounds DURATION=$duration CONNECTIONS=$connections THREADS=$threads STOCK=$stock BUYERS=$buyers${ORDER_ENV:+ ORDER_ENV=\"$ORDER_ENV\"}; wrk on the same machine)"
echo
echo "Identity JWTs and order tokens minted by the script with the data directory's keys (\`identity.key\`, \`secret.key\`), as the main site and \`/api/token\` would sign them; \`/api/token\` is not called."
echo
if [[ $parts == *" 1 "* ]]; then
echo "#### Refusing: precheck and order of a sold-out sale (medians of $rounds interleaved rounds, $threads wrk threads)"
echo
echo "| request | requests/s | p99 latency (ms) | ÷ noop | ÷ static |"
echo "|---|---:|---:|---:|---:|"
for name in "${names[@]}"; do
  awk -v t="${title[$name]}" -v r="$(med "${rps[$name]}")" -v p="$(med "${p99[$name]}")" -v noop="$noop" -v static="$static" \
    'BEGIN {printf "| %s | %.0f | %.2f | %.2f | %.2f |\n", t, r, p, r / noop, r / static}'
done
echo
echo "The target is precheck and sold-out order ≥ 0.9 × noop. Every precheck was a 2xx (\`{\"ok\":false,\"reason\":\"sold_out\"}\` by hand); every order answer was non-2xx and every one of the order function's attempts a \`sold_out\` refusal by its counters ($order_requests measured orders; by hand: 409 \`sold_out\`), with a valid identity and order token each time."
echo
fi
if [[ $parts == *" 2 "* ]]; then
echo "#### Ordering: distinct buyers for $duration, synchronous=$synchronous"
echo
echo "$rate_buyers buyers minted (one identity and one order token each, each sent once), a sale with stock $rate_stock, $connections connections (one per wrk thread); after $duration no new request, the ones in flight are awaited. Latencies are those of the 201s."
echo
cat "$work/rate.md"
echo
fi
if [[ $parts == *" 3 "* ]]; then
echo "#### A full sale: $stock units, $buyers buyers"
echo
echo "$buyers distinct buyers, each sending one \`POST /api/order/<secret>\` through lighttpd, $connections connections (one per wrk thread), the sale open before the first request."
echo
cat "$work/full.md"
echo
fi
if [ -n "$log_lines" ]; then
  echo "Log lines (functions.log, lighttpd-error.log): $(wc -l <<<"$log_lines"), the first:"
  echo
  echo '```'
  head -5 <<<"$log_lines"
  echo '```'
else
  echo "No lines in functions.log, nothing in lighttpd-error.log beyond its start."
fi
exit "$failed"
