#!/usr/bin/env bash
# The anti-abuse checks at full strength: `token` for a sale with every check on (a per-address
# rate, a minimum level, a question captcha and a proof of work), each request a new buyer
# from a new address (through a trusted proxy) with a fresh pass and solution; and
# `captcha/verify`, each request a fresh challenge; `token` for a sale with no checks; and the
# image and question challenges. All beside `noop`, in one run. Identities,
# passes, challenges and solutions are made by the script with the data directory's keys, as
# the main site, the captcha function and a browser would. Prints a Markdown section.
#
# Usage: Tests/Benchmarks/checks.sh [BIN_DIR]   (make bench-topics builds and passes .build/release)
# Knobs: DURATION (10s), CONNECTIONS (64), THREADS (2), BUYERS per measured path (120000).
set -euo pipefail

source "$(dirname "$0")/common.sh"
buyers=${BUYERS:-120000}

# A project copy whose token and captcha functions trust 127.0.0.1 as a proxy, so that each
# request's X-Forwarded-For is its own client address.
root="$work/root"
mkdir -p "$root/lighttpd"
ln -s "$project/lighttpd/lighttpd.conf" "$root/lighttpd/lighttpd.conf"
cp -r "$project/lighttpd/static" "$root/lighttpd/static"
cp -r "$project/functions" "$root/functions"
for name in token captcha; do
  python3 -c 'import json, sys
path = sys.argv[1]
manifest = json.load(open(path))
manifest.setdefault("environment", {})["FLASHSALE_TRUSTED_PROXIES"] = "127.0.0.1"
json.dump(manifest, open(path, "w"), indent=2)' "$root/functions/$name/function.json"
done
trap stop_serve EXIT
start_serve "$root"
"$bin/flashsale" sale create checks --data "$data" --root "$root" --title Checks --price 100 --stock 5000000 \
  --starts-in 0 --per-ip-rate 5 --min-level 1 --captcha question --question "Two and two?" --answer four \
  --pow 4 >/dev/null
"$bin/flashsale" sale create image --data "$data" --root "$root" --title Image --price 100 --stock 10 \
  --starts-in 0 --captcha image >/dev/null
"$bin/flashsale" sale create question --data "$data" --root "$root" --title Question --price 100 --stock 10 \
  --starts-in 0 --captcha question --question "Two and two?" --answer four >/dev/null
"$bin/flashsale" sale create plain --data "$data" --root "$root" --title Plain --price 100 --stock 5000000 \
  --starts-in 0 >/dev/null

# mint.py KIND COUNT FOLDER: one line per request, split into one file per wrk thread. Token
# lines get their proof of work last (`mint.py solve FOLDER`), just before they are sent: a
# nonce is accepted for 15 to 30 s.
cat >"$work/mint.py" <<'PY'
import base64, hashlib, hmac, json, os, secrets, sys, time

import jwt  # PyJWT

data, threads = os.environ["FLASHSALE_DATA"], int(os.environ["THREADS"])
kind = sys.argv[1]
if kind == "solve":
    nonce, folder = os.environ["NONCE"], sys.argv[2]
    for name in os.listdir(folder):
        path = os.path.join(folder, name)
        lines = []
        for line in open(path):
            identity, address, body = line.rstrip("\n").split("\t")
            request = json.loads(body)
            first = secrets.randbits(48)  # as the page's worker does: nobody else's solution
            counter = next(c for c in range(first, first + (1 << 20))
                           if hashlib.sha256(("%s:%d" % (nonce, c)).encode()).digest()[0] < 16)
            request["pow"] = {"nonce": nonce, "counter": str(counter)}
            lines.append("%s\t%s\t%s\n" % (identity, address, json.dumps(request)))
        open(path, "w").writelines(lines)
    sys.exit(0)
count, folder = int(sys.argv[2]), sys.argv[3]


def key(name):
    raw = open(os.path.join(data, name), "rb").read()
    return raw[:-1] if raw.endswith(b"\n") else raw


def subkey(purpose):  # HKDF-SHA256 (RFC 5869) with no salt, as the functions derive theirs
    prk = hmac.new(bytes(32), secret, hashlib.sha256).digest()
    return hmac.new(prk, ("flashsale " + purpose).encode() + b"\x01", hashlib.sha256).digest()


identity_key, secret = key("identity.key"), key("secret.key")
answer_key = subkey("answer digest")
exp = int(time.time()) + 300
os.makedirs(folder)
outs = [open(os.path.join(folder, str(i)), "w") for i in range(threads)]
for n in range(count):
    user = "buyer-%07d" % n
    identity = jwt.encode({"sub": user, "exp": exp, "level": 1}, identity_key, algorithm="HS256")
    # A /24 of its own too (the network is rated at 16 x the address's rate): the low bits first.
    address = "10.%d.%d.%d" % (n >> 8 & 255, n & 255, n >> 16 & 255)
    if kind == "plain":
        body = json.dumps({"sale": "plain"})
    elif kind == "token":
        passed = jwt.encode({"sub": user, "sale": "checks", "kind": "pass", "jti": secrets.token_hex(12),
                             "exp": int(time.time()) + 60}, secret, algorithm="HS256")
        body = json.dumps({"sale": "checks", "pass": passed})
    else:
        challenge_id = secrets.token_hex(12)
        digest = base64.b64encode(hmac.new(answer_key, (challenge_id + "\nfour").encode(), hashlib.sha256).digest())
        challenge = jwt.encode({"sub": user, "sale": "checks", "kind": "challenge", "jti": challenge_id,
                                "exp": int(time.time()) + 60, "digest": digest.decode()}, secret, algorithm="HS256")
        body = json.dumps({"challenge": challenge, "answer": "four"})
    outs[n % threads].write("%s\t%s\t%s\n" % (identity, address, body))
