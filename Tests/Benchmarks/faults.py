# The Markdown of Tests/Benchmarks/faults.sh from the answers buyers.lua wrote and the database.
# Usage: python3 faults.py DB WORK LEVELS "LOAD_SALES" "KILLS"
#   LOAD_SALES: the part-1 sales, named load-<pass>-<connections>; KILLS: "<time_us>:<pid> …".
# Exits 1 when a check fails: a 201 without its order, an order without its 201 (beyond one per
# kill), an answer other than 201, the function's 503 `busy` or (around a kill) lighttpd's 503.
import glob
import os
import sqlite3
import sys

db, work, levels = sys.argv[1], sys.argv[2], sys.argv[3].split()
load_sales = sys.argv[4].split()
kills = [tuple(int(v) for v in k.split(":")) for k in sys.argv[5].split()]
conn = sqlite3.connect(db)
failed = False


def check(ok, text):
    global failed
    failed |= not ok
    print(f"- {'✓' if ok else '✗ FAILED:'} {text}")


def pct(values, p):
    values = sorted(values)
    return values[max(0, -(-len(values) * p // 100) - 1)] / 1000 if values else float("nan")


def pcts(values):
    """ "p50 / p99" in ms, or dashes when there are none."""
    return f"{pct(values, 50):.2f} / {pct(values, 99):.2f}" if values else "– / –"


def answers_of(sale):
    answers, sent, retries = [], 0, 0
    for path in glob.glob(os.path.join(work, sale + ".out", "[0-9]*")):
        for line in open(path):
            fields = line.split()
            if line.startswith("#"):
                sent += int(fields[2])
                retries += int(fields[8]) if len(fields) > 8 else 0
            else:
                status, code, user, at, latency = fields
                answers.append((int(status), code, user, int(at), int(latency)))
    return answers, sent, retries


def cpu(sale):
    path = os.path.join(work, sale + ".cpu")
    return " / ".join(open(path).read().split()) if os.path.exists(path) else "-"


def orders_of(sale):
    return {row[0] for row in conn.execute("SELECT user FROM orders WHERE sale = ?", (sale,))}


def label(status, code):
    if code.endswith("-server"):
        return f"{status} lighttpd `{code[:-7]}`"
    return f"{status}" + (f" `{code}`" if code != "-" else "")


# --- Part 1 --------------------------------------------------------------------------------

if load_sales:
    passes = []
    for sale in load_sales:
        name = sale.split("-")[1]
        if name not in passes:
            passes.append(name)
    what = {
        "again": "a refused buyer sends again at once (the worst case: every connection always has a request out)",
        "honour": "a refused buyer waits out Retry-After (1 s) plus up to 250 ms and sends again, as the storefront does",
    }
    print("#### Orders at 64, 256 and 1,024 connections")
    print()
    print("Distinct buyers with a valid identity and order token each, one connection per wrk thread,"
          " a new buyer after each 201; the rate is the 201s ÷ the time from the first request sent to the"
          " last answer. Ratios against the first level of the same pass.")
    print()
    checks = []
    for name in passes:
        print(f"**{name}**: {what.get(name, name)}.")
        print()
        print("| connections | 201/s | 201 p50 / p99 (ms) | 503 `busy`/s | `busy` p50 / p99 (ms) | other answers | 201/s ÷ first | 201 p99 ÷ first | CPU s: wrk / lighttpd / order processes |")
        print("|---:|---:|---:|---:|---:|---|---:|---:|---|")
        first = None
        for level in levels:
            sale = f"load-{name}-{level}"
            if sale not in load_sales:
                continue
            answers, sent, retries = answers_of(sale)
            window = (max(a[3] + a[4] for a in answers) - min(a[3] for a in answers)) / 1e6
            ok = [a for a in answers if a[0] == 201]
            busy = [a for a in answers if a[0] == 503 and a[1] == "busy"]
            others = {}
            for a in answers:
                if a[0] != 201 and a[1] != "busy":
                    others[label(a[0], a[1])] = others.get(label(a[0], a[1]), 0) + 1
            rate, p99 = len(ok) / window, pct([a[4] for a in ok], 99)
            first = first or (rate, p99)
            other_text = ", ".join(f"{k} × {v}" for k, v in sorted(others.items())) or "none"
            print(f"| {level} | {rate:.0f} | {pcts([a[4] for a in ok])} | {len(busy) / window:.0f} | "
                  f"{pcts([a[4] for a in busy])} | {other_text} | "
                  f"{rate / first[0]:.2f} | {p99 / first[1]:.2f} | {cpu(sale)} |")
            users = orders_of(sale)
            ok_users = {a[2] for a in ok}
            checks.append((users == ok_users and len(ok) == len(users),
                           f"{sale}: {len(ok)} 201s, {len(users)} orders in the database, the same users"))
            checks.append((not others, f"{sale}: every answer a 201 or the function's 503 `busy` ({len(answers)} answers)"))
            checks.append((len(answers) == sent + retries,
                           f"{sale}: {sent} buyers and {retries} retries sent, {len(answers)} answered"))
        print()
    for ok, text in checks:
        check(ok, text)
    print()

# --- Part 2 --------------------------------------------------------------------------------

if kills:
    answers, sent, retries = answers_of("kill")
    answers.sort(key=lambda a: a[3] + a[4])
    server = [a for a in answers if a[1].endswith("-server")]
    ok_times = [a[3] + a[4] for a in answers if a[0] == 201]
    print(f"#### A killed order process ({len(kills)} kills with SIGKILL under load)")
    print()
    print("For each kill: the answers lighttpd gave itself (its errorfile: 500 for a request the process took and died with, 503 when no process of the pool was up) from"
          " the kill until the next one, the span from the kill to the last of them, and the longest time"
          " without a 201 in the second after the kill (against the median such gap in the second before"
          " each kill).")
    print()
    print("| kill | lighttpd 5xx | kill → last lighttpd 5xx (ms) | longest gap between 201s after (ms) | before (ms) |")
    print("|---:|---:|---:|---:|---:|")
    spans, counts, after_gaps, before_gaps = [], [], [], []

    def longest_gap(start, end):
        inside = [t for t in ok_times if start <= t < end]
        edges = [start] + inside + [end]
        return max(b - a for a, b in zip(edges, edges[1:])) / 1000

    first_sent = min(a[3] for a in answers)
    last_sent = max(a[3] for a in answers)
    for n, (at, pid) in enumerate(kills):
        until = kills[n + 1][0] if n + 1 < len(kills) else float("inf")
        mine = [a for a in server if at <= a[3] + a[4] < until]
        span = (max(a[3] + a[4] for a in mine) - at) / 1000 if mine else 0.0
        spans.append(span), counts.append(len(mine))
        # The gaps only where the buyers were sending for the whole second on either side.
        if at - 1_000_000 >= first_sent and at + 1_000_000 <= last_sent:
            after, before = longest_gap(at, at + 1_000_000), longest_gap(at - 1_000_000, at)
            after_gaps.append(after), before_gaps.append(before)
            print(f"| {n + 1} | {len(mine)} | {span:.1f} | {after:.1f} | {before:.1f} |")
        else:
            print(f"| {n + 1} | {len(mine)} | {span:.1f} | - | - |")
    def mid(values, digits=1):
        return f"{sorted(values)[len(values) // 2]:.{digits}f}" if values else "-"

    print(f"| median | {mid(counts, 0)} | {mid(spans)} | {mid(after_gaps)} | {mid(before_gaps)} |")
    print(f"| total | {sum(counts)} | | | |")
    print()
    groups = {}
    for a in answers:
        groups.setdefault(label(a[0], a[1]), []).append(a[4])
    print("| answer | count | p50 latency (ms) | p99 latency (ms) |")
    print("|---|---:|---:|---:|")
    for name, latencies in sorted(groups.items(), key=lambda g: -len(g[1])):
        print(f"| {name} | {len(latencies)} | {pct(latencies, 50):.2f} | {pct(latencies, 99):.2f} |")
    print()
    users, ok_users = orders_of("kill"), {a[2] for a in answers if a[0] == 201}
    early = [a for a in server if a[3] + a[4] < kills[0][0]]
    check(ok_users <= users, f"every 201 has its order ({len(ok_users)} 201s, {len(users)} orders)")
    held = [a for a in server if a[0] == 500]
    check(len(users - ok_users) <= len(held),
          f"{len(users - ok_users)} orders without a 201 (committed before their process was killed), no more"
          f" than the requests killed processes held (lighttpd's 500: {len(held)})")
    check(set(groups) <= {"201", "503 `busy`", "500 lighttpd `internal`", "503 lighttpd `busy`"},
          "every answer a 201, the function's 503 `busy` or lighttpd's own 500 or 503: "
          + ", ".join(f"{k} × {len(v)}" for k, v in sorted(groups.items())))
    check(not early, f"no lighttpd 5xx before the first kill ({len(early)})")

sys.exit(1 if failed else 0)
