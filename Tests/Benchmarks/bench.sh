#!/usr/bin/env bash
# `make bench` in one run, behind one `flashsale serve`: every path against its ceiling (a
# static file or the no-op function) in interleaved rounds, a full sale rehearsed with
# `flashsale loadtest` (token, precheck and order per buyer, the database checked), the same
# sale at three scales, and the resident memory of every process (after the rounds, after the
# full sale and at the end). Prints a Markdown section;
# with WRITE=BENCHMARKS.md it replaces the part of that file between its two "make bench"
# markers. Exits 1 when a check fails (a path that answers otherwise than expected, orders
# that do not match the database).
#
# Usage: Tests/Benchmarks/bench.sh [BIN_DIR]   (make bench and make bench-quick pass .build/release)
# Knobs: ROUNDS (3), DURATION (5s), CONNECTIONS (64), THREADS (2), SALE ("10000:100000": stock
#        and buyers of the full sale), SCALES ("100:10000 10000:100000 1000000:1000000"),
#        STORE and GATE (a postgres:// and a redis:// URL: the backend, as Tests/Benchmarks/backends.sh sets them).
set -euo pipefail

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5s}
source "$(dirname "$0")/common.sh"
sale_size=${SALE:-10000:100000}
scales=${SCALES-100:10000 10000:100000 1000000:1000000}
here=$(cd "$(dirname "$0")" && pwd)
trap stop_serve EXIT
start_serve "$project"
fs() { "$bin/flashsale" "$@" --data "$data"; }
note() { echo "$*" >&2; }

# --- The sales and what the paths need --------------------------------------------------------
fs sale create open --root "$project" --title "Open mug" --price 1299 --stock 10000000 --starts-in 0 >/dev/null
fs sale create gone --root "$project" --title "Gone mug" --price 1299 --stock 1 --starts-in 0 >/dev/null
fs loadtest --url "$base" --sale gone --buyers 4 --concurrency 1 --duration 30 >"$work/gone.txt" 2>&1 \
  || { echo "selling out the sale gone failed:" >&2; cat "$work/gone.txt" >&2; exit 1; }
sale_secret() {
  if [ -n "${STORE:-}" ]; then
    psql "$STORE" -X -A -t -c "SELECT secret FROM sales WHERE id = '$1'"
  else
    python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(
      "SELECT secret FROM sales WHERE id = ?", (sys.argv[2],)).fetchone()[0])' "$data/flashsale.db" "$1"
  fi
}
secret=$(sale_secret gone) open_secret=$(sale_secret open)
# Token requests of distinct buyers, a set of its own for each round, none asking twice: a
# buyer admitted in one admission window and asking in the next is resting (503), and one asking
# again in the same window gets the cheaper path of a fresh token without counting. Order
# requests likewise: distinct buyers, each with an order token for the sale open (as /api/token
# signs them), each sending once, so that every answer is a durable order (201).
python3 - "$data" "$work" "$threads" "$rounds" <<'PY'
import os, sys, time
import jwt  # PyJWT
data, work, threads, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def key(name): return open(os.path.join(data, name), "rb").read().rstrip(b"\n")
identity_key, order_key = key("identity.key"), key("secret.key")
exp = int(time.time()) + 86400
per_round = {"buyers": 100000, "orders": 60000}  # more than a round of a few seconds asks for
for r in range(1, rounds + 1):
    for kind, count in per_round.items():
        folder = os.path.join(work, "%s-%d" % (kind, r))
        os.makedirs(folder)
        outs = [open(os.path.join(folder, str(i)), "w") for i in range(threads)]
        for n in range(count):
            user = "bench-%s-%d-%06d" % (kind, r, n)
            identity = jwt.encode({"sub": user, "exp": exp}, identity_key, algorithm="HS256")
            body = '{"sale":"open"}'
            if kind == "orders":
                token = jwt.encode({"sub": user, "sale": "open", "exp": exp}, order_key, algorithm="HS256")
                body = '{"sale":"open","token":"%s"}' % token
            outs[n % threads].write("%s\t127.0.0.1\t%s\n" % (identity, body))
        for out in outs:
            out.close()
