#!/usr/bin/env bash
# What each host costs, in one run: a small static file, the sale page, `noop` and precheck
# behind lighttpd (`flashsale serve`), Apache with mod_fcgid (`flashsale config apache`),
# Apache with mod_proxy_fcgi to the functions under spawn-fcgi (`--functions spawn`) and nginx
# in front of the same (`flashsale config nginx` and `config spawn`), all on one data
# directory, in interleaved rounds. wrk waits up to 10 s for an answer (mod_fcgid holds a
# request that finds every process busy for whole seconds). Connections a host drops are
# counted and shown (wrk's socket errors); an answer other than 200 fails the run. Prints a Markdown section; with
# WRITE=BENCHMARKS.md it replaces the part of that file between its two "make bench hosts"
# markers.
#
# Usage: Tests/Benchmarks/hosts.sh [BIN_DIR]   (make bench passes .build/release)
# Knobs: ROUNDS (3), DURATION (5s), CONNECTIONS (64), THREADS (2).
set -euo pipefail

ROUNDS=${ROUNDS:-3} DURATION=${DURATION:-5s}
source "$(dirname "$0")/common.sh"
note() { echo "$*" >&2; }
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
started=()
# TERM to each leader only (Apache, nginx and multiwatch stop what they started; a TERM to a
# whole group would reach multiwatch's processes before multiwatch knows it is stopping), then
# KILL to whatever is left of the group.
stop_all() {
  for pid in "${started[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${started[@]}"; do
    for _ in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  stop_serve
}
trap stop_all EXIT
start_serve "$project"
"$bin/flashsale" sale create open --data "$data" --root "$project" --title "Open mug" --price 1299 \
  --stock 10000000 --starts-in 0 >/dev/null

# Apache will not run functions as root: as root, the data directory goes to nobody, as it
# would to a service account, and the functions nginx uses run as nobody too, from a copy of
# the executables when nobody cannot reach the build (a checkout under /root).
as_service=() host_bin=$bin
if [ "$(id -u)" = 0 ]; then
  chmod 755 "$work"
  chown -R 65534:65534 "$data"
  as_service=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
  if ! "${as_service[@]}" test -x "$bin/flashsale-noop"; then
    host_bin="$work/bin"
    install -d -m 755 "$host_bin"
    install -m 755 "$bin"/flashsale-* "$host_bin/"
  fi
fi
apache_port=$(free_port) proxy_port=$(free_port) nginx_port=$(free_port)
config() { "$bin/flashsale" config "$@" --data "$data" --root "$project" --bin "$host_bin" >/dev/null; }
config apache --port "$apache_port" --out "$data/apache-fcgid.conf"
config apache --port "$proxy_port" --functions spawn --out "$data/apache-spawn.conf"
config nginx --port "$nginx_port"
config spawn
# Each in its own process group, so stop_all ends it with everything it started.
for name in noop precheck; do
  setsid "${as_service[@]}" "$data/spawn/$name.sh" >>"$work/spawn.log" 2>&1 &
  started+=($!)
done
for conf in apache-fcgid apache-spawn; do
  setsid /usr/sbin/apache2 -f "$data/$conf.conf" -DFOREGROUND >>"$work/$conf.log" 2>&1 &
  started+=($!)
done
setsid /usr/sbin/nginx -c "$data/nginx.conf" -g 'daemon off;' >>"$work/nginx.log" 2>&1 &
started+=($!)

hosts=("lighttpd|$port" "Apache, mod_fcgid|$apache_port" "Apache, mod_proxy_fcgi to spawn-fcgi|$proxy_port"
  "nginx to spawn-fcgi|$nginx_port")
