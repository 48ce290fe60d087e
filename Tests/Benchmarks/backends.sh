#!/usr/bin/env bash
# The buying paths and a full sale on each backend, side by side (make bench-topics): the
# embedded one (SQLite and the segment), PostgreSQL as the store with the segment's tables,
# and PostgreSQL with the gate's tables in Redis. Each is Tests/Benchmarks/bench.sh behind one
# `flashsale serve`, against a PostgreSQL and a Redis this script starts on free loopback ports
# (PostgreSQL as the postgres user when root; fsync and synchronous_commit on) and removes.
# Prints a Markdown section; with WRITE=BENCHMARKS.md it replaces the part of that file
# between its two "backends" markers.
#
# Usage: Tests/Benchmarks/backends.sh [BIN_DIR]
# Knobs: ROUNDS (2), DURATION (4s), SALE ("10000:100000"); the others as bench.sh.
set -euo pipefail

bin=$(cd "${1:-.build/release}" && pwd -P)
here=$(cd "$(dirname "$0")" && pwd)
export ROUNDS=${ROUNDS:-2} DURATION=${DURATION:-4s} SALE=${SALE:-10000:100000} SCALES=""
work=$(mktemp -d /tmp/fsbackends-XXXXXX)
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
pg_port=$(free_port) redis_port=$(free_port)
pg_bin=$(pg_config --bindir)
as_postgres=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$work"
  as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups)
fi
pg=""
redis=""
cleanup() {
  [ -n "$pg" ] && kill -INT "$pg" 2>/dev/null && wait "$pg" 2>/dev/null
  [ -n "$redis" ] && kill -TERM "$redis" 2>/dev/null && wait "$redis" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

"${as_postgres[@]}" "$pg_bin/initdb" -D "$work/pg" -U flashsale --auth=trust -E UTF8 --locale=C --no-sync >/dev/null
"${as_postgres[@]}" "$pg_bin/postgres" -D "$work/pg" -k "$work" -p "$pg_port" -c listen_addresses=127.0.0.1 \
  -c max_connections=400 >"$work/postgres.log" 2>&1 &
pg=$!
redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
redis=$!
for _ in $(seq 1 300); do
  "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
"$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { cat "$work/postgres.log"; exit 1; }

# One bench.sh run per backend, each on a fresh database: "name STORE GATE".
run() {
  local name=$1 store=$2 gate=$3
  if [ -n "$store" ]; then psql -X -q -h 127.0.0.1 -p "$pg_port" -U flashsale -d postgres -c "CREATE DATABASE ${store##*/}"; fi
  echo "backend $name" >&2
  STORE=$store GATE=$gate "$here/bench.sh" "$bin" >"$work/$name.md"
}
pg_url() { echo "postgres://flashsale@127.0.0.1:$pg_port/$1"; }
run embedded "" ""
run postgres "$(pg_url store)" ""
run distributed "$(pg_url distributed)" "redis://127.0.0.1:$redis_port"

python3 - "$work" <<'PY' >"$work/section.md"
import os, re, sys
work = sys.argv[1]
names = [("embedded", "SQLite + segment"), ("postgres", "PostgreSQL + segment"),
         ("distributed", "PostgreSQL + Redis tables + segment")]
def rows(name):
    text = open(os.path.join(work, name + ".md")).read()
    table = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 5 and ":" in cells[0]:
            table[cells[0].split(":")[0]] = cells
    durable = re.search(r"Durable orders: .*?: ([\d.]+) orders a group, (\d+) syncs/s", text)
    sale = next(l for l in text.splitlines() if l.startswith("| " + os.environ["SALE"] + " |"))
    return table, durable.groups(), sale
paths = ["noop", "precheck, open", "token (a new buyer each)", "order (a new buyer each, durable)"]
print("| path | " + " | ".join(label for _, label in names) + " |")
print("|---|" + "---:|" * len(names))
data = {name: rows(name) for name, _ in names}
base = data["embedded"][0]
for path in paths:
    cells = []
    for name, _ in names:
        row = data[name][0][path]
        ratio = float(row[1]) / float(base[path][1])
        cells.append(f"{row[1]}/s, p99 {row[3]} ms ({row[4].split()[0]} noop; {ratio:.2f}× embedded)")
    print(f"| {path} | " + " | ".join(cells) + " |")
print("| orders a group, syncs/s | " + " | ".join(f"{data[n][1][0]}, {data[n][1][1]}" for n, _ in names) + " |")
print("| full sale " + os.environ["SALE"].replace(":", " units : ") + " buyers: last order | "
      + " | ".join(data[n][2].split("|")[3].strip() for n, _ in names) + " |")
PY
{
  echo "### Backends side by side — $(date -u +%Y-%m-%d)"
  echo
  echo "Command: \`Tests/Benchmarks/backends.sh .build/release\` (bench.sh per backend, ROUNDS=$ROUNDS" \
    "DURATION=$DURATION SALE=$SALE; PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') and" \
    "Redis $(redis-server --version | sed 's/.*v=\([^ ]*\).*/\1/') on the same 2 cores, loopback)."
  echo
  cat "$work/section.md"
} >"$work/out.md"
cat "$work/out.md"
if [ -n "${WRITE:-}" ]; then
  python3 - "$WRITE" "$work/out.md" <<'PY'
import sys
path, section = sys.argv[1], open(sys.argv[2]).read().strip()
start, end = "<!-- backends: start -->", "<!-- backends: end -->"
text = open(path).read()
if start not in text or end not in text:
    sys.exit(f"{path} has no {start} … {end} block to replace")
head, rest = text.split(start, 1)
open(path, "w").write(head + start + "\n" + section + "\n" + end + rest.split(end, 1)[1])
PY
fi