PY

# The page's hashed script and stylesheet, as the page names them, and the same bytes as plain
# files beside the site: the ceiling for a file of each size.
page_html=$(curl -fsS "$base/s/open/")
script=$(grep -oE 'src="/assets/[^"]+\.js"' <<<"$page_html" | head -1 | sed -E 's/^src="//; s/"$//')
style=$(grep -oE 'href="/assets/[^"]+\.css"' <<<"$page_html" | head -1 | sed -E 's/^href="//; s/"$//')
curl -fsS -o "$data/site/plain-page.html" "$base/s/open/"
curl -fsS -o "$data/site/plain-script.js" "$base$script"
curl -fsS -o "$data/site/plain-style.css" "$base$style"

# name|kind|method|path|expected: kind is static (÷ the small static file), function (÷ noop)
# or same:N (÷ entry N, the same bytes as a plain file).
paths=(
  "static file|static|GET|/robots.txt|200"
  "sale page|same:2|GET|/s/open/|200"
  "the page's bytes as a plain file|static|GET|/plain-page.html|200"
  "page script|same:4|GET|$script|200"
  "the script's bytes as a plain file|static|GET|/plain-script.js|200"
  "page stylesheet|same:6|GET|$style|200"
  "the stylesheet's bytes as a plain file|static|GET|/plain-style.css|200"
  "noop|function|GET|/api/noop|200"
  "time|function|GET|/api/time|200"
  "sale.js|function|GET|/sale/open/sale.js?v=1|200"
  "precheck, open|function|GET|/api/precheck?sale=open|200"
  "precheck, sold out|function|GET|/api/precheck?sale=gone|200"
  "token (a new buyer each)|function|TOKEN|/api/token|200"
  "order, sold out|function|POST|/api/order/$secret|409"
  "order (a new buyer each, durable)|function|ORDER|/api/order/$open_secret|201"
)
# One wrk run of entry $1: "requests/s p50-ms p99-ms".
measure_path() {
  local name kind method path expected out
  IFS='|' read -r name kind method path expected <<<"$1"
  local script=()
  case $method in
    POST) script=(-s "$here/post.lua" "$base$path" '{"sale":"gone","token":"none"}') ;;
    TOKEN) script=(-s "$here/lines.lua" "$base$path" "$work/buyers-$round") ;;
    ORDER) script=(-s "$here/lines.lua" "$base$path" "$work/orders-$round") ;;
    *) script=("$base$path") ;;
  esac
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "${script[@]}" 2>&1) \
    || { echo "wrk failed on $name ($path):" >&2; echo "$out" >&2; exit 1; }
  if grep -qE "Socket errors" <<<"$out" || { [[ "$expected" = 2* ]] && grep -qE "Non-2xx" <<<"$out"; } \
    || grep -qE '^RESULT [0-9]+ [1-9]' <<<"$out"; then
    echo "$name ($path) answered otherwise than $expected:" >&2; echo "$out" >&2; exit 1
  fi
  awk '/Requests\/sec/ {r = $2}
       function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
       $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
       END {printf "%s %.2f %.2f\n", r, p50, p99}' <<<"$out"
}
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d '{"sale":"gone","token":"none"}' "$base/api/order/$secret")" = 409 ]

# The sale open's orders and group commits: their growth over the order rounds gives the mean
# group and the syncs per second.
commits() {
  fs sale show open --json | python3 -c 'import json, sys
c = json.load(sys.stdin)["counters"]; print(c["orders"], c["groupCommits"])'
}
read -r orders_before groups_before < <(commits)
declare -A rps p50 p99
for round in $(seq 1 "$rounds"); do
  for entry in "${paths[@]}"; do
    # A failed measure prints why and exits its subshell; then nothing is read here.
    read -r r a b < <(measure_path "$entry") || { echo "no figures for ${entry%%|*}" >&2; exit 1; }
    rps[$entry]+="$r " p50[$entry]+="$a " p99[$entry]+="$b "
    note "round $round ${entry%%|*}: $r requests/s"
  done
