# Sourced by the benchmark scripts: the knobs they share, one `flashsale serve` on a free
# loopback port with a fresh data directory, and medians. $1 is the bin directory.

bin=$(cd "${1:-.build/release}" && pwd -P)
rounds=${ROUNDS:-5}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-64}
threads=${THREADS:-2}
project=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
work=$(mktemp -d /tmp/fsbench-XXXXXX)
data="$work/var"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
serve=""

# Serves the project folder $1 (functions/ and lighttpd/) on $port; waits, bounded, until it answers.
# With STORE (a postgres:// URL) and GATE (a redis:// URL) set, the data directory keeps its
# truth and its gate's tables there (flashsale init --store --gate).
# wrk's hundreds of connections stand for a crowd but come from one loopback address, which
# serve's per-address cap (128) would cut: the cap is off here, the guard's read deadline on.
start_serve() {
  "$bin/flashsale" init --data "$data" ${STORE:+--store "$STORE"} ${GATE:+--gate "$GATE"} >/dev/null
  "$bin/flashsale" serve --data "$data" --port "$port" --root "$1" --bin "$bin" --connections-per-address 0 \
    2>"$work/serve.log" &
  serve=$!
  for _ in $(seq 1 300); do
    curl -fs -o /dev/null "$base/api/noop" && return 0
    sleep 0.1
  done
  echo "flashsale serve did not start:"
  cat "$work/serve.log"
  exit 1
}

# Stops serve (lighttpd and every function) and removes the work directory.
stop_serve() {
  [ -n "$serve" ] && kill -TERM "$serve" 2>/dev/null
  [ -n "$serve" ] && wait "$serve" 2>/dev/null
  rm -rf "$work"
}

# Replaces what lies between the "<!-- $3: start -->" and "<!-- $3: end -->" markers of file
# $1 with the Markdown in file $2; fails when the file has no such markers.
write_section() {
  python3 - "$1" "$2" "$3" <<'PY'
import sys
path, section, name = sys.argv[1], open(sys.argv[2]).read().strip(), sys.argv[3]
start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
text = open(path).read()
if start not in text or end not in text:
    sys.exit(f"{path} has no {start} … {end} block to replace")
head, rest = text.split(start, 1)
open(path, "w").write(head + start + "\n" + section + "\n" + end + rest.split(end, 1)[1])
PY
}

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
# The median of the space-separated numbers in $1.
med() { tr ' ' '\n' <<<"$1" | grep . | median; }

# One wrk run against URL $1: "requests/s p99-ms requests"; fails on any error answer.
measure() {
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency "$1")
  if grep -qE "Non-2xx|Socket errors" <<<"$out"; then
    echo "wrk saw errors on $1:" >&2; echo "$out" >&2; exit 1
  fi
  awk '/Requests\/sec/ {rps = $2}
       $1 == "99%" {v = $2; if (v ~ /us$/) p = v / 1000; else if (v ~ /ms$/) p = v + 0; else p = v * 1000}
       / requests in / {n = $1}
       END {printf "%s %.2f %s\n", rps, p, n}' <<<"$out"
}
