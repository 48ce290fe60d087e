#!/usr/bin/env bash
# The storefront against its ceilings, in one run: a small static file, the sale page and its
# assets (÷ the static file), the no-op function and sale.js (÷ noop), and sale.js behind a
# CDN-style cache (nginx honouring its Cache-Control: public, max-age=1), interleaved in
# rounds so machine noise falls on all alike. Then the page's weight. Prints a Markdown
# section for BENCHMARKS.md.
#
# Usage: Tests/Benchmarks/storefront.sh [BIN_DIR]   (make bench-topics builds and passes .build/release)
# Knobs: ROUNDS (5), DURATION (5s), CONNECTIONS (64), THREADS (2).
set -euo pipefail

DURATION=${DURATION:-5s}
source "$(dirname "$0")/common.sh"
nginx_pid=""
finish() {
  [ -n "$nginx_pid" ] && kill -TERM "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
  stop_serve
}
trap finish EXIT
start_serve "$project"
# Chosen once lighttpd holds its port, so the two cannot be the same.
cache_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# A sale an hour away: the page's waiting phase, when the crowd loads it and polls sale.js.
"$bin/flashsale" sale create bench --data "$data" --root "$project" --title "Bench mug" --price 1299 \
  --stock 100 --starts-in 3600 >/dev/null

page=/s/bench/
html=$(curl -fsS "$base$page")
mapfile -t assets < <(grep -oE '(src|href)="/assets/[^"]+"' <<<"$html" | sed -E 's/^[a-z]+="//; s/"$//' | sort -u)
script=$(printf '%s\n' "${assets[@]}" | grep -E '\.js$' | head -1)
style=$(printf '%s\n' "${assets[@]}" | grep -E '\.css$' | head -1)
flag="/sale/bench/sale.js?v=1"
# The same bytes as plain files beside the site: the ceiling for a file of each size.
for path in "$page" "$script" "$style"; do
  curl -fsS -o "$data/site/plain-$(basename "$path")" "$base$path"
done
plain() { echo "$base/plain-$(basename "$1")"; }

# nginx's workers run as an unprivileged user: they must reach their cache and temp folders.
mkdir -p "$work/nginx/cache"
chmod 755 "$work"
chmod -R 777 "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes 1;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  proxy_cache_path $work/nginx/cache keys_zone=flag:1m;
  upstream origin { server 127.0.0.1:$port; keepalive 64; }
  server {
    listen 127.0.0.1:$cache_port;
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_cache flag;
      proxy_cache_lock on;
      proxy_cache_use_stale updating;
      proxy_cache_revalidate on;
    }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
nginx_pid=$!
for _ in $(seq 1 100); do curl -fs -o /dev/null "http://127.0.0.1:$cache_port$flag" && break; sleep 0.1; done

names=(static page page_plain script script_plain style style_plain noop flag cached)
declare -A url=(
  [static]="$base/robots.txt" [page]="$base$page" [script]="$base$script" [style]="$base$style"
  [page_plain]="$(plain "$page")" [script_plain]="$(plain "$script")" [style_plain]="$(plain "$style")"
  [noop]="$base/api/noop" [flag]="$base$flag" [cached]="http://127.0.0.1:$cache_port$flag")
declare -A label=(
  [static]="\`/robots.txt\` (small static file)" [page]="\`$page\` (sale page)" [script]="\`$script\`"
  [style]="\`$style\`" [page_plain]="the page's bytes as a plain file" [script_plain]="the script's bytes as a plain file"
  [style_plain]="the stylesheet's bytes as a plain file" [noop]="\`/api/noop\`" [flag]="\`$flag\` (sale-flag function)"
  [cached]="\`$flag\` behind the nginx cache")
# What each path is compared with: a static path with the same bytes as a plain file.
declare -A same=([page]=page_plain [script]=script_plain [style]=style_plain)
for name in "${names[@]}"; do duration=2s measure "${url[$name]}" >/dev/null; done

declare -A rps p99
for round in $(seq 1 "$rounds"); do
  for name in "${names[@]}"; do
    read -r r p _ < <(measure "${url[$name]}")
    rps[$name]+="$r "
    p99[$name]+="$p "
    echo "round $round $name: $r req/s, p99 $p ms" >&2
  done
done

static=$(med "${rps[static]}")
noop=$(med "${rps[noop]}")
echo "### Storefront — $(date -u +%Y-%m-%d), $(nproc) cores, $(lighttpd -v | cut -d' ' -f1), $(nginx -v 2>&1 | sed 's/.*: //')"
echo
echo "\`make bench-topics\` → \`Tests/Benchmarks/storefront.sh\` (ROUNDS=$rounds DURATION=$duration CONNECTIONS=$connections THREADS=$threads; wrk on the same machine; medians of $rounds interleaved rounds; a sale an hour from opening)"
echo
echo "| path | requests/s | p99 latency (ms) | ÷ small static file | ÷ same bytes as a plain file | ÷ noop |"
echo "|---|---:|---:|---:|---:|---:|"
for name in "${names[@]}"; do
  twin=""
  [ -n "${same[$name]:-}" ] && twin=$(med "${rps[${same[$name]}]}")
  awk -v l="${label[$name]}" -v r="$(med "${rps[$name]}")" -v p="$(med "${p99[$name]}")" -v s="$static" \
    -v n="$noop" -v t="$twin" \
    'BEGIN {printf "| %s | %.0f | %.2f | %.2f | %s | %.2f |\n", l, r, p, r / s, t == "" ? "" : sprintf("%.2f", r / t), r / n}'
done
echo
echo "Page weight (what a buyer downloads before any image; lighttpd sends it uncompressed, a CDN usually gzips):"
echo
echo "| file | bytes | gzip -9 |"
echo "|---|---:|---:|"
total=0
total_gz=0
for path in "$page" "${assets[@]}"; do
  bytes=$(curl -fsS "$base$path" | wc -c)
  gz=$(curl -fsS "$base$path" | gzip -9 | wc -c)
  total=$((total + bytes))
  total_gz=$((total_gz + gz))
  echo "| \`$path\` | $bytes | $gz |"
done
echo "| **whole page** | **$total** | **$total_gz** |"