done

# Resident memory (kB) of lighttpd and each function's processes: "name pid kB" lines.
rss() {
  for pid in $(pgrep -f "lighttpd -D -f $data/" ; pgrep -f "^$bin/flashsale-"); do
    tr '\0' '\n' <"/proc/$pid/environ" 2>/dev/null | grep -qx "FLASHSALE_DATA=$data" \
      || [ "$(basename "$(readlink "/proc/$pid/exe")")" = lighttpd ] || continue
    echo "$(basename "$(readlink "/proc/$pid/exe")") $pid $(awk '/VmRSS/ {print $2}' "/proc/$pid/status")"
  done | sort
}
rss >"$work/rss.before"
read -r orders_after groups_after < <(commits)
requests_before=$(for entry in "${paths[@]}"; do for r in ${rps[$entry]}; do echo "$r"; done; done \
  | awk -v s="${duration%s}" '{n += $1 * s} END {printf "%.0f", n}')

# --- The full sale and the scales, rehearsed with flashsale loadtest --------------------------
rehearse() { # stock buyers name → the JSON summary in $work/<name>.json
  fs loadtest --url "$base" --create --sale "$3" --stock "$1" --buyers "$2" --concurrency "$connections" \
    --duration 900 --json "$work/$3.json" >"$work/$3.txt" 2>"$work/$3.err" \
    || { cat "$work/$3.txt" "$work/$3.err" >&2; exit 1; }
  grep '^database:' "$work/$3.txt" >&2
}
note "full sale ${sale_size/:/ units, } buyers"
rehearse "${sale_size%%:*}" "${sale_size##*:}" full
rss >"$work/rss.middle"
for scale in $scales; do
  note "scale ${scale/:/ units, } buyers"
  rehearse "${scale%%:*}" "${scale##*:}" "scale-${scale%%:*}"
done
rss >"$work/rss.after"

# --- The Markdown ------------------------------------------------------------------------------
static=$(med "${rps[${paths[0]}]}")
noop=$(med "${rps[${paths[7]}]}")
{
  echo "### make bench — $(date -u +%Y-%m-%d)"
  echo
  echo "Machine: $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(free -g | awk '/Mem:/ {print $2}') GB," \
    "Linux $(uname -r); $(lighttpd -v | cut -d' ' -f1), $(swift --version 2>&1 | head -1 | sed 's/ (.*//'), SQLite" \
    "$(python3 -c 'import sqlite3; print(sqlite3.sqlite_version)'), $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); wrk on the same machine."
  echo
  echo "Command: \`make bench\` → \`Tests/Benchmarks/bench.sh .build/release\` (ROUNDS=$rounds DURATION=$duration" \
    "CONNECTIONS=$connections THREADS=$threads SALE=$sale_size SCALES=\"$scales\")."
  echo
  echo "#### Every path against its ceiling (medians of $rounds interleaved rounds)"
  echo
  echo "| path | requests/s | p50 ms | p99 ms | ÷ ceiling |"
  echo "|---|---:|---:|---:|---|"
  for entry in "${paths[@]}"; do
    IFS='|' read -r name kind method path expected <<<"$entry"
    ceiling=$noop label="noop"
    [ "$kind" = static ] && ceiling=$static label="static file"
    [ "${kind%%:*}" = same ] && ceiling=$(med "${rps[${paths[${kind#same:}]}]}") label="its plain copy"
    awk -v n="$name" -v m="$method" -v p="$path" -v r="$(med "${rps[$entry]}")" -v a="$(med "${p50[$entry]}")" \
      -v b="$(med "${p99[$entry]}")" -v c="$ceiling" -v l="$label" -v s="$secret" -v o="$open_secret" 'BEGIN {
        sub(s, "<secret>", p); sub(o, "<secret>", p); if (m == "TOKEN" || m == "ORDER") m = "POST"
        printf "| %s: `%s %s` | %.0f | %.2f | %.2f | %.2f× %s |\n", n, m, p, r, a, b, r / c, l }'
  done
  echo
  awk -v o="$((orders_after - orders_before))" -v g="$((groups_after - groups_before))" \
    -v s="$((rounds * ${duration%s}))" 'BEGIN {
      printf "Durable orders: %d in %d s of order rounds, committed in %d groups: %.1f orders a group, %.0f syncs/s.\n",
        o, s, g, (g ? o / g : 0), g / s }'
  echo
  python3 - "$work" "$sale_size" "$scales" <<'PY'