for out in outs:
    out.close()
PY


# Runs the lines of $1 against path $2 (over and over with $3 = cycle): "answers-200/s p99-ms refused".
run() {
  local out
  out=$(wrk -t"$threads" -c"$connections" -d"$duration" --latency -s "$(dirname "$0")/lines.lua" "$base$2" "$1" ${3:-})
  read -r _ ok refused seconds _ p99 codes < <(grep '^RESULT' <<<"$out")
  if [ "$refused" -ne 0 ]; then echo "refused on $2: $refused ($codes)" >&2; exit 1; fi
  awk -v ok="$ok" -v s="$seconds" -v p="$p99" -v r="$refused" 'BEGIN {printf "%.0f %.2f %d %d\n", ok / s, p, ok, r}'
}
noop() {
  wrk -t"$threads" -c"$connections" -d"$duration" --latency "$base/api/noop" \
    | awk '/Requests\/sec/ {r = $2} $1 == "99%" {v = $2; if (v ~ /us$/) p = v / 1000; else if (v ~ /ms$/) p = v + 0; else p = v * 1000} END {printf "%s %.2f\n", r, p}'
}

mint() { FLASHSALE_DATA="$data" THREADS="$threads" python3 "$work/mint.py" "$@"; }
echo "minting $buyers token requests and $buyers answers" >&2
mint token "$buyers" "$work/token"
nonce=$(curl -fsS "$base/api/captcha/pow?sale=checks" | python3 -c 'import json, sys; print(json.load(sys.stdin)["nonce"])')
NONCE="$nonce" mint solve "$work/token"
read -r token_rps token_p99 token_ok _ < <(run "$work/token" /api/token)
mint plain "$buyers" "$work/plain"
read -r plain_rps plain_p99 _ < <(run "$work/plain" /api/token)
read -r noop_rps noop_p99 < <(noop)
# The same requests (headers and body) to noop: the yardstick that costs wrk and lighttpd the same.
read -r same_rps same_p99 _ < <(run "$work/token" /api/noop cycle)
mint verify "$buyers" "$work/verify"
read -r verify_rps verify_p99 verify_ok _ < <(run "$work/verify" /api/captcha/verify)
# Challenges, `GET /api/captcha?sale=…`, a new buyer each (one account gets two a second;
# the sales have no address rate).
read -r image_rps image_p99 _ < <(run "$work/plain" "/api/captcha?sale=image" get)
read -r question_rps question_p99 _ < <(run "$work/plain" "/api/captcha?sale=question" get)

echo "### Every check on — $(date -u +%Y-%m-%d), $(nproc) cores, $(lighttpd -v | cut -d' ' -f1)"
echo
echo "\`Tests/Benchmarks/checks.sh\` (DURATION=$duration CONNECTIONS=$connections THREADS=$threads; wrk on the same machine; one run each)"
echo
echo "| request | answered 200 per second | p99 latency (ms) | ÷ noop |"
echo "|---|---:|---:|---:|"
awk -v r="$token_rps" -v p="$token_p99" -v n="$noop_rps" 'BEGIN {printf "| `POST /api/token`: rate, proof of work, level, account lease, captcha pass (%s) | %.0f | %.2f | %.2f |\n", "new buyer, address, pass and solution each", r, p, r / n}'
awk -v r="$plain_rps" -v p="$plain_p99" -v n="$noop_rps" 'BEGIN {printf "| `POST /api/token` for a sale with no checks (new buyer each) | %.0f | %.2f | %.2f |\n", r, p, r / n}'
awk -v r="$noop_rps" -v p="$noop_p99" 'BEGIN {printf "| `GET /api/noop` | %.0f | %.2f | 1.00 |\n", r, p}'
awk -v r="$same_rps" -v p="$same_p99" -v n="$noop_rps" 'BEGIN {printf "| `POST /api/noop` with the token requests (same headers and body) | %.0f | %.2f | %.2f |\n", r, p, r / n}'
awk -v r="$verify_rps" -v p="$verify_p99" -v n="$noop_rps" 'BEGIN {printf "| `POST /api/captcha/verify` (a fresh challenge each) | %.0f | %.2f | %.2f |\n", r, p, r / n}'
awk -v r="$image_rps" -v p="$image_p99" -v n="$noop_rps" 'BEGIN {printf "| `GET /api/captcha?sale=…`: an image challenge | %.0f | %.2f | %.2f |\n", r, p, r / n}'
awk -v r="$question_rps" -v p="$question_p99" -v n="$noop_rps" 'BEGIN {printf "| `GET /api/captcha?sale=…`: a question challenge | %.0f | %.2f | %.2f |\n", r, p, r / n}'
echo
echo "$token_ok tokens and $verify_ok passes issued, every answer a 200 (the script fails on any other)."