paths=("static file|/robots.txt" "sale page|/s/open/" "noop|/api/noop" "precheck|/api/precheck?sale=open")
for host in "${hosts[@]}"; do
  for entry in "${paths[@]}"; do
    url="http://127.0.0.1:${host#*|}${entry#*|}"
    for _ in $(seq 1 100); do curl -fs -o /dev/null "$url" && break; sleep 0.1; done
    curl -fs -o /dev/null "$url" || { echo "${host%%|*} does not answer $url" >&2; cat "$work"/*.log >&2; exit 1; }
  done
  # mod_fcgid starts processes as requests come: a short crowd first, so every host is measured warm.
  wrk -t"$threads" -c"$connections" -d1s --timeout 10s "http://127.0.0.1:${host#*|}/api/noop" >/dev/null
  wrk -t"$threads" -c"$connections" -d1s --timeout 10s "http://127.0.0.1:${host#*|}/api/precheck?sale=open" >/dev/null
done

declare -A rps p50 p99 dropped
for round in $(seq 1 "$rounds"); do
  for entry in "${paths[@]}"; do
    for host in "${hosts[@]}"; do
      out=$(wrk -t"$threads" -c"$connections" -d"$duration" --timeout 10s --latency \
        "http://127.0.0.1:${host#*|}${entry#*|}" 2>&1)
      if grep -qE "Non-2xx" <<<"$out"; then
        echo "${host%%|*} ${entry#*|} answered otherwise than 200:" >&2; echo "$out" >&2; exit 1
      fi
      read -r r a b < <(awk '/Requests\/sec/ {r = $2}
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; return v * 1000 }
        $1 == "50%" {p50 = ms($2)} $1 == "99%" {p99 = ms($2)}
        END {printf "%s %.2f %.2f\n", r, p50, p99}' <<<"$out")
      key="${host%%|*}|${entry%%|*}"
      rps[$key]+="$r " p50[$key]+="$a " p99[$key]+="$b "
      lost=$(awk '/Socket errors/ {for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) n += $i} END {print n + 0}' <<<"$out")
      dropped[$key]=$(( ${dropped[$key]:-0} + lost ))
      note "round $round ${host%%|*} ${entry%%|*}: $r requests/s"
    done
  done
done

{
  echo "### make bench: hosts — $(date -u +%Y-%m-%d)"
  echo
  echo "Command: \`make bench\` → \`Tests/Benchmarks/hosts.sh .build/release\` (ROUNDS=$rounds DURATION=$duration" \
    "CONNECTIONS=$connections THREADS=$threads, wrk --timeout 10s); $(lighttpd -v | cut -d' ' -f1)," \
    "$(/usr/sbin/apache2 -v | sed -n 's/^Server version: //p') with mod_fcgid $(dpkg-query -W -f='${Version}' libapache2-mod-fcgid)," \
    "$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //'), spawn-fcgi $(dpkg-query -W -f='${Version}' spawn-fcgi) with multiwatch; every host" \
    "on the same data directory with the manifests' process counts, wrk on the same 2-core machine."
  echo "Medians of $rounds interleaved rounds; each figure ÷ lighttpd's on the same path, and each function ÷ the" \
    "same host's static file."
  echo
  echo "| path | host | requests/s | p50 ms | p99 ms | ÷ lighttpd | ÷ its static file | connections dropped, all rounds |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|"
  for entry in "${paths[@]}"; do
    name=${entry%%|*}
    for host in "${hosts[@]}"; do
      host=${host%%|*}
      awk -v n="$name" -v p="${entry#*|}" -v h="$host" -v r="$(med "${rps[$host|$name]}")" \
        -v a="$(med "${p50[$host|$name]}")" -v b="$(med "${p99[$host|$name]}")" \
        -v l="$(med "${rps[lighttpd|$name]}")" -v s="$(med "${rps[$host|static file]}")" \
        -v d="${dropped[$host|$name]:-0}" 'BEGIN {
          own = (n == "static file" || n == "sale page") ? "–" : sprintf("%.2f×", r / s)
          printf "| %s: `GET %s` | %s | %.0f | %.2f | %.2f | %.2f× | %s | %d |\n", n, p, h, r, a, b, r / l, own, d }'
    done
  done
} >"$work/hosts.md"
cat "$work/hosts.md"

if [ -n "${WRITE:-}" ]; then
  write_section "$WRITE" "$work/hosts.md" "make bench hosts"
  note "wrote the section into $WRITE"
fi