import json, os, sys
work, sale, scales = sys.argv[1], sys.argv[2], sys.argv[3].split()
def load(name): return json.load(open(os.path.join(work, name + ".json")))
def row(label, s):
    steps = s["steps"]
    def step(name, key, fmt="%.2f"): return fmt % steps[name][key] if name in steps else "–"
    refusals = {}
    for name in ("token", "precheck", "order"):
        for code, n in steps.get(name, {}).get("outcomes", {}).items():
            if code != "ok": refusals[f"{name} {code}"] = n
    last = "%.2f s" % s["lastOrderSeconds"] if s.get("lastOrderSeconds") is not None else "–"
    rate = "%.0f" % s["ordersPerSecond"] if s.get("ordersPerSecond") else "–"
    return (f"| {label} | {s['orders']} | {last} | {rate} | {s['answersPerSecond']:.0f} | "
            f"{step('token', 'p50Ms')} / {step('token', 'p99Ms')} | {step('precheck', 'p50Ms')} / {step('precheck', 'p99Ms')} | "
            f"{step('order', 'p50Ms')} / {step('order', 'p99Ms')} | "
            + ", ".join(f"{k} {v}" for k, v in sorted(refusals.items(), key=lambda kv: -kv[1])) + " |")
header = ("| sale (units : buyers) | orders | last order | orders/s | answers/s | token p50 / p99 ms | "
          "precheck p50 / p99 ms | order p50 / p99 ms | refusals |\n|---|---:|---:|---:|---:|---|---|---|---|")
print(f"#### A full sale: {sale.replace(':', ' units to ')} buyers, each token → precheck → order")
print()
print("`flashsale loadtest --create --stock N --buyers M --concurrency", os.environ.get("CONNECTIONS", "64") + "`;",
      "every buyer has an account of their own. The database held exactly the acknowledged orders, one per buyer",
      "(the command checks it and fails otherwise).")
print()
print(header)
print(row(sale, load("full")))
print()
print("#### Scaling: the same sale at three sizes")
print()
print(header)
for scale in scales:
    print(row(scale, load("scale-" + scale.split(":")[0])))
PY
  echo
  echo "#### Resident memory (kB): after the path rounds (about $requests_before requests), after the full sale, at the end"
  echo
  echo "| process | pid | after the rounds | after the full sale | at the end |"
  echo "|---|---:|---:|---:|---:|"
  python3 - "$work" <<'PY'
import os, sys
def load(name):
    rows = {}
    for line in open(os.path.join(sys.argv[1], name)):
        process, pid, kb = line.split()
        rows[pid] = (process, kb)
    return rows
before, middle, after = load("rss.before"), load("rss.middle"), load("rss.after")
for pid, (process, kb) in sorted(before.items(), key=lambda item: (item[1][0], int(item[0]))):
    print(f"| {process} | {pid} | {kb} | {middle.get(pid, ('', '–'))[1]} | {after.get(pid, ('', '–'))[1]} |")
PY
} >"$work/section.md"
cat "$work/section.md"

if [ -n "${WRITE:-}" ]; then
  write_section "$WRITE" "$work/section.md" "make bench"
  note "wrote the section into $WRITE"
fi
